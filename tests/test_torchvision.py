"""torchvision.io loaders: why they ask for frames by pts, and that they are as exact as they claim.

The contract tests (test_decode_contract.py) check both loaders in the torchvision stack. These
add what is particular to torchvision: the plain ways of calling its API return neighbouring
frames on the tiny corpus, the loaders (``exact = True``) never do, read_video's silence on bad
input is caught, and outside the stack the registry says where the loaders live.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import require_loader

import loaders
from loaders.reference import Reference

NAMES = ["torchvision-read_video", "torchvision-videoreader"]
NEEDS = "needs the torchvision stack: torchvision <= 0.25"
IN_STACK = loaders.current_stack() == "torchvision"
in_stack_only = pytest.mark.skipif(not IN_STACK, reason="runs in the torchvision stack: nox -s tests-torchvision")


# Every torchvision.io call warns that video decoding is deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:The video decoding and encoding capabilities:UserWarning")


def torchvision_io() -> ModuleType:
    # The loader module first: it imports torchvision without leaving PyAV's log callback on,
    # which deadlocks the reference decoder's threads (see loaders/torchvision.py).
    importlib.import_module("loaders.torchvision")
    return importlib.import_module("torchvision.io")


def wrong_frames(got: list[np.ndarray], ref: Reference) -> list[int]:
    return [
        i
        for i, frame in enumerate(got)
        if frame.shape != ref.frames[i].shape or not np.array_equal(frame, ref.frames[i])
    ]


@in_stack_only
@pytest.mark.parametrize("name", NAMES)
def test_exact_loaders_return_every_frame_of_the_corpus_exactly(
    name: str, tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    require_loader(name)
    for profile, path in tiny_videos.items():
        ref = references[profile]
        with loaders.open(name, path) as src:
            assert type(src).exact
            order = np.random.default_rng(3).permutation(ref.num_frames)
            got = src.get_frames(order)
            wrong = [int(i) for slot, i in enumerate(order) if not np.array_equal(got[slot], ref.frames[int(i)])]
            assert not wrong, f"{name} returned other frames than {wrong[:5]} of {profile}"


@in_stack_only
def test_read_video_with_float_seconds_returns_neighbouring_frames(
    tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    """The common call, read_video(path, t, t, pts_unit="sec") with t a frame's time as a float,
    misses: floor(t / time_base) can land one tick below the pts, and read_video then starts with
    the frame before."""
    tv = torchvision_io()
    wrong: dict[str, list[int]] = {}
    for profile in ("tiny-h264-bframes", "tiny-h264-offset-vfr"):
        path, ref = tiny_videos[profile], references[profile]
        seconds, _ = tv.read_video_timestamps(str(path), pts_unit="sec")  # exact Fractions
        got = []
        for t in map(float, seconds):
            video, _, _ = tv.read_video(str(path), t, t, pts_unit="sec")
            got.append(video[0].numpy() if len(video) else np.empty(0))  # the clip's first frame
        wrong[profile] = wrong_frames(got, ref)
    assert all(wrong.values()), f"every float-seconds read was exact: {wrong}"


@in_stack_only
def test_videoreader_seek_then_next_returns_the_keyframe_before(
    tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    """The documented use, next(reader.seek(t)), gives the keyframe before t with the pyav backend."""
    tv = torchvision_io()
    path, ref = tiny_videos["tiny-h264-bframes"], references["tiny-h264-bframes"]
    seconds, _ = tv.read_video_timestamps(str(path), pts_unit="sec")
    reader = tv.VideoReader(str(path), "video")
    try:
        # keyframes_only=True says what the pyav backend does anyway (False only adds a warning).
        got = [next(reader.seek(float(t), keyframes_only=True))["data"].permute(1, 2, 0).numpy() for t in seconds]
    finally:
        reader.container.close()
    assert len(wrong_frames(got, ref)) > ref.num_frames // 2


@in_stack_only
@pytest.mark.parametrize("name", NAMES)
def test_bad_input_read_video_returns_empty_becomes_a_loader_error(name: str, tmp_path: Path) -> None:
    tv = torchvision_io()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    video, _, _ = tv.read_video(str(text), pts_unit="sec")
    assert tuple(video.shape) == (0, 1, 1, 3)  # torchvision's answer: no error, no frames
    with pytest.raises(loaders.CorruptVideo, match=str(text)):
        loaders.open(name, text)


@in_stack_only
@pytest.mark.parametrize("name", NAMES)
def test_damage_inside_a_request_is_a_loader_error_and_the_source_stays_usable(
    name: str, tmp_path: Path, tiny_videos: dict[str, Path], references: dict[str, Reference]
) -> None:
    good = tiny_videos["tiny-h264-longgop"]  # one keyframe: damage anywhere breaks what follows it
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2048] = np.random.default_rng(5).integers(0, 256, 2048, dtype=np.uint8).tobytes()
    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(bytes(data))
    ref = references["tiny-h264-longgop"]
    with loaders.open(name, bad) as src:
        with pytest.raises(loaders.CorruptVideo, match=str(bad)):
            src.get_frames(range(src.num_frames))
        # Frames before the damage are still right, read again from the start.
        assert np.array_equal(src.get_frames([1, 0]), ref.stack([1, 0]))


@in_stack_only
def test_runs_group_near_frames_and_bound_the_span() -> None:
    runs = importlib.import_module("loaders.torchvision").runs
    wanted = np.array([0, 1, 2, 10, 11, 30, 100, 101, 102, 103])
    assert [r.tolist() for r in runs(wanted, 8, 64)] == [[0, 1, 2, 10, 11], [30], [100, 101, 102, 103]]
    assert [r.tolist() for r in runs(np.arange(10), 1, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [r.tolist() for r in runs(np.array([5]), 1, 1)] == [[5]]


@in_stack_only
@pytest.mark.parametrize("module", ["torchvision", "loaders.torchvision"])
def test_importing_the_loaders_leaves_pyav_logging_as_it_was(module: str) -> None:
    """torchvision's import turns PyAV's log callback on; with it, a frame-threaded PyAV decoder
    stopped before the end (the pyav loader, the reference decode on damaged data) deadlocks."""
    code = (
        f"import av, json; before = av.logging.get_level(); import {module}; "
        "print(json.dumps([before, av.logging.get_level()]))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    before, after = json.loads(run.stdout.strip().splitlines()[-1])
    if module == "torchvision":
        assert after != before  # what the loader module has to undo
    else:
        assert after == before


@pytest.mark.skipif(IN_STACK, reason="outside the torchvision stack only")
def test_outside_the_stack_the_registry_says_where_the_loaders_live() -> None:
    reasons = loaders.available()
    for name in NAMES:
        assert name in loaders.STACKS["torchvision"]
        assert NEEDS in str(reasons[name])


def test_a_torchvision_without_video_decoding_is_refused() -> None:
    """torchvision 0.26 and later import fine but have no torchvision.io.read_video."""
    code = (
        "import sys, types, json\n"
        "fake = types.ModuleType('torchvision'); fake.__version__ = '0.26.0'\n"
        "sys.modules['torchvision'] = fake\n"
        "import loaders\n"
        "print(json.dumps(loaders.available()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    reasons = json.loads(run.stdout.strip().splitlines()[-1])
    for name in NAMES:
        assert NEEDS in reasons[name] and "0.26.0" in reasons[name]
