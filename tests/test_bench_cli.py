"""``python -m benchmarks`` end to end on tiny videos: complete runs, --resume, failures recorded.

One quick run (one round, few frames, workers 0 and 2) is shared by the tests of this module;
it runs in-process so a test can make one loader fail half-way.
"""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest

import loaders
from benchmarks import cli, dataset, patterns, perframe, records
from benchmarks.records import Record
from loaders.vocabulary import BASELINE

ARGS = ["--quick", "--min-time", "0", "--min-rounds", "1", "--warmup", "0", "--epochs", "2", "--frames", "4",
        "--workers", "0,2", "--size", "32", "--batch-size", "4", "--formats", "jpeg,npy,tar", "--jobs", "2",
        "--strides", "1,2",
        # Full-size frame stores, one transcode at 32 px read by pyav, cold epochs for it and the originals.
        "--store-sizes", "full", "--gops", "2", "--transcode-sizes", "32", "--transcode-loaders", "pyav",
        "--cold-sizes", "32,videos,transcodes", "--cache", "cold,warm",  # set: a --quick budget keeps both
        "--step-ms", "20", "--gpus", "2"]  # a training step, kept for the plan
PATTERNS = [p.name for p in patterns.default()]


@pytest.fixture(scope="module")
def run(tiny_videos: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick run over one tiny video and one that is not a video; one loader fails while reading."""
    base = tmp_path_factory.mktemp("bench")
    videos = base / "videos"
    videos.mkdir()
    shutil.copy(tiny_videos["tiny-h264-odd"], videos / "good.mp4")
    (videos / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    boxes = base / "boxes.json"  # boxes on two frames only: every sample must still come through
    boxes.write_text('{"good.mp4": {"3": [[0, 0, 5, 5]], "17": [[1, 2, 3, 4], [5, 6, 7, 8]]}}')
    mp = pytest.MonkeyPatch()
    real = perframe.read_samples

    def failing(src: loaders.Source, samples: list) -> None:
        if type(src).__name__ == "NullSource":
            raise loaders.CorruptVideo(src.path, "simulated failure half-way through the run")
        real(src, samples)

    mp.setattr(perframe, "read_samples", failing)
    mp.setenv("VIDBENCH_CACHE_DIR", str(base / "cache"))  # probes cached here, not in the home folder
    try:
        assert cli.main([*ARGS, "--videos", str(videos), "--out", str(base / "results"), "--run-id", "r1",
                         "--stores", str(base / "stores"), "--annotations", str(boxes)]) == 0
    finally:
        mp.undo()
    return base


def _records(base: Path) -> list[Record]:
    return list(records.read(base / "results" / "r1" / "records.jsonl"))


def _expected_targets() -> list[str]:
    names = [*loaders.STACKS[loaders.current_stack()], BASELINE]
    return [n for n in names if loaders.available()[n] is None]


def test_every_available_loader_and_pattern_has_records(run: Path) -> None:
    recs = _records(run)
    assert (run / "results" / "latest").resolve() == (run / "results" / "r1").resolve()
    per_frame = {(r.loader, r.pattern) for r in recs if r.measure == "per_frame" and r.profile == "good"
                 and r.status in ("ok", "wrong")}
    epoch = {(r.loader, r.pattern, r.workers) for r in recs if r.measure == "epoch" and r.status in ("ok", "wrong")}
    for name in _expected_targets():
        for pattern in PATTERNS:
            if name != BASELINE:  # the baseline's reads fail on purpose (see the fixture)
                assert (name, pattern) in per_frame
            if name in cli.PER_FRAME_ONLY:  # cv2-seek: per frame only by default
                assert not {e for e in epoch if e[0] == name}
            else:
                assert {(name, pattern, 0), (name, pattern, 2)} <= epoch
    made = {r.format: r for r in recs if r.measure == "extraction" and r.status == "ok"}
    assert set(made) == {"jpeg", "npy", "tar", "mp4"}
    for r in made.values():  # each video's store bytes, for the plan to see how a store follows its videos
        per_video = r.options["video_bytes"]
        assert len(per_video) == r.options["videos"] and sum(per_video.values()) == r.bytes
        # and what the extraction cost in CPU each round, and each video's seconds: how many cores
        # one extraction kept busy
        assert len(r.options["cpu_seconds"]) == len(r.seconds) and all(c > 0 for c in r.options["cpu_seconds"])
        took = r.options["video_seconds"]
        assert took.keys() == per_video.keys() and all(0 < t <= r.seconds[-1] for t in took.values())
    mp4 = made["mp4"].store
    assert mp4 is not None and (made["mp4"].store_size, mp4.gop, made["npy"].store_size) == (32, 2, None)
    caches = collections.defaultdict(set)
    for r in recs:
        if r.measure == "epoch" and r.status == "ok":
            caches[r.loader, r.format].add(r.cache)
    # Cold and warm for the originals and the 32 px transcode, warm only for the full-size stores.
    assert caches["pyav", None] == caches["pyav", "mp4"] == {"cold", "warm"}
    assert caches["npy", "npy"] == {"warm"} and caches[BASELINE, None] == {"warm"}
    for r in recs:
        if r.measure == "per_frame" and r.status == "ok":
            assert r.seconds and r.fps_median and r.frames > 0 and r.env["stack"] == loaders.current_stack()
            assert (r.exact is None) == (r.loader == BASELINE)
            # A right frame that is not pixel-exact says why: a JPEG store's loss, with its size.
            assert (r.reason is not None) == (r.exact is False)
            if r.format in ("jpeg", "tar"):
                assert r.exact is False and r.reason.startswith("right frame, lossy store (max difference ")
        if r.measure == "epoch" and r.status == "ok":
            assert len(r.seconds) == 2 and r.options["interleaved"]  # --epochs 2, every one kept
            assert r.peak_rss_bytes and r.threads["ffmpeg"] >= 1 and r.batch_size == 4 and r.options["annotations"]
    assert not [r for r in recs if r.status == "wrong"]  # every loader of the stack returns the right frames
    unavailable = {r.loader for r in recs if r.status == "unavailable"}
    assert unavailable == {n for n in loaders.STACKS[loaders.current_stack()] if loaders.available()[n] is not None}


def test_failures_become_error_records_not_a_lost_run(run: Path) -> None:
    errors = [r for r in _records(run) if r.status == "error"]
    broken = [r for r in errors if r.profile == "broken"]
    assert broken and "broken.mp4" in (broken[0].reason or "")
    failed = [r for r in errors if r.loader == BASELINE and r.measure == "per_frame"]
    assert len(failed) == len(PATTERNS)
    assert all("simulated failure" in (r.reason or "") for r in failed)
    assert {r.profile for r in errors} <= {"broken", "good"}


def test_resume_does_only_the_missing_cells(run: Path) -> None:
    path = run / "results" / "r1" / "records.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    cut = len(lines) * 3 // 4
    kept = lines[:cut]
    path.write_text("".join(kept) + lines[cut][:20])  # stopped late in the run, mid-line
    cli.main([*ARGS, "--videos", str(run / "videos"), "--out", str(run / "results"), "--resume",
              "--stores", str(run / "stores")])
    after = _records(run)
    cells = collections.Counter(r.cell for r in after)
    assert max(cells.values()) == 1  # nothing measured twice
    assert after[: len(kept)] == [r for r in records.read(_write(run / "kept.jsonl", kept))]  # kept as they were
    assert set(cells) == {r.cell for r in records.read(_write(run / "all.jsonl", lines))}  # and finished


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines))
    return path


def test_the_run_keeps_the_dataset_its_plan_is_for(run: Path) -> None:
    kept = dataset.load(run / "results" / "r1")
    assert kept is not None and list(kept.measured) == ["good"]  # broken.mp4 was never measured
    with loaders.open("pyav", str(run / "videos" / "good.mp4")) as src:
        assert kept.frames == kept.measured["good"].frames == src.num_frames
    assert kept.epochs == 10 and kept.disk_budget_bytes is None  # the defaults: the plan shows in every run
    assert (kept.step_ms, kept.target_fps, kept.gpus, kept.storage_bandwidth) == (20.0, None, 2, None)


def test_epochs_record_their_cpu_time_and_the_plan_sets_them_against_the_step(run: Path) -> None:
    import reports
    from benchmarks.analysis import plan, training

    ok = [r for r in _records(run) if r.measure == "epoch" and r.status == "ok"]
    assert ok
    for r in ok:
        cpu = r.options["cpu_seconds"]
        assert len(cpu) == len(r.seconds) and all(c > 0 for c in cpu), (r.cell, cpu)
        # With workers, what handing a batch of the case's shape to the main process costs them a frame.
        handoff = r.options.get("handoff_cpu_seconds")
        assert (handoff is not None) == bool(r.workers) and (handoff is None or 0 <= handoff < 1), (r.cell, handoff)
    data = dataset.load(run / "results" / "r1")
    step = training.step_of(data)
    trainings = training.assess(plan.project(ok, data, data.epochs), ok, data, step)
    assert trainings and all(t.cpu_cores is not None and t.cpu_cores > 0 for t in trainings)
    assert set(training.recommend(trainings)) <= {r.pattern for r in ok}
    table = reports.tables.plan(_records(run), data)
    assert table["target_fps"].notna().all() and table["training_seconds"].notna().all()


def test_sample_measures_a_stratified_subset(tiny_videos: dict[str, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "videos"
    for name, where in (("tiny-h264-odd", "a/clip.mp4"), ("tiny-h264-bframes", "b/clip.mp4"),
                        ("tiny-hevc", "hevc.mp4"), ("tiny-vp9", "deep/er/vp9.webm")):
        (folder / where).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_videos[name], folder / where)
    (folder / "notes.mp4").write_bytes(b"not a video")
    (folder / ".cache").mkdir()  # hidden folders are not the dataset
    shutil.copy(tiny_videos["tiny-av1"], folder / ".cache" / "copy.mkv")
    args = ["--videos", str(folder), "--sample", "3", "--train-epochs", "4", "--disk-budget", "1G",
            "--measures", "extraction", "--loaders", "npy", "--formats", "npy", "--out", str(tmp_path / "out"),
            "--run-id", "s", "--stores", str(tmp_path / "stores"), "--jobs", "2", "--quick"]
    assert cli.main(args) == 0
    kept = dataset.load(tmp_path / "out" / "s")
    assert kept is not None
    assert (kept.videos, kept.unreadable, kept.epochs, kept.disk_budget_bytes) == (4, 1, 4, 2**30)
    # Three of four videos, one per class first: hevc, vp9 and one of the two h264 ones.
    assert len(kept.measured) == 3
    assert {v.video_class for v in kept.measured.values()} == {"360p h264", "360p hevc", "360p vp9"}
    assert "sample: 3 of 5 videos" in capsys.readouterr().err
    made = [r for r in records.read(tmp_path / "out" / "s" / "records.jsonl") if r.measure == "extraction"]
    assert made and made[0].options["videos"] == 3
    with pytest.raises(SystemExit, match="--sample needs --videos"):
        cli.main(["--sample", "2", "--out", str(tmp_path / "out")])


def test_the_run_marks_its_stack_started_and_finished(run: Path) -> None:
    from benchmarks import finished

    marks = list((run / "results" / "r1").glob(f"{finished.PREFIX}*.json"))
    assert [m.name for m in marks] == [f"{finished.PREFIX}{loaders.current_stack()}.json"]
    assert finished.unfinished(run / "results" / "r1") == {}  # started, then finished
    # with the seconds the run's estimate said before it measured, and those it took
    estimated, took = finished.timing(run / "results" / "r1", loaders.current_stack()) or (0.0, 0.0)
    assert estimated > 0 and took > 0
