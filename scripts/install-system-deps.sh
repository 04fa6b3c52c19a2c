#!/usr/bin/env bash
# Debian packages the backends and their checks use: the Cortex-M toolchain and its
# emulator (C backend), Icarus Verilog, Verilator and Yosys (RTL backend), valgrind.
set -euo pipefail
PKGS="gcc make gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm iverilog verilator yosys valgrind"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
