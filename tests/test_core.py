"""The measurement core: which loaders a stack runs, video discovery, and interleaved epochs."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import require_loader

import loaders
from benchmarks import core, patterns, runner
from benchmarks.spec import MORE_EPOCHS, Target
from loaders.registry import Entry, stacks_of
from loaders.vocabulary import BASELINE, DECODE, FRAMES


def test_a_stack_measures_only_what_differs_in_it() -> None:
    simd = core.loader_names(None, "pillow-simd")
    assert simd and all("PIL" in loaders.REGISTRY[n].uses for n in simd)
    assert "npy" not in simd and "pil" in simd  # npy never touches Pillow: nothing new to measure
    main = core.loader_names(None, "main")
    assert main[-1] == BASELINE and main.count(BASELINE) == 1
    with pytest.raises(SystemExit, match="unknown loader"):
        core.loader_names(["pyav", "no-such-loader"], "main")


def test_registry_entries_are_read_by_name() -> None:
    entry = loaders.REGISTRY["pyav"]
    assert (entry.kind, entry.module, entry.cls, entry.takes_threads) == (DECODE, "loaders.pyav", "PyAVSource", True)
    assert not loaders.REGISTRY["npy"].takes_threads
    with pytest.raises(TypeError):
        entry.defaults["threads"] = 4  # type: ignore[index]  # shared by every open: read-only


def test_the_baseline_name_survives_a_csv(tmp_path: Path) -> None:
    pd.DataFrame({"loader": [BASELINE, "pyav"]}).to_csv(tmp_path / "t.csv", index=False)
    assert pd.read_csv(tmp_path / "t.csv")["loader"].tolist() == [BASELINE, "pyav"]


def test_a_new_loader_joins_its_stack_with_its_registry_line() -> None:
    """The stacks are derived from the registry: one line adds a loader to the tests and runs of its stack."""
    assert stacks_of(loaders.REGISTRY) == loaders.STACKS
    assert "torchvision-videoreader" in loaders.STACKS["torchvision"] and "pyav" not in loaders.STACKS["torchvision"]
    assert all(BASELINE not in names for names in loaders.STACKS.values())
    # A CUDA loader is in no stack: no stack (and so no VIDBENCH_REQUIRE_ALL run) must have a GPU.
    gpu = set(loaders.registry.gpu_names())
    assert gpu and not any(gpu & set(names) for names in loaders.STACKS.values())
    registry = {
        **loaders.REGISTRY,
        "my-decoder": Entry(DECODE, "my_module", "MySource"),
        "my-pil-reader": Entry(FRAMES, "my_module", "MyReader", uses=("PIL",)),
        "gpu-decoder": Entry(DECODE, "my_module", "GpuSource", stack="gpu"),
    }
    stacks = stacks_of(registry)
    assert stacks["main"] == [*loaders.STACKS["main"], "my-decoder", "my-pil-reader"]
    assert stacks["pillow-simd"] == [*loaders.STACKS["pillow-simd"], "my-pil-reader"]
    assert stacks["gpu"] == ["gpu-decoder"] and stacks["torchvision"] == loaders.STACKS["torchvision"]


def test_videos_that_share_a_stem_stay_apart(tmp_path: Path) -> None:
    for name in ("a.mp4", "a.mkv", "b.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert core.find_videos(tmp_path) == {"a.mkv": str(tmp_path / "a.mkv"), "a.mp4": str(tmp_path / "a.mp4"),
                                          "b": str(tmp_path / "b.mp4")}


def test_one_finder_for_every_front_door(tmp_path: Path) -> None:
    from loaders.batch import find_videos

    for name in ("a.mp4", "sub/b.MKV", "sub/deep/c.webm", ".cache/d.mp4", "._e.mp4", "stores/f.mp4", "g.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found, unreadable = find_videos(tmp_path, skip=tmp_path / "stores", hidden=False)  # --sample
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.mp4", "sub/b.MKV", "sub/deep/c.webm"]
    assert unreadable == {}
    assert find_videos(tmp_path, recursive=False)[0] == [tmp_path / "._e.mp4", tmp_path / "a.mp4"]  # --videos
    assert core.find_videos(tmp_path) == {"._e": str(tmp_path / "._e.mp4"), "a": str(tmp_path / "a.mp4")}


def test_epochs_are_interleaved_and_a_failure_ends_only_its_case(tiny_videos: dict[str, Path], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pyav", "decord", BASELINE):
        require_loader(name)
    order: list[str] = []
    frozen: list[int] = []

    def fake_run(dataset: runner.SampleDataset, workers: int, batch_size: int, epochs: int,
                 threads: int) -> runner.Epochs:
        assert epochs == 1  # one epoch at a time, so the cases can take turns
        order.append(dataset.loader)
        frozen.append(gc.get_freeze_count())
        if dataset.loader == "decord" and order.count("decord") == 2:
            raise loaders.CorruptVideo(dataset.paths[next(iter(dataset.paths))], "simulated failure")
        return runner.Epochs([float(len(order))], 0, 100 * len(order), {"torch": 1})

    monkeypatch.setattr(runner, "run", fake_run)
    freezes: list[int] = []
    freeze = gc.freeze
    monkeypatch.setattr(runner.gc, "freeze", lambda: (freezes.append(1), freeze())[1])
    video = str(tiny_videos["tiny-h264-bframes"])
    work = core.Workspace(core.spec_for({"v": video}, core.Settings(epochs=3)), tmp_path)
    pattern = patterns.Pattern("sequential")
    group = [core.EpochCase(Target(n, DECODE), pattern, 0, "set", 4, 32) for n in ("pyav", "decord", BASELINE)]
    got: dict[str, Any] = {case.target.loader: record for case, record in work.epochs(group, [video])}
    # Epoch by epoch, each round starting one case later, so no loader always runs first;
    # decord fails in its second epoch and leaves the rotation.
    assert order == ["pyav", "decord", BASELINE, "decord", BASELINE, "pyav", "pyav", BASELINE]
    # every epoch under one freeze of the objects alive before them (one collector's pass over them, not one an epoch)
    assert all(n > 0 for n in frozen) and len(freezes) == 1 and gc.get_freeze_count() == 0
    assert got["pyav"].seconds == [1.0, 6.0, 7.0] and got[BASELINE].seconds == [3.0, 5.0, 8.0]
    assert got["pyav"].status == "ok" and got["pyav"].options["epochs"] == 3 and got["pyav"].exact
    assert got["pyav"].peak_rss_bytes == 700  # the highest of its epochs
    assert got["decord"].status == "error" and "simulated failure" in got["decord"].reason
    assert len({c.cell for c in group}) == 3 and all(c.cell.startswith("epoch|") for c in group)


def test_short_epochs_are_taken_again_until_their_minimum_time(tiny_videos: dict[str, Path], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pyav", "decord", BASELINE):
        require_loader(name)
    each = {"pyav": 1.0, BASELINE: 0.1, "decord": 0.01}  # seconds an epoch of each takes
    order: list[str] = []

    def fake_run(dataset: runner.SampleDataset, workers: int, batch_size: int, epochs: int,
                 threads: int) -> runner.Epochs:
        order.append(dataset.loader)
        return runner.Epochs([each[dataset.loader]], 0, 100, {"torch": 1})

    monkeypatch.setattr(runner, "run", fake_run)
    video = str(tiny_videos["tiny-h264-bframes"])
    spec = dataclasses.replace(core.spec_for({"v": video}, core.Settings(epochs=2)), epoch_min_time=0.45)
    work = core.Workspace(spec, tmp_path)
    group = [core.EpochCase(Target(n, DECODE), patterns.Pattern("sequential"), 0, "set", 4, 32) for n in each]
    got = {case.target.loader: record for case, record in work.epochs(group, [video])}
    # pyav's two epochs reach 0.45 s; the baseline's take five (0.5 s); decord's stop at 5 x 2
    assert {n: len(r.seconds) for n, r in got.items()} == {"pyav": 2, BASELINE: 5, "decord": 2 * MORE_EPOCHS}
    assert {n: spec.epoch_count(s) for n, s in each.items()} == {n: len(r.seconds) for n, r in got.items()}
    assert got[BASELINE].options["epochs"] == 5 and all(r.status == "ok" for r in got.values())
    # in turns, each round starting one case later; the short ones go on in turns once pyav is done
    assert order[:6] == ["pyav", BASELINE, "decord", BASELINE, "decord", "pyav"]
    assert order[6:11] == [BASELINE, "decord", "decord", BASELINE, BASELINE] and set(order[11:]) == {"decord"}
    # without a minimum time, exactly the epochs asked for; under a budget that cut them to 1, one
    assert dataclasses.replace(spec, epoch_min_time=0.0).epoch_count(0.01) == 2
    assert core.SETTINGS["default"].calibration.min_time * core.EPOCH_TIME == pytest.approx(2.0)


def test_per_frame_rounds_are_taken_in_turns_and_a_failure_ends_only_its_case(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pyav", "cv2-grab", BASELINE):
        require_loader(name)
    video = str(tiny_videos["tiny-h264-bframes"])
    calibration = core.Calibration(min_time=0.0, min_rounds=4, warmup=1)
    work = core.Workspace(core.spec_for({"v": video}, core.Settings(frames=4, calibration=calibration)), tmp_path)
    pattern = patterns.Pattern("random-frame")
    targets = [Target(n, DECODE) for n in ("pyav", "cv2-grab", BASELINE)]
    case_list = core.cases(targets, ["v"], [pattern], 4)
    groups = core.groups(case_list)
    # each open alone, then the per-frame cases of the video together (of every pattern: see below)
    assert [len(g) for g in groups] == [1, 1, 1, 3] and all(c.measure == "per_frame" for c in groups[-1])
    two = core.groups(core.cases(targets, ["v", "w"], [pattern, patterns.Pattern("sequential")], 4))
    assert [len(g) for g in two] == [1, 1, 1, 6, 1, 1, 1, 6] and {c.profile for c in two[3]} == {"v"}
    order: list[str] = []
    real = core.perframe.read_samples

    def spy(src: loaders.Source, calls: list) -> None:
        name = type(src).__name__
        order.append(name)
        if name.startswith("Cv2") and order.count(name) == 3:  # its warm-up and first round pass
            raise loaders.CorruptVideo(video, "simulated failure")
        real(src, calls)

    monkeypatch.setattr(core.perframe, "read_samples", spy)
    yielded = [(case.target.loader, record) for case, record in work.measure_interleaved(groups[-1], turn=0.0,
                                                                                        rewarm=float("inf"))]
    got = dict(yielded)
    # each case is said as soon as it is over: cv2-grab's failure before the others' records
    assert [name for name, _ in yielded] == ["cv2-grab", "pyav", BASELINE]
    names = list(dict.fromkeys(order))
    # Turns of one timed round each (turn=0): the first after the warm-up round, each later one after
    # an untimed round (rewarm=inf: every round counts as short); cv2-grab leaves at its failure.
    assert order[:6] == [n for n in names for _ in range(2)] and order.count(names[1]) == 3
    assert order.count(names[0]) == order.count(names[2]) == 2 * 4
    long_turns: list[str] = []
    order.clear()
    # A turn long enough for every round (the default 50 ms is, on a quiet machine; a loaded one
    # could spill a round into a second turn, so the test gives it a minute): no untimed round between.
    for _case, record in work.measure_interleaved(groups[-1][:1], turn=60.0):
        long_turns.append(record.status)
    assert long_turns == ["ok"] and order.count(names[0]) == 1 + 4  # all four rounds in its first turn
    assert got["pyav"].status == "ok" and len(got["pyav"].seconds) == 4 and got["pyav"].options["interleaved"]
    assert got["pyav"].exact and got["pyav"].frames == 4 and got[BASELINE].status == "ok"
    assert got["cv2-grab"].status == "error" and "simulated failure" in got["cv2-grab"].reason


def test_a_video_is_decoded_once_for_the_references_of_every_size_the_run_reads(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from benchmarks import stores, verify

    require_loader("pyav")
    video = str(tiny_videos["tiny-h264-bframes"])
    (store,) = stores.specs(["ffmpeg"], ["npy"], 90, [64], [])
    spec = core.spec_for({"v": video}, core.Settings(frames=4))
    work = core.Workspace(dataclasses.replace(spec, targets=[Target("pyav", DECODE), Target("npy", FRAMES, store)]),
                          tmp_path)
    decoded: list[str] = []
    real = verify.reference.decode

    def counted(path: str, indices: Any = None, **options: Any) -> Any:
        decoded.append(path)
        return real(path, indices, **options)

    monkeypatch.setattr(verify.reference, "decode", counted)
    pattern = patterns.Pattern("random-frame")
    assert work.verdict(Target("pyav", DECODE), video, pattern).wrong is None
    # The decoder's reference (as decoded) and the store's (at 64) came from one decode of the video.
    assert decoded == [video] and set(work.refs[video, pattern.name]) == {None, 64}
    full, small = work.refs[video, pattern.name][None], work.refs[video, pattern.name][64]
    assert full.keys() == small.keys() and next(iter(small.values())).shape[0] < next(iter(full.values())).shape[0]
