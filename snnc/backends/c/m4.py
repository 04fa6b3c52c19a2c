"""A bare-metal Cortex-M4 image of an emitted model, run under QEMU's MPS2-AN386 board.

``write_m4_project(art, inputs)`` adds to a C backend output directory:

* ``inputs.c``: the step inputs as ``const`` arrays (there is no file system on the board);
* ``m4_main.c``: runs ``model_step`` over them and prints every output per step through
  ARM semihosting (``SYS_WRITE0``), then exits through ``SYS_EXIT`` (``bkpt 0xab``);
* ``startup.c``: a 16-entry vector table (initial SP, reset handler, 14 fault/system
  handlers that spin), the reset handler copies ``.data`` and clears ``.bss``;
* ``m4.ld``: code memory 4 MiB at ``0x00000000``, data memory 4 MiB at ``0x20000000``
  (the AN386 map); the stack grows down from the top of data memory;
* ``Makefile.m4``: ``make -f Makefile.m4`` builds ``model.elf`` with ``arm-none-eabi-gcc
  -mcpu=cortex-m4 -mthumb`` (newlib only for ``memset``/``memmove``, libgcc for 64-bit helpers).

``run_m4(out_dir)`` builds it, runs ``qemu-system-arm -M mps2-an386 -semihosting`` and
returns the printed lines; ``m4_size(out_dir)`` reads ``arm-none-eabi-size``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from ...ir.diagnostics import error
from .emit import CArtifact

STARTUP = r"""/* Cortex-M4 startup for snnc images: vector table, .data copy, .bss clear. */
#include <stdint.h>
extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void Default_Handler(void) { for (;;) { } }
__attribute__((section(".isr_vector"), used))
void (*const snnc_vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0,
    Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,
};
void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; dst++) *dst = 0;
    main();
    for (;;) { }
}
"""

LINKER = """/* MPS2-AN386: 4 MiB code memory at 0x0, 4 MiB data memory at 0x20000000. */
MEMORY {
  FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 4M
  RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 4M
}
ENTRY(Reset_Handler)
SECTIONS {
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { . = ALIGN(4); _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { . = ALIGN(4); _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
  _estack = ORIGIN(RAM) + LENGTH(RAM);
}
"""

MAKEFILE = """ARMCC ?= arm-none-eabi-gcc
ARMFLAGS ?= -mcpu=cortex-m4 -mthumb -std=c99 -O2 -Wall -Wextra -Werror -ffunction-sections -fdata-sections

model.elf: startup.c m4_main.c model.c inputs.c model.h m4.ld
\t$(ARMCC) $(ARMFLAGS) -nostartfiles -T m4.ld -Wl,--gc-sections -o $@ startup.c m4_main.c model.c inputs.c -lc -lgcc

clean:
\trm -f model.elf

.PHONY: clean
"""


def _main(art: CArtifact, T: int) -> str:
    args = [f"snnc_in{i}[t]" for i in range(len(art.inputs))] + [f"out{i}" for i in range(len(art.outputs))]
    lines = [
        "/* Runs the model over the compiled-in inputs; prints outputs through ARM semihosting. */",
        "#include <stdint.h>", '#include "model.h"', "",
        f"#define SNNC_T {T}",
        *[f"extern const int32_t snnc_in{i}[SNNC_T][{max(n, 1)}];" for i, (_, n) in enumerate(art.inputs)],
        "static model_state_t state;",
        *[f"static int32_t out{i}[{max(n, 1)}];" for i, (_, n) in enumerate(art.outputs)],
        f"static char line[{max([n for _, n in art.outputs] + [1]) * 13 + 2}];",
        "",
        "static int semihost(int op, const void *arg) {",
        "    register int r0 __asm__(\"r0\") = op;",
        "    register const void *r1 __asm__(\"r1\") = arg;",
        "    __asm__ volatile(\"bkpt 0xab\" : \"+r\"(r0) : \"r\"(r1) : \"memory\");",
        "    return r0;",
        "}",
        "",
        "static char *put_int(char *p, long v) {",
        "    char tmp[24]; int n = 0; unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;",
        "    if (v < 0) *p++ = '-';",
        "    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);",
        "    while (n) *p++ = tmp[--n];",
        "    return p;",
        "}",
        "",
        "static void print_row(const int32_t *x, int n) {",
        "    char *p = line; int k;",
        "    for (k = 0; k < n; k++) { if (k) *p++ = ' '; p = put_int(p, x[k]); }",
        "    *p++ = '\\n'; *p = 0;",
        "    semihost(0x04, line); /* SYS_WRITE0 */",
        "}",
        "",
        "int main(void) {",
        "    int t;",
        "    model_reset(&state);",
        "    for (t = 0; t < SNNC_T; t++) {",
        f"        model_step(&state{''.join(', ' + a for a in args)});",
        *[f"        print_row(out{i}, {n});" for i, (_, n) in enumerate(art.outputs)],
        "    }",
        "    semihost(0x18, (const void *)0x20026); /* SYS_EXIT, ADP_Stopped_ApplicationExit */",
        "    return 0;",
        "}",
        "",
    ]
    return "\n".join(lines)


def _inputs_c(inputs: list[np.ndarray]) -> str:
    T = inputs[0].shape[0] if inputs else 0
    parts = ["/* Step inputs for the Cortex-M4 image (generated by snnc check). */", "#include <stdint.h>", ""]
    for i, x in enumerate(inputs):
        x = np.asarray(x, dtype=np.int64).reshape(T, -1)
        rows = ",\n    ".join("{" + ", ".join(str(int(v)) for v in row) + "}" for row in x)
        parts.append(f"const int32_t snnc_in{i}[{T}][{max(x.shape[1], 1)}] = {{\n    {rows}\n}};")
    return "\n".join(parts) + "\n"


def write_m4_project(art: CArtifact, inputs: list[np.ndarray]) -> None:
    out = art.out_dir
    T = inputs[0].shape[0] if inputs else 0
    (out / "startup.c").write_text(STARTUP)
    (out / "m4.ld").write_text(LINKER)
    (out / "Makefile.m4").write_text(MAKEFILE)
    (out / "m4_main.c").write_text(_main(art, T))
    (out / "inputs.c").write_text(_inputs_c(inputs))


def tools_available() -> list[str]:
    """The missing tools of the Cortex-M4 check (empty when all are there)."""
    return [t for t in ("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm", "make") if shutil.which(t) is None]


def build_m4(out_dir: Path) -> None:
    r = subprocess.run(["make", "-s", "-f", "Makefile.m4", "-C", str(out_dir)], capture_output=True, text=True)
    if r.returncode != 0:
        raise error(f"arm-none-eabi-gcc failed:\n{r.stdout}{r.stderr}")


def run_m4(out_dir: Path, timeout: float = 300.0) -> list[str]:
    """Run model.elf under QEMU (MPS2-AN386, semihosting); the printed lines."""
    log = Path(out_dir) / "m4_output.txt"
    log.unlink(missing_ok=True)
    # semihosting output goes to a file chardev: QEMU sends it to stdout or stderr depending on the terminal
    cmd = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
           "-chardev", f"file,id=semi,path={log}", "-semihosting-config", "enable=on,target=native,chardev=semi",
           "-kernel", str(Path(out_dir) / "model.elf")]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise error(f"the Cortex-M4 image did not exit within {timeout:.0f} s under QEMU") from None
    if r.returncode != 0:
        raise error(f"qemu-system-arm exited with {r.returncode}: {r.stderr.strip()}")
    return log.read_text().splitlines() if log.exists() else []


def m4_size(out_dir: Path) -> dict[str, int]:
    """text / data / bss of model.elf (arm-none-eabi-size, Berkeley format)."""
    r = subprocess.run(["arm-none-eabi-size", str(Path(out_dir) / "model.elf")], capture_output=True, text=True)
    if r.returncode != 0:
        raise error(f"arm-none-eabi-size failed: {r.stderr.strip()}")
    fields = r.stdout.splitlines()[1].split()
    text, data, bss = (int(v) for v in fields[:3])
    return {"text": text, "data": data, "bss": bss, "flash": text + data, "ram": data + bss}
