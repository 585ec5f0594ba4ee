#!/usr/bin/env bash
# Fill .wheels/ with what the device check (python -m benchmarks.gpu_check) installs on a GPU
# machine that reaches no registry. That machine has torch, torchvision, numpy, Pillow and
# opencv-python-headless; the check adds PyNvVideoCodec (NVDEC), PyAV (the reference decoder and
# the probe) and the core's small pure-Python or abi3 dependencies. pandas, matplotlib and scipy
# (the HTML report) and imageio-ffmpeg (68 MB) are left out: carried with the working tree,
# wheels and videos must stay under 64 MiB; the check then writes its summary without the report
# and extracts stores with PyAV.
#
#   benchmarks/gpu_wheels.sh                 # for CPython 3.12 on manylinux x86_64
#   PYTHON_VERSION=3.11 benchmarks/gpu_wheels.sh /tmp/wheels
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${1:-.wheels}"
PYTHON_VERSION="${PYTHON_VERSION:-3.12}"   # the GPU machine's Python
PIP="${PIP:-python3 -m pip}"
# Pinned as in pyproject.toml (PyNvVideoCodec: the registry's, see DESIGN.md).
PACKAGES=(PyNvVideoCodec==2.2.4 av==18.1.0 filelock==4.2.12 psutil==7.2.2 "tqdm>=4.66")
mkdir -p "$DEST"
# --no-deps: each package is listed; pip download would otherwise fetch numpy again.
$PIP download --only-binary=:all: --no-deps --python-version "$PYTHON_VERSION" --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    --dest "$DEST" "${PACKAGES[@]}"
du -ch "$DEST"/*.whl | tail -1
