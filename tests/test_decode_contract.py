"""The contract every decode loader of this stack keeps, checked against the reference decode.

Each loader reads the tiny corpus (B-frames, a keyframe interval longer than the video, a size
that is not a multiple of 16, a stream starting at 1.5 s with a variable frame rate, HEVC, VP9,
AV1) and must return exactly the frames PyAV's sequential decode gives, whatever the order of
the request. Bad input must end in a LoaderError, in a subprocess with a time limit because a
library may crash on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require_loader, write_bad

import loaders
from benchmarks import corpus
from loaders.reference import Reference

STACK = loaders.current_stack()
DECODE = [n for n in loaders.STACKS[STACK] if loaders.REGISTRY[n].kind == "decode"]

# (loader, profile) pairs a loader's library cannot decode here; opening must say so.
UNSUPPORTED: dict[tuple[str, str], str] = {
    ("cv2-seek", "tiny-av1"): "opencv-python-headless's FFmpeg build has no AV1 decoder",
    ("cv2-grab", "tiny-av1"): "opencv-python-headless's FFmpeg build has no AV1 decoder",
}

# Loaders whose colour conversion truly differs from PyAV's: the largest mean absolute
# difference allowed, with the reason. A frame within tolerance must still be the right index.
TOLERANCE: dict[str, tuple[float, str]] = {}


def request(num_frames: int, seed: int) -> list[int]:
    """Seeded random indices, unsorted, with repeats, plus the first and the last frame."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num_frames, size=24).tolist()
    return [num_frames - 1, *idx, 0, idx[3], idx[3], num_frames - 1]


def assert_frames(name: str, got: np.ndarray, ref: Reference, indices: list[int]) -> None:
    assert got.dtype == np.uint8
    assert got.shape == (len(indices), ref.height, ref.width, 3)
    expected = ref.stack(indices)
    if name not in TOLERANCE:
        for slot, index in enumerate(indices):
            if not np.array_equal(got[slot], expected[slot]):
                diff = np.abs(got[slot].astype(int) - expected[slot]).mean()
                raise AssertionError(f"{name}: slot {slot} (frame {index}) differs, mean abs diff {diff:.3f}")
        return
    limit, _reason = TOLERANCE[name]
    every = np.stack([ref.frames[i] for i in range(ref.num_frames)]).astype(np.int16)
    for slot, index in enumerate(indices):
        diffs = np.abs(every - got[slot]).mean(axis=(1, 2, 3))
        assert int(np.argmin(diffs)) == index, f"{name}: slot {slot} holds frame {int(np.argmin(diffs))}, not {index}"
        assert diffs[index] <= limit


@pytest.fixture(params=DECODE)
def loader(request: pytest.FixtureRequest) -> str:
    require_loader(request.param)
    return str(request.param)


@pytest.mark.parametrize("profile", corpus.TINY)
def test_frames_match_reference(
    loader: str, profile: str, tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    path = tiny_videos[profile]
    if (loader, profile) in UNSUPPORTED:
        with pytest.raises(loaders.UnsupportedCodec, match=str(path)):
            loaders.open(loader, path)
        return
    ref = references[profile]
    with loaders.open(loader, path) as src:
        assert src.kind == "decode"
        assert (src.num_frames, src.width, src.height) == (ref.num_frames, ref.width, ref.height)
        assert src.fps == pytest.approx(ref.fps, rel=0.01)
        indices = request(ref.num_frames, seed=sum(map(ord, loader + profile)))
        assert_frames(loader, src.get_frames(indices), ref, indices)
        # Then a clip forwards and the same clip backwards, from a source that has moved on.
        clip = list(range(ref.num_frames // 2 - 8, ref.num_frames // 2 + 8))
        assert_frames(loader, src.get_frames(clip), ref, clip)
        assert_frames(loader, src.get_frames(clip[::-1]), ref, clip[::-1])


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_settings_keep_frames_exact(
    loader: str, threads: int, tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    ref = references["tiny-h264-bframes"]
    with loaders.open(loader, tiny_videos["tiny-h264-bframes"], threads=threads) as src:
        indices = request(ref.num_frames, seed=threads)
        assert_frames(loader, src.get_frames(indices), ref, indices)


def test_index_out_of_range_raises_and_leaves_the_source_usable(
    loader: str, tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    path = tiny_videos["tiny-h264-bframes"]
    ref = references["tiny-h264-bframes"]
    with loaders.open(loader, path) as src:
        for bad in ([ref.num_frames], [-1], [0, 3, ref.num_frames + 10]):
            with pytest.raises(loaders.FrameIndexError, match="out of range") as info:
                src.get_frames(bad)
            assert isinstance(info.value, IndexError) and str(path) in str(info.value)
        with pytest.raises(loaders.FrameIndexError):
            src.get_frames(np.array([1.5]))
        assert src.get_frames([]).shape == (0, ref.height, ref.width, 3)
        assert_frames(loader, src.get_frames([2, 1]), ref, [2, 1])


def test_close_is_idempotent(loader: str, tiny_videos: dict[str, Path]) -> None:
    src = loaders.open(loader, tiny_videos["tiny-h264-odd"])
    src.close()
    src.close()


# --- bad input -------------------------------------------------------------------------------


BAD = ["missing", "empty", "text", "half", "half-faststart", "half-mkv", "garbage"]

_PROBE = """
import json, sys
import loaders
name, path = sys.argv[1], sys.argv[2]
try:
    with loaders.open(name, path) as src:
        frames = src.get_frames(range(src.num_frames))
    print(json.dumps({"outcome": "frames", "count": int(frames.shape[0])}))
except loaders.LoaderError as exc:
    print(json.dumps({"outcome": "error", "type": type(exc).__name__, "message": str(exc)}))
"""


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_ends_in_loader_error(loader: str, kind: str, tmp_path: Path, tiny_videos: dict[str, Path]) -> None:
    path = write_bad(kind, tmp_path, tiny_videos)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    try:
        run = subprocess.run(
            [sys.executable, "-c", _PROBE, loader, str(path)], capture_output=True, text=True, timeout=60, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{loader} hung on a {kind} file")
    assert run.returncode == 0, f"{loader} crashed on a {kind} file (exit {run.returncode}): {run.stderr[-800:]}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "error", f"{loader} read {result.get('count')} frames from a {kind} file"
    assert str(path) in result["message"]
    expected = "VideoNotFound" if kind == "missing" else "CorruptVideo"
    assert result["type"] == expected, result


# --- registry --------------------------------------------------------------------------------


def test_every_loader_of_this_stack_is_available() -> None:
    for name in loaders.STACKS[STACK]:
        require_loader(name)


def test_unknown_loader_is_a_loader_error(tiny_videos: dict[str, Path]) -> None:
    with pytest.raises(loaders.BackendUnavailable, match="unknown loader 'nope'"):
        loaders.open("nope", tiny_videos["tiny-h264-odd"])


def test_a_missing_library_only_disables_its_own_loader(tiny_videos: dict[str, Path]) -> None:
    # sys.modules[name] = None makes "import name" fail as if the library were not installed.
    code = (
        "import sys; sys.modules['decord'] = None\n"
        "import json, loaders\n"
        "reasons = loaders.available()\n"
        "try:\n"
        "    loaders.open('decord', sys.argv[1])\n"
        "    opened = 'opened'\n"
        "except loaders.BackendUnavailable as exc:\n"
        "    opened = str(exc)\n"
        "with loaders.open('pyav', sys.argv[1]) as src:\n"
        "    n = len(src.get_frames([0, 1]))\n"
        "print(json.dumps({'reason': reasons['decord'], 'pyav': reasons['pyav'], 'opened': opened, 'n': n}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run(
        [sys.executable, "-c", code, str(tiny_videos["tiny-h264-odd"])],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert "decord" in out["reason"]
    assert out["pyav"] is None and out["n"] == 2
    assert "unavailable" in out["opened"] and str(tiny_videos["tiny-h264-odd"]) in out["opened"]


def test_every_usable_loader_names_its_library_and_version() -> None:
    for name, reason in loaders.available().items():
        if reason is None:
            cls = loaders.registry.loader_class(name)
            assert any(ch.isdigit() for ch in getattr(cls, "library", "")), f"{name} declares no library version"
