"""A long video's first frames as a clip: a stream copy whose frames are the video's own, and a
budget that cuts only where a random access still costs what it does in the whole video."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import loaders
from benchmarks import budget, clips, patterns
from benchmarks.calibration import Calibration
from benchmarks.spec import RunSpec, Store, Video
from loaders import LoaderError, reference
from loaders.probe import probe


def test_the_cut_falls_where_every_frame_kept_has_its_references() -> None:
    # decode order I P B B P B B (pts): B-frames follow the P-frame shown after them
    order = [0, 3, 1, 2, 6, 4, 5]
    assert [clips.cut_point(order, most) for most in range(1, 8)] == [1, 1, 1, 4, 4, 4, 7]
    assert clips.cut_point([1, 0], 1) == 0  # the first packet is not the first frame shown
    assert clips.cut_point(list(range(10)), 20) == 10


@pytest.mark.parametrize("profile", ["tiny-h264-bframes", "tiny-hevc", "tiny-vp9"])
def test_a_clip_holds_the_videos_first_frames_exactly(tiny_videos: dict[str, Path], tmp_path: Path,
                                                       profile: str) -> None:
    video = str(tiny_videos[profile])
    whole = probe(video)
    clip, kept = clips.first_frames(video, 40, tmp_path)
    assert clip != video and Path(clip).parent == tmp_path and 30 <= kept <= 40
    cut = probe(clip)
    assert cut.num_frames == kept and list(cut.keyframes) == [k for k in whole.keyframes if k < kept]
    ours, theirs = reference.decode(clip), reference.decode(video, range(kept))
    for i in range(kept):
        np.testing.assert_array_equal(ours.frames[i], theirs.frames[i], err_msg=f"{profile} frame {i}")
    again = clips.first_frames(video, 40, tmp_path)
    assert again == (clip, kept) and len(list(tmp_path.iterdir())) == 1  # made once


def test_a_short_video_is_its_own_clip_and_a_bad_one_is_named(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    video = str(tiny_videos["tiny-h264-bframes"])
    assert clips.first_frames(video, 10_000, tmp_path) == (video, probe(video).num_frames)
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # where the clips folder should be: no clip can be written
    with pytest.raises(LoaderError, match="a-file"):
        clips.first_frames(video, 20, blocked / "clips")
    bad = tmp_path / "not-a-video.mp4"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(LoaderError, match="not-a-video.mp4"):
        clips.first_frames(str(bad), 10, tmp_path)


def test_a_budget_cuts_long_videos_to_two_keyframe_intervals_at_least() -> None:
    # "one": one keyframe: no cut keeps random access as it is.
    videos = {"long": Video(frames=9000, width=1280, height=720, keyframes=150),
              "gop": Video(frames=9000, width=1280, height=720, keyframes=15),
              "one": Video(frames=900, width=1280, height=720, keyframes=1)}
    plan = RunSpec(videos=videos, patterns=patterns.parse(["random-frame"]), decoders=["pyav"], readers=[],
                       stores=[Store(format="jpeg", store_size=256)], frames=8, calibration=Calibration(), epochs=1,
                       workers=[2], cores=2)
    cut, dropped = budget.fit(plan, budget.estimate(plan).total * 0.5)
    assert cut.clips == {"long": budget.MIN_CLIP_FRAMES, "gop": 1200}
    assert cut.videos["long"].frames == budget.MIN_CLIP_FRAMES and cut.videos["one"].frames == 900
    assert any("2 of 3 videos cut to their first 300-1200 frames" in d for d in dropped)
    assert "2 cut to their first frames" in cut.lines()[0]
    whole, _ = budget.fit(plan, budget.estimate(plan).total * 2)
    assert whole.clips == {}  # within the budget nothing is cut


def test_a_budget_run_measures_the_clip_and_plans_for_the_whole_video(tiny_videos: dict[str, Path], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import cli, dataset, records

    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(budget, "MIN_CLIP_FRAMES", 20)  # the tiny video's 75 frames count as long
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(tiny_videos["tiny-h264-bframes"], folder / "long.mp4")
    args = ["--videos", str(folder), "--budget", "0.5s", "--loaders", "pyav,npy", "--formats", "npy", "--gops", "",
            "--full-size", "", "--patterns", "sequential,random-frame", "--workers", "0", "--min-time", "0",
            "--min-rounds", "1", "--warmup", "0", "--frames", "4", "--size", "32", "--out", str(tmp_path / "out"),
            "--run-id", "r", "--stores", str(tmp_path / "stores"), "--jobs", "1"]
    assert cli.main(args) == 0
    assert "1 of 1 videos cut to their first" in capsys.readouterr().out
    kept = dataset.load(tmp_path / "out" / "r")
    assert kept is not None and kept.frames == 75  # the plan is for the whole video
    assert "1 of 1 videos cut to their first" in kept.budgets[loaders.current_stack()]  # the report says so
    clip = kept.measured["long"]  # and projects from the clip that was measured
    assert Path(clip.path).parent == tmp_path / "stores" / "clips" and 20 <= clip.frames < 75
    recs = list(records.read(tmp_path / "out" / "r" / "records.jsonl"))
    made = [r for r in recs if r.measure == "extraction"]
    assert [r.frames for r in made] == [clip.frames] and made[0].status == "ok"
    timed = [r for r in recs if r.measure in ("per_frame", "epoch") and r.loader in ("pyav", "npy")]
    assert timed and all(r.status == "ok" for r in timed), [r.reason for r in timed if r.status != "ok"]
    # Another stack of the same run measures what the first one did, whatever its own budget
    # would pick (an hour keeps the whole video): one run, one sample; a clip removed since is cut again.
    Path(clip.path).unlink()
    assert cli.main([*args[:args.index("--budget")], "--budget", "1h", *args[args.index("--budget") + 2:],
                     "--loaders", "torchcodec"]) == 0
    again = dataset.load(tmp_path / "out" / "r")
    assert again is not None and again.measured["long"].path == clip.path and Path(clip.path).is_file()
    assert "the videos this run measured before (whole or cut), kept" in again.budgets[loaders.current_stack()]
    later = [r for r in records.read(tmp_path / "out" / "r" / "records.jsonl") if r.loader == "torchcodec"]
    epochs = [r for r in later if r.measure == "epoch"]
    assert epochs and all(r.options["video_frames"] <= clip.frames for r in epochs)


def test_a_budgets_cut_reaches_the_workspace_through_the_run_spec_alone(tiny_videos: dict[str, Path], tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import types

    from benchmarks import cli, core, dataset
    from benchmarks.spec import Target
    from loaders.vocabulary import DECODE

    monkeypatch.setattr(budget, "MIN_CLIP_FRAMES", 20)  # the tiny video's 75 frames count as long
    video = str(tiny_videos["tiny-h264-bframes"])
    whole = dataset.probe_video(video)
    run = RunSpec(videos={"long": whole}, patterns=patterns.parse(["random-frame"]), decoders=["pyav"], readers=[],
                  stores=[], frames=4, calibration=Calibration(min_time=0.0, min_rounds=1, warmup=0), epochs=1,
                  workers=[0], cores=2)
    cut, _ = budget.fit(run, budget.estimate(run).total * 0.2)
    assert set(cut.clips) == {"long"} and cut.videos["long"].path == video  # the budget says how far, not where
    # The command line's cut: the clip made, probed, and in the video's place in a new RunSpec.
    clip = cli.Bench.cut(types.SimpleNamespace(store_root=tmp_path / "stores"), whole, cut.clips["long"])  # type: ignore[arg-type]
    assert clip.path != video and Path(clip.path).parent == tmp_path / "stores" / "clips"
    assert 20 <= clip.frames <= cut.clips["long"] and clip.frames == probe(clip.path).num_frames
    spec = dataclasses.replace(cut, videos={"long": clip})
    work = core.Workspace(spec, tmp_path / "stores")
    assert work.video("long") == clip.path and work.num_frames(clip.path) == clip.frames
    pattern = spec.patterns[0]
    samples = work.samples(clip.path, pattern)
    assert samples and all(s.video == clip.path and max(s.indices) < clip.frames for s in samples)
    require = loaders.available()["pyav"]
    if require is not None:
        pytest.skip(require)
    [case] = [c for c in core.cases([Target("pyav", DECODE)], spec.videos, spec.patterns, spec.frames)
              if c.measure == "per_frame"]
    [(_, record)] = list(work.measure_interleaved([case]))
    assert record.status == "ok" and record.exact, record.reason  # the clip's frames, checked against the clip
    # Boxes given for the whole video follow it to its clip, those past the clip's end left out.
    boxes = cli.clipped({video: {0: "a", clip.frames: "b"}, "other": {1: "c"}}, run.videos, spec.videos)
    assert boxes == {clip.path: {0: "a"}, "other": {1: "c"}}
