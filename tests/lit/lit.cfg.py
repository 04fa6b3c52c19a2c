# lit configuration for snnc's IR tests: every *.mlir under tests/lit is a ShTest whose
# `// RUN:` lines call the `snnc` CLI and `filecheck` (both from the project's .venv).
# Run with `.venv/bin/lit tests/lit` (tests/test_lit.py does this from pytest).

import os
import shutil

import lit.formats

config.name = "snnc"  # noqa: F821 (lit injects `config`)
config.test_format = lit.formats.ShTest(execute_external=False)  # noqa: F821
config.suffixes = [".mlir"]  # noqa: F821
config.test_source_root = os.path.dirname(__file__)  # noqa: F821
config.test_exec_root = os.path.join(  # noqa: F821
    os.environ.get("SNNC_LIT_EXEC_ROOT", os.path.join(os.path.dirname(__file__), "..", "..", "build", "lit"))
)
config.excludes = ["lit.cfg.py", "Inputs"]  # noqa: F821

_repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_venv_bin = os.path.join(_repo, ".venv", "bin")
_path = os.environ.get("PATH", "")
if os.path.isdir(_venv_bin):
    _path = _venv_bin + os.pathsep + _path
config.environment["PATH"] = _path  # noqa: F821
for _var in ("HOME", "TMPDIR", "PYTHONPATH", "SNNC_DISABLE_COLOR"):
    if _var in os.environ:
        config.environment[_var] = os.environ[_var]  # noqa: F821
config.environment["NO_COLOR"] = "1"  # noqa: F821
config.environment["COLUMNS"] = "200"  # noqa: F821

_snnc = shutil.which("snnc", path=_path) or "snnc"
_filecheck = shutil.which("filecheck", path=_path) or "filecheck"
config.substitutions.append(("%snnc", _snnc))  # noqa: F821
config.substitutions.append(("%filecheck", _filecheck))  # noqa: F821
