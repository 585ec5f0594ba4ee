"""Shared fixtures: the tiny corpus and reference decodes.

A test that needs an optional library or tool calls ``require_loader(name)`` or
``skip_or_fail(reason)``: it is skipped with the reason when the thing is missing, and fails
instead when VIDBENCH_REQUIRE_ALL=1, so CI can never silently test less than it should.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import loaders
from benchmarks import corpus
from loaders import reference
from loaders.reference import Reference

REQUIRE_ALL = os.environ.get("VIDBENCH_REQUIRE_ALL") == "1"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests' own ``VIDBENCH_CACHE_DIR`` (probes, stores of --videos, clips), for the whole session and
    every process a test starts: the user's cache (``~/.cache/vidbench``, or theirs) is never touched;
    and ``VIDBENCH_LOAD=0``, so a budget cuts a run the same on a busy machine."""
    cache = tmp_path_factory.mktemp("vidbench-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("VIDBENCH_CACHE_DIR", str(cache))
    # A quiet machine for the run's estimate, whatever the load: what a budget cuts stays the same.
    mp.setenv("VIDBENCH_LOAD", "0")
    yield cache
    mp.undo()


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"VIDBENCH_REQUIRE_ALL=1 and {reason}", pytrace=False)
    pytest.skip(reason)


def require_loader(name: str) -> None:
    """Skip unless ``name`` can run here; fail instead (VIDBENCH_REQUIRE_ALL=1) when this stack should
    have it. A loader another stack holds by design (decord in the torchvision stack) only skips, and so
    does a GPU loader: no stack must have a CUDA device."""
    reason = loaders.available().get(name, "not registered")
    if reason is None:
        return
    entry = loaders.REGISTRY.get(name)
    if entry is not None and entry.gpu:
        pytest.skip(f"GPU loader {name!r} unavailable (exempt from VIDBENCH_REQUIRE_ALL): {reason}")
    stack = loaders.current_stack()
    if name not in loaders.STACKS.get(stack, loaders.REGISTRY):
        pytest.skip(f"loader {name!r} is not part of the {stack} stack: {reason}")
    skip_or_fail(f"loader {name!r} unavailable: {reason}")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return Path(os.environ.get("VIDBENCH_CORPUS_DIR", corpus.DEFAULT_CACHE))


@pytest.fixture(scope="session")
def tiny_videos(corpus_dir: Path) -> dict[str, Path]:
    return corpus.make_all(corpus.TINY, corpus_dir, jobs=2)


@pytest.fixture(scope="session")
def references(tiny_videos: dict[str, Path]) -> dict[str, Reference]:
    """Every frame of every tiny profile, decoded once, sequentially, by the reference decoder."""
    return {name: reference.decode(path) for name, path in tiny_videos.items()}


def write_bad(kind: str, folder: Path, videos: dict[str, Path]) -> Path:
    """Make one kind of bad file from the tiny corpus."""
    mp4 = videos["tiny-h264-bframes"].read_bytes()
    rng = np.random.default_rng(7)
    out = folder / f"{kind}.mp4"
    if kind == "missing":
        return folder / "does-not-exist.mp4"
    if kind == "empty":
        out.write_bytes(b"")
    elif kind == "text":
        out.write_text("this is a text file, not a video\n" * 40)
    elif kind == "half":  # moov atom at the end: cut, it is gone
        out.write_bytes(mp4[: len(mp4) // 2])
    elif kind == "half-faststart":  # moov atom first: the index promises frames that are not there
        fast = folder / "faststart.mp4"
        subprocess.run(
            [
                corpus.ffmpeg_exe(),
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(videos["tiny-h264-bframes"]),
                "-c",
                "copy",
                "-movflags",
                "+faststart",
                str(fast),
            ],
            check=True,
        )
        data = fast.read_bytes()
        out.write_bytes(data[: len(data) // 2])
    elif kind == "half-mkv":  # Matroska stores no frame count: only the duration tells
        data = videos["tiny-h264-offset-vfr"].read_bytes()
        out = folder / "half.mkv"
        out.write_bytes(data[: len(data) // 2])
    elif kind == "garbage":
        data = bytearray(mp4)
        middle = len(data) // 2
        data[middle : middle + 4096] = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
        out.write_bytes(bytes(data))
    else:
        raise ValueError(kind)
    return out
