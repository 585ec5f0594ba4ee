"""The machine's drift: the anchor case every stack times at its start and end, the drift's
arithmetic, and the report's comparisons across stacks that rest on it."""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path

import pytest

import reports
from benchmarks import cli, records
from benchmarks.analysis import drift
from benchmarks.records import Record

FRAMES = 100


def _anchor(stack: str, when: str, fps: float, status: str = "ok") -> Record:
    return Record(measure="anchor", loader="pyav", kind="decode", stack=stack, profile="a", pattern="sequential",
                  frames=FRAMES, seconds=[FRAMES / fps] * 3, status=status,  # type: ignore[arg-type]
                  options={"anchor": when}, cell=f"anchor|{stack}|{when}").with_fps()


def _per_frame(loader: str, stack: str, fps: float) -> Record:
    return Record(measure="per_frame", loader=loader, kind="decode", stack=stack, profile="a", pattern="sequential",
                  frames=FRAMES, seconds=[FRAMES / fps] * 3, exact=True,
                  cell=f"per_frame|{stack}|{loader}|a|sequential").with_fps()


def test_drift_within_and_between_stacks_from_the_anchor_records() -> None:
    recs = [
        _anchor("pillow-simd", "start", 90), _anchor("pillow-simd", "end", 90),
        _anchor("main", "start", 100), _anchor("main", "end", 80),
        _anchor("torchvision", "start", 120),  # stopped before its end
        _anchor("torchvision", "end", 500, status="error"),  # failed: no figure
        _per_frame("pyav", "main", 1000),  # an ordinary record of the same loader: not an anchor
    ]
    found = {d.stack: d for d in drift.drift(recs)}
    assert [d.stack for d in drift.drift(recs)][0] == "main"  # the reference first
    main, simd, tv = found["main"], found["pillow-simd"], found["torchvision"]
    assert (main.start, main.end) == pytest.approx((100, 80))
    assert main.within == pytest.approx(0.8) and main.against_reference is None
    assert simd.within == pytest.approx(1.0)
    main_level = math.sqrt(100 * 80)
    assert simd.against_reference == pytest.approx(90 / main_level)
    assert tv.end is None and tv.within is None and tv.against_reference == pytest.approx(120 / main_level)
    # A comparison of two stacks carries the largest of their drifts: main's 20% within itself here.
    assert drift.between(found.values(), "main", "pillow-simd") == pytest.approx(1.25)
    assert drift.between(found.values(), "main", "torchvision") == pytest.approx(max(1.25, 120 / main_level))
    assert drift.between(found.values(), "main", "elsewhere") is None  # no anchor: no drift measured
    assert drift.within_drift(100, 115, 1.25) and drift.within_drift(115, 100, 1.25)
    assert not drift.within_drift(100, 130, 1.25) and not drift.within_drift(100, 101, None)


def test_no_anchor_means_no_drift() -> None:
    assert drift.drift([_per_frame("pyav", "main", 100)]) == []


def _report(tmp_path: Path, anchors: list[Record]) -> str:
    """A run of two decoders from two stacks, torchvision-videoreader 10% ahead of pyav, with ``anchors``."""
    path = tmp_path / "records.jsonl"
    for r in [_per_frame("pyav", "main", 100), _per_frame("torchvision-videoreader", "torchvision", 110), *anchors]:
        records.append(path, r)
    reports.build(tmp_path)
    return html.unescape((tmp_path / "report.html").read_text())


def test_leaders_from_two_stacks_closer_than_the_drift_are_not_ranked(tmp_path: Path) -> None:
    text = _report(tmp_path, [_anchor("main", "start", 100), _anchor("main", "end", 100),
                              _anchor("torchvision", "start", 125), _anchor("torchvision", "end", 125)])
    assert "torchvision-videoreader [torchvision] and pyav are within the machine's drift" in text
    assert "torchvision-videoreader [torchvision] is the fastest decoder" not in text
    assert "torchvision: end against start 1.00x, against the main stack 1.25x" in text  # the Drift note


def test_leaders_from_two_stacks_further_apart_than_the_drift_are_ranked(tmp_path: Path) -> None:
    text = _report(tmp_path, [_anchor("main", "start", 100), _anchor("main", "end", 98),
                              _anchor("torchvision", "start", 101), _anchor("torchvision", "end", 100)])
    assert "torchvision-videoreader [torchvision] is the fastest decoder" in text
    assert "differ by more than the machine's drift between them (2%" in text
    assert "are within the machine's drift" not in text
    assert "main: end against start 0.98x" in text


def test_without_anchors_the_report_says_no_drift_was_measured(tmp_path: Path) -> None:
    text = _report(tmp_path, [])
    assert "this run measured no drift between stacks" in text and "are within the machine's drift" not in text
    assert "Drift." not in text


def test_a_run_times_the_anchor_at_its_start_and_end_outside_the_ordinary_rows(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "one.mp4").write_bytes(tiny_videos["tiny-h264-odd"].read_bytes())
    assert cli.main(["--videos", str(videos), "--out", str(tmp_path / "out"), "--run-id", "r",
                     "--stores", str(tmp_path / "stores"), "--loaders", "noop,pyav", "--measures", "per_frame",
                     "--patterns", "sequential", "--min-time", "0", "--min-rounds", "1", "--frames", "2"]) == 0
    recs = list(records.read(tmp_path / "out" / "r" / "records.jsonl"))
    timed = [i for i, r in enumerate(recs) if r.measure in ("per_frame", "open") and r.status == "ok"]
    anchors = {r.options["anchor"]: (i, r) for i, r in enumerate(recs) if r.measure == "anchor"}
    assert set(anchors) == {"start", "end"} and timed
    assert anchors["start"][0] < min(timed) and anchors["end"][0] > max(timed)
    [own] = [r for r in recs if r.measure == "per_frame" and r.loader == "pyav" and r.store is None]
    for _, r in anchors.values():  # the same case as pyav's own sequential one, timed again
        assert (r.loader, r.pattern, r.profile, r.status, r.exact) == ("pyav", "sequential", "one", "ok", True)
        assert r.fps_median and r.frames == own.frames and r.options["samples"] == own.options["samples"]
        assert r.cell != own.cell
    reports.build(tmp_path / "out" / "r")
    with open(tmp_path / "out" / "r" / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["measure"] for r in rows} == {"per_frame"}
    # pyav on the videos: its own case alone, not the anchors (pyav also reads the transcoded stores)
    assert len([r for r in rows if r["loader"] == "pyav" and not r["format"]]) == 1
    assert {d.stack for d in drift.drift(recs)} == {"main"}


def test_every_stack_times_the_anchor_and_the_fixed_size_stores_on_the_same_first_video(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Profiles given out of alphabetical order: the run's records (dataset.json) keep them sorted.
    given = ["tiny-h264-odd", "tiny-h264-bframes"]
    args = ["--profiles", ",".join(given), "--out", str(tmp_path / "out"), "--run-id", "r",
            "--stores", str(tmp_path / "stores"), "--measures", "per_frame", "--patterns", "sequential",
            "--min-time", "0", "--min-rounds", "1", "--frames", "2", "--formats", "jpeg", "--store-sizes", "32",
            "--full-size", "", "--gops", ""]
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main([*args, "--loaders", "noop,pyav"]) == 0
    monkeypatch.setenv("VIDBENCH_STACK", "pillow-simd")  # the next stack of the same run
    assert cli.main([*args, "--loaders", "noop,pil"]) == 0
    recs = list(records.read(tmp_path / "out" / "r" / "records.jsonl"))
    anchors = {(r.stack, r.options["anchor"]): r.profile for r in recs if r.measure == "anchor"}
    assert anchors == {(s, w): given[0] for s in ("main", "pillow-simd") for w in ("start", "end")}
    stores = {r.profile for r in recs if r.measure == "per_frame" and r.loader == "pil" and r.status == "ok"}
    assert stores == {given[0]}  # the 32 px store, on the first video only, as in the first stack


def test_a_later_stack_reads_in_its_epochs_the_frames_the_first_stack_read(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first stack reads every frame; the next, under a budget that would cut its epochs to the
    # first 32 frames of each video, keeps the first stack's choice, so both stacks' epochs read the same.
    args = ["--profiles", "tiny-h264-bframes", "--out", str(tmp_path / "out"), "--run-id", "r",
            "--stores", str(tmp_path / "stores"), "--measures", "epoch", "--patterns", "sequential",
            "--epochs", "1", "--workers", "0", "--formats", "jpeg", "--store-sizes", "32", "--full-size", "",
            "--gops", "", "--cache", "warm"]
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main([*args, "--loaders", "noop,pil"]) == 0
    monkeypatch.setenv("VIDBENCH_STACK", "pillow-simd")
    assert cli.main([*args, "--loaders", "noop,pil", "--budget", "0.001"]) == 0
    recs = records.read(tmp_path / "out" / "r" / "records.jsonl")
    epochs = [r for r in recs if r.measure == "epoch" and r.status == "ok"]
    assert {r.stack for r in epochs} == {"main", "pillow-simd"}
    assert {r.options.get("frames_per_video") for r in epochs} == {None}  # every frame, in both stacks
    assert len({r.frames for r in epochs}) == 1
