#!/usr/bin/env bash
# Fill .wheels/ with what the device check (python -m benchmarks.gpu_check) installs on a GPU
# machine that reaches no registry. That machine has torch, torchvision, numpy, Pillow,
# opencv-python-headless, pandas, matplotlib, scipy, jinja2, filelock, psutil and tqdm; the check
# adds PyNvVideoCodec (NVDEC) and PyAV (the reference decoder and the probe). imageio-ffmpeg
# (68 MB) is left out: carried with the working tree, wheels and videos must stay under 64 MiB;
# the check then extracts stores with PyAV.
#
#   benchmarks/gpu_wheels.sh                 # for CPython 3.12 on manylinux x86_64
#   PYTHON_VERSION=3.11 benchmarks/gpu_wheels.sh /tmp/wheels
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${1:-.wheels}"
PYTHON_VERSION="${PYTHON_VERSION:-3.12}"   # the GPU machine's Python
PIP="${PIP:-python3 -m pip}"
# Pinned as in pyproject.toml (PyNvVideoCodec: the registry's, see DESIGN.md).
PACKAGES=(PyNvVideoCodec==2.2.4 av==18.1.0)
mkdir -p "$DEST"
# --no-deps: each package is listed; pip download would otherwise fetch numpy again.
$PIP download --only-binary=:all: --no-deps --python-version "$PYTHON_VERSION" --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    --dest "$DEST" "${PACKAGES[@]}"
du -ch "$DEST"/*.whl | tail -1
