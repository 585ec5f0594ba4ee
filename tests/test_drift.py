"""The machine's drift: the anchor case every stack times at its start, between its epochs and at its end, the drift's
arithmetic, and the report's comparisons across stacks that rest on it."""

from __future__ import annotations

import csv
import dataclasses
import html
import math
from pathlib import Path

import pytest
import report_fixture as fx

import reports
from benchmarks import cli, records
from benchmarks.analysis import drift, plan, verdict
from benchmarks.analysis.plan import Strategy
from benchmarks.records import Record
from benchmarks.spec import Store

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
    assert "torchvision: slowest against fastest 1.00x, against the main stack 1.25x" in text  # the Drift note


def test_leaders_from_two_stacks_further_apart_than_the_drift_are_ranked(tmp_path: Path) -> None:
    text = _report(tmp_path, [_anchor("main", "start", 100), _anchor("main", "end", 98),
                              _anchor("torchvision", "start", 101), _anchor("torchvision", "end", 100)])
    assert "torchvision-videoreader [torchvision] is the fastest decoder" in text
    assert "differ by more than the machine's drift between them (2%" in text
    assert "are within the machine's drift" not in text
    assert "main: slowest against fastest 0.98x" in text


def test_without_anchors_the_report_says_no_drift_was_measured(tmp_path: Path) -> None:
    text = _report(tmp_path, [])
    assert "this run measured no drift between stacks" in text and "are within the machine's drift" not in text
    assert "Drift." not in text


def test_a_run_times_the_anchor_on_its_own_video_at_its_start_and_end_outside_the_ordinary_rows(
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
    assert set(anchors) == {"start", "end"} and timed  # no epochs: nothing between
    assert anchors["start"][0] < min(timed) and anchors["end"][0] > max(timed)
    [own] = [r for r in recs if r.measure == "per_frame" and r.loader == "pyav" and r.store is None]
    for _, r in anchors.values():  # pyav's sequential case, on the anchor's video (none of the run's), verified
        assert (r.loader, r.pattern, r.profile, r.status, r.exact) == ("pyav", "sequential", drift.ANCHOR_VIDEO,
                                                                       "ok", True)
        assert r.fps_median and r.frames == own.frames and r.cell != own.cell
    reports.build(tmp_path / "out" / "r")
    with open(tmp_path / "out" / "r" / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["measure"] for r in rows} == {"per_frame"}
    # pyav on the videos: its own case alone, not the anchors (pyav also reads the transcoded stores)
    assert len([r for r in rows if r["loader"] == "pyav" and not r["format"]]) == 1
    assert {d.stack for d in drift.drift(recs)} == {"main"}


def test_a_run_whose_anchor_video_cannot_be_made_measures_without_it_and_says_so(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "one.mp4").write_bytes(tiny_videos["tiny-h264-odd"].read_bytes())

    def unwritable(name: str, cache_dir: object = None) -> Path:  # as an installed package's read-only folder
        raise PermissionError(13, "Permission denied", f"/site-packages/.corpus/{name}.mp4")

    monkeypatch.setattr(cli.corpus, "make", unwritable)
    assert cli.main(["--videos", str(videos), "--out", str(tmp_path / "out"), "--run-id", "r",
                     "--stores", str(tmp_path / "stores"), "--loaders", "noop,pyav", "--measures", "per_frame",
                     "--patterns", "sequential", "--min-time", "0", "--min-rounds", "1", "--frames", "2"]) == 0
    recs = list(records.read(tmp_path / "out" / "r" / "records.jsonl"))
    assert not [r for r in recs if r.measure == "anchor"] and [r for r in recs if r.measure == "per_frame"]
    err = capsys.readouterr().err
    assert err.count("no anchor case (the machine's drift is not measured)") == 1 and "Permission denied" in err
    assert "Traceback" not in err


def test_the_anchor_is_timed_between_the_groups_of_epochs_and_gives_each_epoch_its_pace(
        tiny_videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert cli.main(["--profiles", "tiny-h264-bframes", "--out", str(tmp_path / "out"), "--run-id", "r",
                     "--stores", str(tmp_path / "stores"), "--loaders", "noop,pyav,pil",
                     "--measures", "extraction,per_frame,epoch", "--patterns", "sequential,random-frame",
                     "--epochs", "1", "--workers", "0", "--cache", "warm", "--min-time", "0", "--min-rounds", "1",
                     "--frames", "2", "--formats", "jpeg", "--store-sizes", "32", "--full-size", "",
                     "--gops", ""]) == 0
    recs = list(records.read(tmp_path / "out" / "r" / "records.jsonl"))
    order = [r.options["anchor"] if r.measure == "anchor" else (r.pattern or r.measure) for r in recs
             if r.measure in ("anchor", "epoch", "extraction")]
    # the extraction, then each pattern's epochs (every loader's) in one stretch, between two anchors
    assert [w for i, w in enumerate(order) if i == 0 or w != order[i - 1]] == \
        ["start", "extraction", "after extraction", "epochs", "sequential", "after sequential", "random-frame", "end"]
    [main] = drift.drift(recs)
    assert len(main.between) == 3 and len(main.timed) == 5 and main.within is not None
    # each epoch's pace: the anchors either side of it
    paced = {(r.pattern, r.loader): pace for r, pace in drift.paces(recs) if r.measure == "epoch" and not r.store}
    fps = {r.options["anchor"]: r.fps_median for r in recs if r.measure == "anchor"}
    assert paced[("sequential", "pyav")] == pytest.approx(math.sqrt(fps["epochs"] * fps["after sequential"]))
    assert paced[("random-frame", "pyav")] == pytest.approx(math.sqrt(fps["after sequential"] * fps["end"]))
    [(_, extracted)] = [(r, p) for r, p in drift.paces(recs) if r.measure == "extraction"]
    assert extracted == pytest.approx(math.sqrt(fps["start"] * fps["after extraction"]))


def test_the_drift_within_a_stack_is_its_slowest_anchor_against_its_fastest_in_the_order_timed() -> None:
    def stack(*timed: float) -> drift.StackDrift:
        whens = ["start", "epochs", *(f"after p{i}" for i in range(len(timed) - 3)), "end"]
        [d] = drift.drift([_anchor("main", w, v) for w, v in zip(whens, timed, strict=True)])
        return d

    # The machine slowed between the start and the end and came back: unseen by start and end alone.
    assert stack(100, 100, 70, 100).within == pytest.approx(0.7)
    assert stack(70, 100, 100, 100).within == pytest.approx(100 / 70)  # slow first, then faster
    assert stack(100, 80, 120, 100).within == pytest.approx(1.5)  # the slowest (80) came before the fastest
    assert stack(100, 100, 100, 100).within == pytest.approx(1.0)
    assert stack(100, 100, 70, 100).level == pytest.approx((100 * 100 * 70 * 100) ** 0.25)
    # A pace for each record between two anchors, from the anchors either side; one at an end alone.
    recs = [_anchor("main", "start", 100), _per_frame("pyav", "main", 5), _anchor("main", "epochs", 50),
            _per_frame("pil", "main", 6), _per_frame("pil", "pillow-simd", 7)]
    assert [(r.loader, p) for r, p in drift.paces(recs)] == [("pyav", pytest.approx(math.sqrt(5000))),
                                                             ("pil", pytest.approx(50))]
    assert drift.paces(recs, stack="pillow-simd") == []  # no anchor in that stack


def test_every_stack_times_the_anchor_on_the_same_video_and_the_fixed_size_stores_on_the_same_first_video(
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
    assert anchors == {(s, w): drift.ANCHOR_VIDEO for s in ("main", "pillow-simd") for w in ("start", "end")}
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


# The plan and the verdict: strategies of different stacks ranked only beyond the drift between them.

def _strategy(loader: str, stack: str, epoch: float, store: Store | None = None) -> Strategy:
    return Strategy(pattern="random", workers=2, decode_loader=None if store else loader,
                    frame_loader=loader if store else None, store=store, dataset_videos=10, dataset_frames=1000,
                    extraction_seconds=60.0 if store else 0.0, epoch_seconds=epoch, epoch_seconds_low=epoch * 0.9,
                    epoch_seconds_high=epoch * 1.1, epochs=10, disk_bytes=2**30 if store else 0,
                    read_bytes=2**30, fits_disk=True, fits_ram=True, cache="warm",
                    epoch_from="epoch timings of the sample (warm)", stack=stack)


JPEG = Store("ffmpeg", "jpeg", 90, 256)
# main's anchor steady; torchvision's 20% faster than main's: a drift of 1.2 between the two stacks.
DRIFT_20 = [_anchor("main", "start", 100), _anchor("main", "end", 100),
            _anchor("torchvision", "start", 120), _anchor("torchvision", "end", 120)]


def test_a_strategy_of_another_stack_within_the_drift_of_the_best_is_not_ranked_against_it() -> None:
    pyav, tv = _strategy("pyav", "main", 60.0), _strategy("torchvision-videoreader", "torchvision", 66.0)
    (v,) = verdict.decide([tv, pyav], drifts=drift.drift(DRIFT_20))
    assert v.best is pyav and [(u.strategy, u.drift) for u in v.unranked] == [(tv, pytest.approx(1.2))]
    sentence = v.sentence()
    assert ("decode the videos with torchvision-videoreader (torchvision stack, 11.0 min) is within the machine's "
            "drift of it: the main and torchvision stacks measured one after another, minutes apart, and the same "
            "anchor case moved by 20% between them") in sentence
    assert "would take" not in sentence and "faster" not in sentence  # neither is called the faster
    # The store against decoding: the contrast, 10% apart with a drift of 20%, is not said to "take more".
    jpeg = _strategy("simplejpeg", "torchvision", 60.0, JPEG)  # 11.0 min in all, against pyav's 10.0
    (v,) = verdict.decide([pyav, jpeg], drifts=drift.drift(DRIFT_20))
    assert v.contrast is jpeg and v.unranked_of(jpeg) is not None
    assert "would take" not in v.sentence() and "is within the machine's drift of it" in v.sentence()
    assert v.sentence().endswith("decode with pyav, as measured: the drift between the stacks (20%) could move it.")
    headers, rows = verdict.table([v])
    assert [r[:2] for r in rows] == [["best", pyav.name], ["against (within drift)", jpeg.name]]
    # Several patterns: the table's row marks the contrast.
    (_, rows) = verdict.table([v, *verdict.decide([dataclasses.replace(pyav, pattern="z"),
                                                    dataclasses.replace(jpeg, pattern="z")])])
    assert rows[0][4].endswith("(within drift)") and not rows[1][4].endswith("(within drift)")


def test_strategies_further_apart_than_the_drift_or_of_one_stack_are_ranked_as_before() -> None:
    pyav = _strategy("pyav", "main", 60.0)
    apart = _strategy("torchvision-videoreader", "torchvision", 90.0)  # 50% slower: beyond a 20% drift
    jpeg = _strategy("simplejpeg", "torchvision", 90.0, JPEG)
    (v,) = verdict.decide([pyav, apart, jpeg], drifts=drift.drift(DRIFT_20))
    assert v.unranked == () and "within the machine's drift" not in v.sentence()
    assert f"{jpeg.name} would take 6.0 min more" in v.sentence()
    # One stack: as close as they are, rounds in one stack share the machine's drift; ranked as before.
    same = _strategy("torchcodec", "main", 61.0)
    near = _strategy("simplejpeg", "main", 60.0, JPEG)
    (v,) = verdict.decide([pyav, same, near], drifts=drift.drift(DRIFT_20))
    assert v.unranked == () and f"{near.name} would take 60 s more" in v.sentence()
    assert verdict.table([v]) == verdict.table(verdict.decide([pyav, same, near]))


def test_without_a_drift_measured_only_the_runner_up_of_another_stack_is_qualified() -> None:
    pyav, tv = _strategy("pyav", "main", 60.0), _strategy("torchvision-videoreader", "torchvision", 66.0)
    jpeg = _strategy("simplejpeg", "main", 120.0, JPEG)
    main_only = [_anchor("main", "start", 100), _anchor("main", "end", 100)]  # torchvision timed no anchor
    (v,) = verdict.decide([pyav, tv, jpeg], drifts=drift.drift(main_only))
    assert [(u.strategy, u.drift) for u in v.unranked] == [(tv, None)]
    assert ("next is decode the videos with torchvision-videoreader, 11.0 min, measured by the torchvision stack "
            "minutes apart from the main stack's, and this run measured no drift between them") in v.sentence()
    assert f"{jpeg.name} would take" in v.sentence()  # the contrast, of the best's stack, as before
    # Not the runner-up: nothing to say of it.
    (v,) = verdict.decide([pyav, tv, _strategy("torchcodec", "main", 61.0), jpeg], drifts=drift.drift(main_only))
    assert v.unranked == () and "no drift" not in v.sentence()


def _epoch(loader: str, stack: str, seconds: float, **store: object) -> Record:
    return records.parse(dict(measure="epoch", loader=loader, kind="frames" if store else "decode", stack=stack,
                              profile="corpus", pattern="random", frames=600, seconds=[seconds] * 3, workers=2,
                              batch_size=16, **store)).with_fps()


def test_a_loader_of_two_stacks_is_two_strategies_with_their_stack() -> None:
    jpeg = dict(extractor="ffmpeg", format="jpeg", quality=90)
    made = records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="corpus",
                              frames=600, seconds=[30.0], bytes=2**20, **jpeg))
    recs = [made, _epoch("pyav", "main", 10.0), _epoch("pil", "main", 6.0, **jpeg),
            _epoch("pil", "pillow-simd", 4.0, **jpeg), _epoch("torchvision-videoreader", "torchvision", 9.0)]
    by_stack = {(s.loader, s.stack): s for s in plan.project(recs, None)}
    assert set(by_stack) == {("pyav", "main"), ("pil", "main"), ("pil", "pillow-simd"),
                             ("torchvision-videoreader", "torchvision")}
    assert by_stack["pil", "main"].epoch_seconds == 6.0 and by_stack["pil", "pillow-simd"].epoch_seconds == 4.0
    # Main's names as they were; a stack that swaps a library's build says so; a loader of its own stack needs not.
    assert by_stack["pil", "main"].name == "extract to ffmpeg-jpeg-q90, read with pil"
    assert by_stack["pil", "pillow-simd"].name == "extract to ffmpeg-jpeg-q90, read with pil [pillow-simd]"
    assert by_stack["torchvision-videoreader", "torchvision"].name == "decode the videos with torchvision-videoreader"
    assert by_stack["pil", "pillow-simd"].row()["stack"] == "pillow-simd"


def _two_stack_run(run_dir: Path) -> Path:
    """The report fixture's run, with pil's epochs in main and in pillow-simd (4% slower than
    simplejpeg, the best of random) and anchors 25% apart: pil [pillow-simd] is within the drift."""
    fx.make_run(run_dir)
    jpeg = dict(extractor="ffmpeg", format="jpeg", quality=90)
    for pattern in fx.PATTERNS:
        for stack, seconds in (("main", [5.0, 6.0, 7.0]), ("pillow-simd", [2.1, 3.1, 4.1])):
            records.append(run_dir / "records.jsonl", records.parse(dict(
                measure="epoch", loader="pil", kind="frames", stack=stack, profile="corpus", pattern=pattern,
                frames=fx.EPOCH_FRAMES, seconds=seconds, workers=2, batch_size=fx.BATCH_SIZE, **jpeg)).with_fps())
    for r in (_anchor("main", "start", 100), _anchor("main", "end", 100), _anchor("pillow-simd", "start", 125),
              _anchor("pillow-simd", "end", 125)):
        records.append(run_dir / "records.jsonl", r)
    return run_dir


def test_the_terminal_and_the_report_say_the_same_of_strategies_within_the_drift(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = _two_stack_run(tmp_path / "run")
    data = fx.write_dataset(run_dir, disk_budget=3 * 2**30, epochs=40)  # the stores win: from 21 epochs
    simd = "extract to ffmpeg-jpeg-q90, read with pil [pillow-simd]"
    for pattern in (None, "random"):
        cli.summary(run_dir / "records.jsonl", data, pattern)
        printed = capsys.readouterr().out.split("verdict: ", 1)[1]
        written = reports.build(run_dir, pattern=pattern)
        page = written["report"].read_text(encoding="utf-8")
        said = page[page.index('id="verdict"'):page.index("</div>", page.index('id="verdict"'))]
        for line in printed.splitlines():  # the sentence, and the table's rows
            assert all(html.escape(cell.strip()) in said for cell in line.split("  ") if cell.strip())
        # One pattern: its table names it whole; one row per pattern: in a few words beside the best.
        assert simd in printed if pattern else "(within drift: pil [pillow-simd] on ffmpeg-jpeg-q90)" in printed
    assert f"{simd} (pillow-simd stack" in printed and "is within the machine's drift of it" in printed
    assert "the main and pillow-simd stacks" in printed and "25%" in printed
    # The plan's table marks it beside its name; plan.csv says which stack measured each strategy.
    text = html.unescape(page)
    mark = "within the machine's drift of the best (25% between the stacks)"
    assert f'{simd} <span class="muted">{mark}</span>' in text
    following = text.split("Next in the plan: " + simd, 1)[1].split("</p>", 1)[0]  # the pattern's card says so too
    assert following.endswith(f"; {mark}.")
    with open(written["plan"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["frame_loader"], r["stack"]) for r in rows if r["frame_loader"] == "pil"} == {
        ("pil", "main"), ("pil", "pillow-simd")}
    assert all(r["stack"] for r in rows)
