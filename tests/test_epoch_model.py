"""The epoch model: start-up, opens and frames told apart in a measured epoch and projected each
with its own scale. Records are made by hand from known costs, so every figure the model should
recover can be worked out on paper (see the comments)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from benchmarks import budget, patterns, records, runner
from benchmarks.analysis import epochs
from benchmarks.dataset import ClassSummary, Dataset, Video
from benchmarks.patterns import Pattern, Sample
from benchmarks.records import Record

HD = "720p h264"
START, OPEN, PER_FRAME = 0.5, 0.05, 0.002  # the truth: start-up, one open, one frame in the epoch
BENCH = 0.001  # the per-frame benchmark's seconds per frame (the epoch's k is then 2)


def _sample(frames: int = 128, keyframes: int = 2) -> dict[str, Video]:
    return {n: Video(f"/v/{n}.mp4", 50_000, frames, 25.0, 1280, 720, "h264", keyframes=keyframes) for n in "ab"}


def _dataset(classes: dict[str, ClassSummary] | None = None, frames: int = 128) -> Dataset:
    classes = classes or {HD: ClassSummary(10, 1280, 51.2, 500_000, {"1280x720": 1280}, keyframes=20)}
    return Dataset("/v", classes, 0, _sample(frames), 10**12, 10**12, 10**15)


def _reader_records(frames: int = 128) -> tuple[list[Record], list[Record]]:
    per_frame = [Record(measure="per_frame", loader="npy", kind="frames", stack="main", profile=n,
                        pattern="sequential", frames=32, seconds=[32 * BENCH]).with_fps() for n in "ab"]
    opens = [Record(measure="open", loader="npy", kind="frames", stack="main", profile=n, seconds=[OPEN] * 3)
             for n in "ab"]
    return per_frame, opens


def _epoch(seconds: float, first: float, cap: int | None = None, batch: int = 8, pattern: str = "sequential",
           kind: str = "frames", loader: str = "npy", workers: int = 0) -> Record:
    options = {"frames_per_video": cap, "first_batch_seconds": [first, first], "pattern": {"clip_len": 16}
               if pattern == "sequential" else {}}
    return Record(measure="epoch", loader=loader, kind=kind, stack="main", profile="sample", pattern=pattern,
                  frames=256, seconds=[seconds, seconds], workers=workers, batch_size=batch, options=options,
                  env={"cores": 2})


def test_the_model_recovers_start_up_open_and_per_frame_costs() -> None:
    # Two 128-frame videos, sequential clips of 16 in batches of 8, workers 0: batch 1 is video a,
    # batch 2 video b. The epoch: 0.5 s start-up + 2 opens x 0.05 + 256 frames x 0.002 = 1.112 s;
    # its first batch: 0.5 + 0.05 + 128 x 0.002 = 0.806 s.
    per_frame, opens = _reader_records()
    got = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None)
    # The dataset: 10 such videos: one start-up, 10 opens, 1,280 frames at 0.002 s.
    assert got.startup == pytest.approx(START)
    assert got.opens == pytest.approx(10 * OPEN)
    assert got.frames == pytest.approx(1280 * PER_FRAME)
    assert got.seconds == pytest.approx(START + 10 * OPEN + 1280 * PER_FRAME)
    assert got.low <= got.seconds <= got.high
    assert got.open_count == pytest.approx(10)
    assert not got.not_sampled and not got.mostly_startup


def test_open_cost_is_a_fixed_part_and_one_per_frame() -> None:
    measured = {"a": Video("/v/a.mp4", 1, 100, 25.0, 640, 360, "h264"),
                "b": Video("/v/b.mp4", 1, 300, 25.0, 640, 360, "h264")}
    data = Dataset("/v", {}, 0, measured, 1, 1, 1)
    records = [Record(measure="open", loader="pyav", kind="decode", stack="main", profile=p, seconds=[s])
               for p, s in (("a", 0.03), ("b", 0.05))]
    cost = epochs.open_cost(records, data)
    assert (cost.fixed, cost.per_frame) == (pytest.approx(0.02), pytest.approx(0.0001))
    assert cost(1000) == pytest.approx(0.12)
    assert not epochs.open_cost([], data).measured


def test_start_up_is_the_first_batch_less_a_batch_of_steady_work() -> None:
    # 5 batches of 1 sample in 2.5 s, the first after 1.0 s; 2 workers side by side, the busiest
    # reading 3: 2 samples in the 1.5 s after the first batch, 0.75 s each, so start-up was 0.25 s.
    assert epochs.startup(1.0, 2.5, 5, 1, 2) == pytest.approx(0.25)
    assert epochs.startup(1.0, 1.0, 1, 1, 1) is None  # one batch: nothing to tell apart
    assert epochs.startup(1.0, 1.5, 2, 1, 2) is None  # one batch a worker: the same
    assert epochs.startup(0.1, 10.0, 3, 1, 1) == 0.0  # never below 0
    # With the last batch's time: 3 batches a worker between 1.0 s and 2.0 s (0.5 s a batch),
    # and 0.3 s of shutdown after the last batch: 0.5 + 0.3 s of the epoch is no batch's work.
    assert epochs.startup(1.0, 2.3, 6, 1, 2, last_batch=2.0) == pytest.approx(0.8)


def test_start_up_counts_a_short_last_batch_as_short_work() -> None:
    # As measured (pyav, random clips, 2 workers): 20 clips in batches of 8 make batches of 8, 8
    # and 4; worker 0 reads 12 clips, worker 1 reads 8 alongside. The first batch came at 0.50 s,
    # the last at 0.66 s: 4 clips in 0.16 s, 0.04 s a clip, so the first batch held 0.32 s of work
    # and start-up was 0.18 s (+ 0.01 s shutdown). Counting rounds of batches, the second round
    # (half a batch) would have been taken for a whole one: start-up 0.34 s, and the frames of the
    # whole dataset projected at half their time.
    assert epochs.loads(20, 8, 2) == [12, 8]
    assert epochs.loads(20, 8, 0) == [20] and epochs.loads(3, 8, 4) == [3]
    assert epochs.startup(0.50, 0.67, 20, 8, 2, last_batch=0.66) == pytest.approx(0.19)


def test_a_capped_epoch_scales_only_its_per_frame_term() -> None:
    # The same truth, the epoch capped at the first 64 frames of each video, batches of 4 clips:
    # 0.5 + 2 x 0.05 + 128 x 0.002 = 0.856 s, first batch 0.5 + 0.05 + 64 x 0.002 = 0.678 s.
    per_frame, opens = _reader_records()
    whole = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None)
    capped = epochs.project(_epoch(0.856, 0.678, cap=64, batch=4), per_frame, opens, _dataset(), None)
    assert capped.startup == pytest.approx(START)
    assert capped.opens == pytest.approx(whole.opens)
    assert capped.frames == pytest.approx(whole.frames)
    # Scaling the whole capped epoch by frames (as before) would have made it 0.856 x 10 = 8.56 s.
    assert capped.seconds == pytest.approx(START + 10 * OPEN + 1280 * PER_FRAME)


def _capped_long_gop(options: dict[str, object]) -> tuple[Dataset, Record]:
    """One 640-frame video with a keyframe every 320, and a random-frame epoch of 1 s over its first 32."""
    sample = {"a": Video("/v/a.mp4", 1, 640, 25.0, 640, 360, "h264", keyframes=2)}
    data = Dataset("/v", {"360p h264": ClassSummary(1, 640, 25.6, 1, {"640x360": 640}, keyframes=2)}, 0, sample,
                   10**12, 10**12, 10**15)
    epoch = Record(measure="epoch", loader="pyav", kind="decode", stack="main", profile="sample",
                   pattern="random-frame", frames=32, seconds=[1.0], workers=0, batch_size=8, options=options)
    return data, epoch


def test_random_access_is_costed_by_the_whole_video_not_a_short_cap() -> None:
    # A 640-frame video with a keyframe every 320: random frames in its first 32 frames decode
    # about 16 each; in the whole video about 160. The model says so from the keyframe index.
    data, epoch = _capped_long_gop({"frames_per_video": 32, "pattern": {"seed": 0}})
    got = epochs.project(epoch, [], [], data, None)
    # The capped epoch read 32 frames in 1 s; the whole video's 640 frames cost far more than 20 x that.
    assert got.frames > 5 * 20 * 1.0
    pattern = Pattern("random-frame")
    cap = sum(epochs.epoch_work(pattern, {"/v/a.mp4": 32}, {"/v/a.mp4": 320.0}, "pyav", 8, 0).values(),
              epochs.Work())
    whole = epochs.typical_work(pattern, 640, 320.0, "pyav", 8, 0)
    assert whole.decoded / whole.returned > 5 * cap.decoded / cap.returned
    assert whole.seeks > 320  # most random frames seek back to their keyframe


def test_uniform_k_scales_with_videos_not_frames() -> None:
    per_frame, opens = _reader_records()
    epoch = _epoch(1.0, 0.7, pattern="uniform-8", batch=1)
    one = epochs.project(epoch, [], [], _dataset(), None)
    longer = ClassSummary(10, 12_800, 512.0, 500_000, {"1280x720": 12_800}, keyframes=20)
    more = ClassSummary(20, 2560, 102.4, 500_000, {"1280x720": 2560}, keyframes=40)
    assert epochs.project(epoch, [], [], _dataset({HD: longer}), None).frames == pytest.approx(one.frames)
    assert epochs.project(epoch, [], [], _dataset({HD: more}), None).frames == pytest.approx(2 * one.frames)


def test_a_class_missing_from_the_sample_widens_the_range_and_is_named() -> None:
    per_frame, opens = _reader_records()
    hevc = ClassSummary(10, 1280, 51.2, 500_000, {"1280x720": 1280}, keyframes=20)
    only = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None)
    both = epochs.project(_epoch(1.112, 0.806), per_frame, opens,
                          _dataset({HD: _dataset().classes[HD], "720p hevc": hevc}), None)
    assert both.not_sampled == ["720p hevc"]
    assert "720p hevc: not in the sample, projected from pixels" in both.notes
    assert not only.not_sampled
    # Its frames at the sampled class's seconds per pixel, with a range from half to twice that.
    assert both.frames == pytest.approx(2 * only.frames)
    assert (both.high - both.low) / both.seconds > (only.high - only.low) / only.seconds
    assert both.low <= both.seconds <= both.high


def test_a_tiny_dataset_whose_epoch_is_mostly_start_up_says_so() -> None:
    per_frame, opens = _reader_records()
    tiny = {HD: ClassSummary(1, 128, 5.1, 50_000, {"1280x720": 128}, keyframes=2)}
    got = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(tiny), None)
    assert got.mostly_startup and got.startup_share > 0.5
    assert any(n.startswith("mostly start-up") for n in got.notes)


def test_opens_count_each_worker_that_reads_a_video() -> None:
    samples = [Sample("a", (0,)), Sample("a", (1,)), Sample("b", (0,)), Sample("b", (1,))]
    assert runner.opens(samples, 1, 0) == 2  # the main process opens each video once
    assert runner.opens(samples, 1, 2) == 4  # batches alternate: both workers open both videos
    assert runner.opens(samples, 2, 2) == 2  # one video per batch, one worker each


def test_the_crossover_uses_the_modelled_epochs_and_the_whole_extraction() -> None:
    from benchmarks.analysis import crossover

    capped = {"frames_per_video": 60, "video_frames": 120}
    recs = [records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="s", seconds=[12.0],
                               frames=600, extractor="ffmpeg", format="jpeg", quality=90)),
            Record(measure="epoch", loader="pyav", kind="decode", stack="main", profile="s", pattern="sequential",
                   seconds=[6.0], workers=0, options=capped),
            records.parse(dict(measure="epoch", loader="pil", kind="frames", stack="main", profile="s",
                               pattern="sequential", seconds=[2.0], workers=0, extractor="ffmpeg", format="jpeg",
                               quality=90, options=capped))]
    # The model: decoding the whole videos 20 s (18-22), reading the store 5 s (4-6).
    modelled = {"pyav": (20.0, 18.0, 22.0), "pil": (5.0, 4.0, 6.0)}
    [pair] = crossover.pairs(recs, model=lambda r: modelled[r.loader or ""])
    assert (pair.extract_seconds, pair.epoch_decode, pair.epoch_frames) == (12.0, 20.0, 5.0)
    assert pair.epochs == pytest.approx(12 / 15)
    assert (pair.epochs_low, pair.epochs_high) == (pytest.approx(12 / 18), pytest.approx(12 / 12))
    [plain] = crossover.pairs(recs, model=lambda r: None)  # nothing to model with: as timed
    assert (plain.extract_seconds, plain.epoch_decode) == (pytest.approx(2.4), 6.0)


def test_the_worked_example_of_the_docs() -> None:
    """docs/plan-model.md's example: a capped random-clip epoch of 4 videos projected to 10,000."""
    sample = {f"v{i}": Video(f"/v/v{i}.mp4", 1, 300, 30.0, 1280, 720, "h264", keyframes=5) for i in range(4)}
    whole = ClassSummary(10_000, 3_000_000, 100_000.0, 1, {"1280x720": 3_000_000}, keyframes=50_000,
                         lengths={"300": 10_000})
    data = Dataset("/v", {HD: whole}, 0, sample, 10**12, 10**12, 10**15)
    opens = [Record(measure="open", loader="pyav", kind="decode", stack="main", profile=p, seconds=[0.05])
             for p in sample]
    epoch = Record(measure="epoch", loader="pyav", kind="decode", stack="main", profile="s",
                   pattern="random-clip-s1", seconds=[1.6], workers=2, batch_size=4, env={"cores": 2},
                   options={"frames_per_video": 64, "first_batch_seconds": [0.9], "last_batch_seconds": [1.45],
                            "samples": 16, "pattern": {"clip_len": 16, "stride": 1, "seed": 0}})
    got = epochs.project(epoch, [], opens, data, None)
    shares = epochs._epoch_shares(epoch, opens, data)
    assert shares is not None
    one = epochs.megapixels(1280, 720, None) * epochs.GUESS.decode + epochs.GUESS.decode_frame  # a decoded frame
    assert (shares.first / one, shares.after / one) == (pytest.approx(251.2, abs=0.1), pytest.approx(291.2, abs=0.1))
    assert (shares.opens_first, shares.opens_after) == (pytest.approx(0.15), pytest.approx(0.10))
    assert got.startup == pytest.approx(0.512, abs=0.001)  # 0.362 s start-up and 0.15 s shutdown
    assert got.opens == pytest.approx(500, rel=0.001)
    # Worker 1's batches held 546 of the batches' 1,053 units: 1.93 workers busy, against the
    # dataset's 2. The frames at the geometric mean of x0.963 and x1.
    assert (shares.total / one, shares.busiest / one) == (pytest.approx(1052.8, abs=0.1), pytest.approx(546.4, abs=0.1))
    assert got.busy == pytest.approx(0.963, abs=0.001)
    assert got.frames == pytest.approx(11_275 * got.busy ** 0.5, rel=0.001)  # 11,066
    assert got.seconds == pytest.approx(11_567, rel=0.001)
    # The open term at half to 1.5 times, the idle workers' x0.963 at the low end, then how far an
    # epoch moves between runs, either way.
    assert epochs.REPEATS == 1.15
    assert (got.low, got.high) == (pytest.approx((11_275 * got.busy + 250.5) / 1.15, rel=0.001),
                                   pytest.approx(12_025 * 1.15, rel=0.001))


def test_a_one_batch_epoch_takes_its_start_up_from_the_run_s_other_epochs() -> None:
    # Two 32-frame videos, sequential clips of 16 in batches of 8: 4 clips, one batch. The truth:
    # 0.5 s start-up + 2 opens x 0.05 + 64 frames x 0.002 = 0.728 s, all of it before the "first" batch.
    per_frame, opens = _reader_records()
    epoch = _epoch(0.728, 0.728)
    alone = epochs.project(epoch, per_frame, opens, _dataset(frames=32), None)
    helped = epochs.project(epoch, per_frame, opens, _dataset(frames=32), None, startup_elsewhere=START)
    assert alone.startup == 0.0 and any("one batch a worker" in n for n in alone.notes)
    assert helped.startup == pytest.approx(START)
    # The dataset (10 videos of 128 frames): 0.5 + 10 x 0.05 + 1,280 x 0.002.
    assert helped.seconds == pytest.approx(START + 10 * OPEN + 1280 * PER_FRAME)
    assert alone.seconds > 2 * helped.seconds  # start-up scaled with frames: what the model is for
    record = _epoch(1.112, 0.806)
    record.options["samples"] = 16
    assert epochs.startups(record) == [pytest.approx(START)] * 2


def test_a_transcoded_store_is_costed_at_its_own_keyframe_interval() -> None:
    # Capped at 32 frames, the epoch cannot see the videos' 320-frame keyframe interval; decoding a
    # store with a keyframe every frame costs the whole video what it cost the cap, per frame.
    data, epoch = _capped_long_gop({"frames_per_video": 32})
    originals = epochs.project(epoch, [], [], data, None)
    every_frame = epochs.project(epoch, [], [], data, None, gop=1)
    assert every_frame.frames == pytest.approx(20 * 1.0)  # 640 frames at the cap's cost per frame
    assert originals.frames > 5 * every_frame.frames


def test_open_timings_longer_than_the_epoch_are_scaled_down_in_the_projection_too() -> None:
    # Open records of 1 s against an epoch of 1.112 s with 0.5 s of start-up: two opens cannot have
    # taken 2 s; they are counted at 90% of the 0.612 s left, and the dataset's opens alike.
    per_frame, _ = _reader_records()
    slow = [Record(measure="open", loader="npy", kind="frames", stack="main", profile=n, seconds=[1.0]) for n in "ab"]
    got = epochs.project(_epoch(1.112, 0.806), per_frame, slow, _dataset(), None)
    share = 0.9 * (1.112 - got.startup) / 2.0
    assert got.opens == pytest.approx(10 * 1.0 * share)
    assert any("open timings exceed" in n for n in got.notes)


def test_a_class_is_costed_at_its_own_bitrate_not_its_sampled_videos() -> None:
    # Both sampled videos are noisy (0.1 MB a frame); the class's other videos may be as noisy or
    # flat (0.01 MB a frame). Entropy decoding follows the bytes, so the flat class decodes cheaper.
    sample = {n: Video(f"/v/{n}.mp4", 128 * 100_000, 128, 25.0, 1280, 720, "h264", keyframes=2) for n in "ab"}
    per_frame = [Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile=n,
                        pattern="sequential", frames=32, seconds=[32 * 0.004]).with_fps() for n in "ab"]
    _, opens = _reader_records()
    epoch = _epoch(1.6, 0.9, kind="decode", loader="pyav")

    def frames(bytes_a_frame: int) -> float:
        whole = ClassSummary(10, 1280, 51.2, 1280 * bytes_a_frame, {"1280x720": 1280}, keyframes=20)
        return epochs.project(epoch, per_frame, opens, Dataset("/v", {HD: whole}, 0, sample, 10**12, 10**12,
                                                                 10**15), None).frames

    g = epochs.GUESS

    def sequential(megabytes: float) -> float:  # a 720p frame decoded and returned
        return 0.9216 * (g.decode + g.output) + g.decode_frame + g.frame + megabytes * g.decode_byte

    assert frames(10_000) / frames(100_000) == pytest.approx(sequential(0.01) / sequential(0.1), rel=0.01)
    assert frames(10_000) < 0.7 * frames(100_000)


def test_a_class_sampled_once_says_its_range_has_no_spread_of_its_videos() -> None:
    per_frame, opens = _reader_records()
    got = epochs.project(_epoch(1.112, 0.806), per_frame[:1], opens, _dataset(), None)
    assert f"{HD}: one video sampled, so the range has no spread of its videos" in got.notes
    both = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None)
    assert not any("one video sampled" in n for n in both.notes)


def test_a_decoder_s_only_class_sampled_once_takes_the_cost_model_s_known_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # One class, one video sampled: no spread of its own, none to borrow. A decoder's range takes
    # how far a video's decoding strays from what its pixels and bytes say (the fit's x0.78-1.24).
    one = {"a": _sample()["a"]}
    per_frame = [Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="a",
                        pattern="sequential", frames=32, seconds=[32 * 0.004]).with_fps()]
    epoch = _epoch(1.6, 0.9, kind="decode", loader="pyav")
    data = Dataset("/v", _dataset().classes, 0, one, 10**12, 10**12, 10**15)
    got = epochs.project(epoch, per_frame, [], data, None)
    assert (f"{HD}: one video sampled, and no other to compare; the range takes how far a video's decoding "
            "strays from what its pixels and bytes say (x0.78-1.24)") in got.notes
    monkeypatch.setattr(epochs, "FIT_SPREAD", (1.0, 1.0))
    bare = epochs.project(epoch, per_frame, [], data, None)
    assert got.seconds == pytest.approx(bare.seconds)  # the point stays; the ends move out
    assert got.low < bare.low and got.high > bare.high


def test_a_class_sampled_once_borrows_the_spread_of_a_class_sampled_twice() -> None:
    # 720p sampled by a and b: 0.001 and 0.002 s a frame (x0.67-1.33 of their mean); 360p by c alone.
    sd = "360p h264"
    sample = {**_sample(), "c": Video("/v/c.mp4", 20_000, 128, 25.0, 640, 360, "h264", keyframes=2)}
    classes = {HD: ClassSummary(10, 1280, 51.2, 500_000, {"1280x720": 1280}, keyframes=20),
               sd: ClassSummary(10, 1280, 51.2, 200_000, {"640x360": 1280}, keyframes=20)}
    data = Dataset("/v", classes, 0, sample, 10**12, 10**12, 10**15)
    per_frame = [Record(measure="per_frame", loader="npy", kind="frames", stack="main", profile=n,
                        pattern="sequential", frames=32, seconds=[32 * s]).with_fps()
                 for n, s in (("a", 0.001), ("b", 0.002), ("c", 0.0005))]
    _, opens = _reader_records()
    got = epochs.project(_epoch(1.6, 0.9), per_frame, opens, data, None)
    assert any(n.startswith(f"{sd}: one video sampled; the range takes the widest spread") and "x0.67-1.33" in n
               for n in got.notes)
    # Without the 720p pair (one of them), no class was sampled twice: both take how far the two
    # H.264 classes stray from what their frame sizes say (a and c, 0.001 and 0.0005 s a frame).
    alone = epochs.project(_epoch(1.6, 0.9), [per_frame[0], per_frame[2]], opens, data, None)
    note = next(n for n in alone.notes if "no class more than once" in n)
    assert note.startswith(f"{sd}, {HD}: one video sampled") and "of one codec against their frame size" in note
    # An npy frame read costs its pixels: 0.0011 s a megapixel for a, 0.0022 for c, x0.67 and
    # x1.33 of their mean.
    assert "(x0.67-1.33)" in note
    # The borrowed spread widens the frame term's range beyond what the two-video class alone gives.
    assert got.low <= got.seconds <= got.high and alone.low <= alone.seconds <= alone.high
    plain = epochs.project(_epoch(1.6, 0.9), [per_frame[0]], opens, data, None)  # 360p unmeasured, 720p once
    assert (alone.high - alone.low) / alone.frames > (plain.high - plain.low) / plain.frames


def test_the_machine_s_drift_and_the_run_s_other_start_ups_widen_the_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epochs, "REPEATS", 1.0)  # the range's other terms alone
    per_frame, opens = _reader_records()
    plain = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None)
    drifted = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None, drift=1.2)
    assert drifted.seconds == pytest.approx(plain.seconds)  # the point is the run's own figure
    assert (drifted.low, drifted.high) == (pytest.approx(plain.low / 1.2), pytest.approx(plain.high * 1.2))
    assert any(n.startswith("the machine drifted by 20% over the run") for n in drifted.notes)
    assert not any("drifted" in n for n in plain.notes)
    # The same loader and workers started in 0.3-0.9 s in the run's other epochs: the range takes that.
    seen = epochs.project(_epoch(1.112, 0.806), per_frame, opens, _dataset(), None, startups_seen=[0.3, 0.9])
    assert seen.seconds == pytest.approx(plain.seconds)
    assert seen.low == pytest.approx(plain.low - (START - 0.3))
    assert seen.high == pytest.approx(plain.high + (0.9 - START))


def test_a_steady_run_s_range_still_allows_for_how_far_an_epoch_moves_between_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The same truth measured twice on a quiet machine moved 2-13% (median) between the runs, with
    # no drift in either: the range allows REPEATS either way even when the run saw none, and a
    # drift is not added to it: the larger of the two widens the range.
    per_frame, opens = _reader_records()
    epoch = _epoch(1.112, 0.806)
    monkeypatch.setattr(epochs, "REPEATS", 1.0)
    bare = epochs.project(epoch, per_frame, opens, _dataset(), None)
    monkeypatch.setattr(epochs, "REPEATS", 1.15)
    steady = epochs.project(epoch, per_frame, opens, _dataset(), None)
    assert steady.seconds == pytest.approx(bare.seconds)
    assert (steady.low, steady.high) == (pytest.approx(bare.low / 1.15), pytest.approx(bare.high * 1.15))
    little = epochs.project(epoch, per_frame, opens, _dataset(), None, drift=1.05)
    assert (little.low, little.high) == (pytest.approx(steady.low), pytest.approx(steady.high))
    much = epochs.project(epoch, per_frame, opens, _dataset(), None, drift=1.4)
    assert (much.low, much.high) == (pytest.approx(bare.low / 1.4), pytest.approx(bare.high * 1.4))


def test_the_plan_reads_the_drift_from_the_anchor_of_the_epoch_s_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epochs, "REPEATS", 1.0)  # the range's other terms alone
    from benchmarks.analysis import plan

    per_frame, opens = _reader_records()

    def anchor(when: str, fps: float) -> Record:
        return Record(measure="anchor", loader="pyav", kind="decode", stack="main", profile="a",
                      pattern="sequential", frames=100, seconds=[100 / fps], options={"anchor": when},
                      cell=f"anchor|main|{when}").with_fps()

    epoch = _epoch(1.112, 0.806)
    steady = plan.epoch_cases([*per_frame, *opens, epoch, anchor("start", 500), anchor("end", 500)], _dataset())
    slower = plan.epoch_cases([*per_frame, *opens, epoch, anchor("start", 500), anchor("end", 400)], _dataset())
    [(_, a)], [(_, b)] = steady.values(), slower.values()
    assert (b.low, b.high) == (pytest.approx(a.low / 1.25), pytest.approx(a.high * 1.25))


def test_the_keyframe_interval_is_read_between_the_first_and_last_keyframe() -> None:
    from benchmarks import dataset

    # A keyframe every 120 frames: a 150-frame video has keyframes 0 and 120, a 225-frame one too.
    short = Video("/v/s.mp4", 1, 150, 15.0, 640, 360, "h264", keyframes=2, key_span=120)
    long = Video("/v/l.mp4", 1, 225, 15.0, 640, 360, "h264", keyframes=2, key_span=120)
    assert (short.gop, long.gop) == (120.0, 120.0)
    # frames / keyframes read them as 75 and 112.5: the part-interval each ends in counted as whole.
    assert Video("/v/s.mp4", 1, 150, 15.0, 640, 360, "h264", keyframes=2).gop == 75.0
    assert Video("/v/c.mp4", 1, 30, 15.0, 640, 360, "h264", keyframes=1).gop == 30.0  # one: the whole clip
    [both] = dataset.summarize([short, long]).values()
    assert epochs.gop_of(both) == 120.0 and both.key_gaps == 2
    cut = long.first(130)  # a stream copy of the first 130 frames keeps the interval
    assert (cut.keyframes, cut.key_span, cut.gop) == (2, 120, 120.0)
    # ... and its bytes a frame: decoding a frame of the cut costs what it did in the whole video.
    whole = dataclasses.replace(long, bytes=2_250_000, stream_bytes=1_800_000)
    heavy = whole.first(90)
    assert (heavy.bytes, heavy.stream_bytes) == (900_000, 720_000)
    assert budget.stream_megabytes(heavy) == pytest.approx(budget.stream_megabytes(whole)) == pytest.approx(0.008)


def test_a_class_missing_from_the_sample_is_costed_as_the_sampled_classes_of_its_codec() -> None:
    # Sampled: 720p h264 at 0.001 s a frame, 720p vp9 at 0.004 s. Missing: 720p h264's cousin at
    # 480p, and 720p hevc, whose codec the sample lacks.
    vp9 = "720p vp9"
    sample = {"a": Video("/v/a.mp4", 50_000, 128, 25.0, 1280, 720, "h264", keyframes=2),
              "b": Video("/v/b.webm", 50_000, 128, 25.0, 1280, 720, "vp9", keyframes=2)}
    one = ClassSummary(10, 1280, 51.2, 500_000, {"1280x720": 1280}, keyframes=20)
    classes = {HD: one, vp9: one, "480p h264": ClassSummary(10, 1280, 51.2, 300_000, {"854x480": 1280}, keyframes=20),
               "720p hevc": one}
    data = Dataset("/v", classes, 0, sample, 10**12, 10**12, 10**15)
    per_frame = [Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile=n,
                        pattern="sequential", frames=32, seconds=[32 * s]).with_fps()
                 for n, s in (("a", 0.001), ("b", 0.004))]
    _, opens = _reader_records()
    epoch = _epoch(1.6, 0.9, kind="decode", loader="pyav")
    got = epochs.project(epoch, per_frame, opens, data, None)
    assert "480p h264: not in the sample, projected from pixels (as the sample's h264)" in got.notes
    assert "720p hevc: not in the sample, projected from pixels" in got.notes
    # Priced as h264 alone, a 480p h264 frame costs what decoding and returning a frame of its size
    # and bitrate costs against a 720p one (a part per pixel, a part per byte of stream, a part per
    # frame); as the mean of h264 and vp9 it would cost 2.5 times that. Dropping it from the dataset
    # shows its share.
    without = epochs.project(epoch, per_frame, opens, Dataset("/v", {k: v for k, v in classes.items()
                                                                     if k != "480p h264"}, 0, sample,
                                                              10**12, 10**12, 10**15), None)
    h264_720 = epochs.project(epoch, per_frame, opens, Dataset("/v", {HD: one}, 0, sample, 10**12, 10**12,
                                                               10**15), None)
    share = got.frames - without.frames
    g = epochs.GUESS

    def sequential(megapixels: float, megabytes: float) -> float:  # a frame decoded and returned
        return megapixels * (g.decode + g.output) + g.decode_frame + g.frame + megabytes * g.decode_byte

    relative = sequential(0.854 * 0.48, 300_000 / 1280 / 1e6) / sequential(1.28 * 0.72, 500_000 / 1280 / 1e6)
    assert share == pytest.approx(h264_720.frames * relative, rel=0.05)


def test_an_epoch_of_fewer_batches_than_workers_is_not_projected_as_if_all_were_busy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epochs, "REPEATS", 1.0)  # the range's other terms alone
    # Capped at 16 frames, the two sampled videos make one batch: one of two workers decoded it
    # while the other waited. The dataset's 10 batches keep both busy: its frames take from half the
    # time per unit the capped epoch measured (a worker uses one core) to all of it (a worker uses
    # both), x0.71 at the point. On one core there is no idle worker to count.
    per_frame, _ = _reader_records()
    two = _epoch(0.9, 0.8, cap=16, workers=2)
    one_core = dataclasses.replace(two, env={"cores": 1})
    got = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=0.5)
    plain = epochs.project(one_core, per_frame, [], _dataset(), None, startup_elsewhere=0.5)
    assert got.frames == pytest.approx(plain.frames * 0.5 ** 0.5)
    assert ("1 batch for 2 workers: the epoch kept 50% of them idle, which the dataset's batches will not; its "
            "frames projected at x0.71 (x0.50-1)") in got.notes
    # The range holds both: from half the frames to all of them (the start-up and opens alike).
    assert got.high - got.low == pytest.approx(plain.high - plain.low + plain.frames * 0.5, rel=0.02)
    assert not any("idle" in n for n in plain.notes)


# The start-up of the run's other epochs: less than the 0.5 s the one-batch epoch below (0.9 s) has
# left after it, so that epoch's own frames are its pace's bound.
ELSEWHERE = 0.4


def _one_batch_for_two() -> tuple[list[Record], Record, epochs.Projection]:
    """A capped epoch of one batch for 2 workers, its per-frame records, and its projection on one
    core, where no worker was idle (its own k)."""
    per_frame, _ = _reader_records()
    two = _epoch(0.9, 0.8, cap=16, workers=2)
    return per_frame, two, epochs.project(dataclasses.replace(two, env={"cores": 1}), per_frame, [], _dataset(),
                                          None, startup_elsewhere=ELSEWHERE)


def test_an_epoch_that_kept_workers_idle_is_projected_at_the_main_process_s_pace_where_the_run_has_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epochs, "REPEATS", 1.0)  # the range's other terms alone
    # The same capped epoch of one batch for 2 workers, and the same samples read by the main
    # process alone (workers 0), whose k the run knows. The dataset's busy workers share the cores
    # as the main process had them to itself: the point takes its k, within what the idle workers
    # allow (half the capped epoch's k to all of it); outside that, the nearer end.
    per_frame, two, one_core = _one_batch_for_two()
    raw = one_core.k  # on one core no worker was idle: the capped epoch's own k
    mid = one_core.frames / raw
    without = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=ELSEWHERE)
    for alone, point in ((1.5 * raw, raw), (0.2 * raw, 0.5 * raw), (0.7 * raw, 0.7 * raw)):
        got = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=ELSEWHERE, alone=alone)
        assert (got.k, got.frames) == (pytest.approx(point), pytest.approx(point * mid))
        # The range is the same, but that its low end is no faster than 2 workers can read (x0.75 there)
        assert got.low == pytest.approx(without.low + max(0.0, alone / 2 - raw / 2) * mid)
    assert ("1 batch for 2 workers: the epoch kept 50% of them idle, which the dataset's batches will not; its "
            "frames projected at the main process's own pace on the same samples (workers 0), within x0.50-1"
            ) in got.notes
    assert not any("faster than 2 workers" in n for n in got.notes)


def test_a_one_batch_epoch_that_is_mostly_another_s_start_up_is_projected_at_the_main_process_s_pace() -> None:
    # The same one-batch epoch (0.9 s), where the run's other epochs started in 0.6 s: 0.3 s is
    # left, less than the start-up taken off it, and mostly how far this epoch's start strayed from
    # theirs (a fresh worker's one batch, its shutdown). The point is the main process's pace on
    # the same samples, even below the x0.50 the idle worker allows of the epoch's own; the range
    # still spans that.
    per_frame, two, _ = _one_batch_for_two()
    own = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=0.6)
    for alone in (0.2 * own.k, 1.5 * own.k):
        got = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=0.6, alone=alone)
        assert got.k == pytest.approx(alone)
        assert got.low < got.seconds < got.high
        assert any("less than that start-up: too little of its own to bound the point" in n for n in got.notes)
    assert not any("too little" in n for n in own.notes)
    # Left more than its start-up (0.5 s after 0.4 s), the epoch's own frames bound the point.
    bound = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=ELSEWHERE, alone=0.01)
    assert bound.k > 10 * 0.01


def test_workers_frames_are_never_projected_faster_than_the_cores_can_share_the_main_process_s() -> None:
    # The main process alone read the same samples at 4 times the epoch's own k: its 2 workers on 2
    # cores cannot have been more than twice as fast as it. Frames that fast are start-up the
    # epoch's few batches could not tell apart: the point and both ends take half its pace.
    per_frame, two, raw = _one_batch_for_two()
    got = epochs.project(two, per_frame, [], _dataset(), None, startup_elsewhere=ELSEWHERE, alone=4 * raw.k)
    assert got.k == pytest.approx(2 * raw.k) and got.frames == pytest.approx(2 * raw.frames)
    assert got.low >= got.startup + got.opens + 2 * raw.frames * 0.5 - 1e-9  # the low end no faster
    assert got.low <= got.seconds <= got.high
    assert ("its frames faster than 2 workers can read them: taken at the main process's pace on the same "
            "samples over 2 (workers 0)") in got.notes
    # Workers 0 has no workers to share the cores between: nothing to hold it to.
    zero = epochs.project(_epoch(0.9, 0.8, cap=16, workers=0), per_frame, [], _dataset(), None, alone=4 * raw.k)
    assert not any("faster than" in n for n in zero.notes)


def test_the_plan_takes_the_main_process_s_pace_from_the_epoch_s_twin_at_workers_0() -> None:
    from benchmarks.analysis import plan

    # The capped epoch of one batch for 2 workers took 0.9 s; the main process read the same
    # samples in 0.5 s, within the idle workers' range (from half the capped epoch's pace).
    per_frame, _ = _reader_records()
    two, zero = _epoch(0.9, 0.8, cap=16, workers=2), _epoch(0.5, 0.5, cap=16, workers=0)
    w2, w0 = (p for _, p in sorted(plan.epoch_cases([*per_frame, two, zero], _dataset()).values(),
                                   key=lambda case: -(case[0].workers or 0)))
    assert any("main process's own pace" in n for n in w2.notes)
    assert w2.k == pytest.approx(w0.k)
    (without,) = (p for r, p in plan.epoch_cases([*per_frame, two], _dataset()).values())
    assert without.k > 1.2 * w0.k and not any("main process" in n for n in without.notes)  # x0.71 of 0.9 s


def test_an_idle_worker_epoch_takes_the_workers_pace_the_run_measured_on_its_other_patterns() -> None:
    from benchmarks.analysis import plan

    # Capped sequential epochs: one batch for 2 workers (0.9 s), 0.85 s in the main process alone.
    # Uncapped random-frame epochs of the same loader keep both workers busy: 32 batches in 0.6 s
    # against 1.0 s in the main process. The dataset's workers read the sequential clips at that
    # measured pace against the main process's, within what the idle workers allow.
    per_frame, _ = _reader_records()
    per_frame += [dataclasses.replace(r, pattern="random-frame") for r in per_frame]
    two, zero = _epoch(0.9, 0.8, cap=16, workers=2), _epoch(0.85, 0.85, cap=16, workers=0)

    def cases(w2_seconds: float, samples: int = 256) -> dict[tuple[str, int], Any]:
        busy_two = _epoch(w2_seconds, 0.05, pattern="random-frame", workers=2)
        busy_two.options["samples"] = samples
        busy_zero = _epoch(1.0, 0.05, pattern="random-frame", workers=0)
        got = plan.epoch_cases([*per_frame, two, zero, busy_two, busy_zero], _dataset()).values()
        return {(r.pattern or "", r.workers or 0): p for r, p in got}

    faster = cases(0.6)
    speedup = faster[("random-frame", 2)].k / faster[("random-frame", 0)].k
    assert 0.5 < speedup < 0.7 and faster[("random-frame", 2)].busy == 1.0 and faster[("sequential", 2)].busy == 0.5
    assert faster[("sequential", 2)].k == pytest.approx(faster[("sequential", 0)].k * speedup)
    assert any(f"times x{speedup:.2f}, the workers' pace against it on the run's other patterns" in n
               for n in faster[("sequential", 2)].notes)
    # Workers slower than the main process on the other pattern (start-up the model could not take
    # off a short epoch): the point stays at the main process's pace.
    slower = cases(1.4)
    assert slower[("random-frame", 2)].k > slower[("random-frame", 0)].k
    assert slower[("sequential", 2)].k == pytest.approx(slower[("sequential", 0)].k)
    # An epoch of one batch a worker paces their start more than their reading: not taken.
    started = cases(0.6, samples=16)
    assert started[("sequential", 2)].k == pytest.approx(started[("sequential", 0)].k)


def test_an_idle_worker_epoch_takes_the_workers_pace_to_its_own_batches_by_their_hand_off() -> None:
    from benchmarks.analysis import plan

    # As above, with what handing a frame to the main process cost the workers, and the CPU the
    # main process alone spent a frame (its epochs' 256 frames, after start-up): random-frame's
    # single frames cost about half of what reading one does, sequential's clips less (0.35). The
    # sequential clips' workers pace as random-frame's did times 1.35 / 1.5.
    per_frame, _ = _reader_records()
    per_frame += [dataclasses.replace(r, pattern="random-frame") for r in per_frame]

    def cases(clip_handoff: float | None) -> dict[tuple[str, int], Any]:
        two, zero = _epoch(0.9, 0.8, cap=16, workers=2), _epoch(0.85, 0.85, cap=16, workers=0)
        busy_two = _epoch(0.6, 0.05, pattern="random-frame", workers=2)
        busy_two.options.update(samples=256, handoff_cpu_seconds=0.5 * 1.0 / 256)
        busy_zero = _epoch(1.0, 0.05, pattern="random-frame", workers=0)
        busy_zero.options["cpu_seconds"] = [1.0, 1.0]
        zero.options["cpu_seconds"] = [0.85, 0.85]
        if clip_handoff is not None:
            two.options["handoff_cpu_seconds"] = clip_handoff
        got = plan.epoch_cases([*per_frame, two, zero, busy_two, busy_zero], _dataset()).values()
        return {(r.pattern or "", r.workers or 0): p for r, p in got}

    plain = cases(None)
    speedup = plain[("random-frame", 2)].k / plain[("random-frame", 0)].k
    assert plain[("sequential", 2)].k == pytest.approx(plain[("sequential", 0)].k * speedup)
    zero = plain[("sequential", 0)]
    clip_burden = 0.35
    handed = cases(clip_burden * (0.85 - zero.startup) / 256)
    burden = 0.5 * 1.0 / (1.0 - plain[("random-frame", 0)].startup)  # the figure against the CPU after start-up
    expected = speedup * (1 + clip_burden) / (1 + burden)
    assert handed[("sequential", 2)].k == pytest.approx(zero.k * expected, rel=1e-6)
    assert handed[("sequential", 2)].k < 0.95 * plain[("sequential", 2)].k
    # Clips that cost the workers more to hand over than single frames: never past the main
    # process's pace (the ratio's cap of 1).
    heavy = cases(5.0 * (0.85 - zero.startup) / 256)
    assert heavy[("sequential", 2)].k == pytest.approx(zero.k)


def test_frames_read_apart_from_a_store_larger_than_the_sample_s_widen_the_range_s_high_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The dataset's store holds 5 times the frames the sample's epoch read: shuffled frames read
    # from it lose locality, up to 5 ** 0.15 = x1.27 a frame; the point and the low end stay.
    per_frame, opens = _reader_records()
    per_frame = [dataclasses.replace(r, pattern="random-frame") for r in per_frame]
    epoch = _epoch(1.112, 0.806, pattern="random-frame")
    got = epochs.project(epoch, per_frame, opens, _dataset(), None)
    monkeypatch.setattr(epochs, "SCATTERED_READS", 0.0)
    local = epochs.project(epoch, per_frame, opens, _dataset(), None)
    assert (got.seconds, got.low) == (pytest.approx(local.seconds), pytest.approx(local.low))
    assert got.high > local.high
    assert "frames read apart from a store 5.0 times the sample's: the range allows x1.27 a frame for their " \
           "locality" in got.notes
    # A sequential scan reads neighbours, and a decoder reads its stream: neither is widened.
    monkeypatch.undo()
    sequential = epochs.project(_epoch(1.112, 0.806), _reader_records()[0], opens, _dataset(), None)
    assert not any("read apart" in n for n in sequential.notes)
    decoded = epochs.project(dataclasses.replace(epoch, kind="decode", loader="pyav"),
                             [dataclasses.replace(r, kind="decode", loader="pyav") for r in per_frame], [],
                             _dataset(), None)
    assert not any("read apart" in n for n in decoded.notes)


def _two_worker_epoch(first: float, last: float, loader: str = "npy") -> Record:
    """12 samples in batches of 4 for 2 workers: worker 0 reads batches 1 and 3, worker 1 batch 2."""
    options = {"first_batch_seconds": [first], "last_batch_seconds": [last], "samples": 12, "pattern": {}}
    return Record(measure="epoch", loader=loader, kind="frames", stack="main", profile="sample",
                  pattern="random-frame", frames=12, seconds=[last], workers=2, batch_size=4, options=options,
                  env={"cores": 2})


def test_a_first_batch_read_by_every_worker_at_once_leaves_no_work_in_the_start_up() -> None:
    # The truth: start-up 0.10 s; a sample costs 0.04 s while both workers read (batches 1 and 2)
    # and 0.02 s once worker 0 reads alone (batch 3). First batch at 0.10 + 4 x 0.04 = 0.26 s, the
    # last at 0.26 + 4 x 0.02 = 0.34 s. The time after the first batch alone says 0.02 s a sample,
    # so 0.08 s of the first batch's work stays in the start-up: 0.18 s.
    epoch = _two_worker_epoch(0.26, 0.34)
    assert epochs.startup(0.26, 0.34, 12, 4, 2, last_batch=0.34) == pytest.approx(0.18)
    per_frame, _ = _reader_records()
    alone = epochs.project(epoch, per_frame, [], _dataset(), None)
    assert alone.startup == pytest.approx(0.18)
    # The run's cheapest loader at 2 workers shows the DataLoader's own start-up, 0.10 s: taken,
    # and the work moves to the frames term.
    floored = epochs.project(epoch, per_frame, [], _dataset(), None, startup_floor=0.10)
    assert floored.startup == pytest.approx(0.10)
    assert floored.frames > alone.frames
    # A floor below the truth (another loader's lucky epoch) takes off at most the first batch's
    # work as measured after it (0.08 s): a start-up of 0.10 s, not 0.02 s.
    assert epochs.project(epoch, per_frame, [], _dataset(), None, startup_floor=0.02).startup == pytest.approx(0.10)


def test_the_floor_is_the_least_of_the_loaders_median_start_ups_at_those_workers() -> None:
    from benchmarks.analysis.plan import _Figures

    # npy's first batch came at 0.05 s with next to no work in it, pyav's at 0.26 s.
    cheap = [_two_worker_epoch(0.05, 0.06), _two_worker_epoch(0.05, 0.06)]
    figures = _Figures([*cheap, _two_worker_epoch(0.26, 0.34, loader="pyav")])
    assert figures.floor("main", 2, _dataset()) == pytest.approx(0.04)  # npy: 0.05 s less 4 samples of 0.0025 s
    assert figures.floor("main", 0, _dataset()) is None and figures.floor("other", 2, _dataset()) is None


def test_workers_are_counted_by_the_work_dealt_to_each_not_by_their_samples() -> None:
    # Sequential clips of 16 frames over two videos of 64 frames, in batches of 4 for 2 workers:
    # worker 0 reads video a's 4 clips, worker 1 video b's. Both read 4 samples, but where a is
    # 720p and b 360p, worker 0's batch holds 4 times the pixels: the epoch lasted as long as it,
    # with 1.25 workers busy on average (by the work dealt), not 2 (by the samples). The dataset's
    # many batches keep both busy, so its frames are projected faster, and the plan says why.
    def run(b_width: int, b_height: int, cores: int = 2) -> tuple[epochs.Projection, epochs.Shares]:
        sample = {"a": Video("/v/a.mp4", 50_000, 64, 25.0, 1280, 720, "h264", keyframes=2),
                  "b": Video("/v/b.mp4", 50_000, 64, 25.0, b_width, b_height, "h264", keyframes=2)}
        data = dataclasses.replace(_dataset(), measured=sample)
        per_frame, _ = _reader_records()
        epoch = dataclasses.replace(_epoch(0.9, 0.5, batch=4, workers=2), env={"cores": cores})
        epoch.options.update(samples=8, last_batch_seconds=[0.9, 0.9])
        shares = epochs._epoch_shares(epoch, [], data)
        assert shares is not None and shares.parallel is not None
        assert epochs.busy_workers(epoch, data) == (pytest.approx(min(cores, shares.parallel)),
                                                    pytest.approx(min(cores, 2)))
        return epochs.project(epoch, per_frame, [], data, None), shares

    even, even_shares = run(1280, 720)
    uneven, shares = run(640, 360)
    assert even_shares.parallel == pytest.approx(2.0) and even.busy == pytest.approx(1.0)
    assert not any("idle" in n for n in even.notes)
    big, small = epochs.megapixels(1280, 720, None), epochs.megapixels(640, 360, None)
    assert shares.parallel == pytest.approx((big + small) / big)  # 1.25
    assert uneven.busy == pytest.approx(shares.parallel / 2)
    assert any(n.startswith("2 batches for 2 workers, the work dealt unevenly: the epoch kept 38% of them idle")
               for n in uneven.notes)
    # With no twin at workers 0, the point is the geometric mean of the two ends: x0.79 of the
    # epoch's own k (as on one core, where no worker can be idle).
    one_core, _ = run(640, 360, cores=1)
    assert one_core.busy == pytest.approx(1.0)
    assert uneven.k == pytest.approx(one_core.k * 0.625 ** 0.5)


# -- a frame returned, as the run measured it ---------------------------------------------------


def _decoder_cases(decoded_cost: float, returned_cost: float, patterns_run: tuple[str, ...] = (
        "sequential", "random-frame")) -> tuple[Dataset, list[Record]]:
    """Per-frame records of pyav on the long-GOP video of :func:`_capped_long_gop`, each case's
    seconds ``decoded_cost`` a frame decoded (seeks at the guess's cost) and ``returned_cost`` a
    frame returned: the model's own counts of what the case decoded and returned."""
    data, _ = _capped_long_gop({})
    video = data.measured["a"]
    out = []
    for name in patterns_run:
        pattern = epochs.pattern_of(name, {"clip_len": 16} if name == "sequential" else {})
        # one sequential clip of 16 frames, or 8 random frames
        samples = pattern.samples({video.path: video.frames})[:1 if name == "sequential" else 8]
        work = sum(epochs.count(pattern, {0: patterns.calls(pattern, samples)},
                                {video.path: epochs.gop_of(video)}, "pyav", {video.path: 0}).values(), epochs.Work())
        one = epochs.frame_cost(epochs.megapixels(video.width, video.height, None), True,
                                epochs.video_megabytes(video, None))
        decoded = work.decoded + work.seeks * epochs.GUESS.seek / one
        seconds = decoded * decoded_cost + work.returned * returned_cost
        out.append(Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="a", pattern=name,
                          frames=work.returned, seconds=[seconds] * 3,
                          options={"pattern": {"clip_len": 16}} if name == "sequential" else {}).with_fps())
    return data, out


def test_a_decoder_s_frame_returned_is_costed_as_its_per_frame_cases_measured_it() -> None:
    # A frame returned costing 0.9 of a decoded frame: a sequential case returns nearly all it
    # decodes, a random-frame case one frame in tens, and the two together tell the costs apart.
    data, cases = _decoder_cases(0.002, 0.0018)
    assert epochs.returned_units(cases, data) == pytest.approx(0.9, rel=1e-6)
    data, cases = _decoder_cases(0.002, 0.0)
    assert epochs.returned_units(cases, data) == pytest.approx(0.0, abs=1e-9)
    # One pattern alone cannot tell them apart: the guess's then.
    data, cases = _decoder_cases(0.002, 0.0018, ("random-frame",))
    assert epochs.returned_units(cases, data) is None


def test_a_capped_epoch_is_scaled_by_what_the_run_measured_a_frame_returned_to_cost() -> None:
    # Random frames in the first 32 frames of a long-GOP video return one frame in about 16
    # decoded; in the whole video one in about 160. The costlier a frame returned, the more of the
    # capped epoch's second is returning frames, and the less the whole video's decoding costs.
    data, epoch = _capped_long_gop({"frames_per_video": 32, "pattern": {"seed": 0}})
    light = epochs.project(epoch, [], [], data, None, returned=0.0)
    heavy = epochs.project(epoch, [], [], data, None, returned=4.0)
    assert heavy.frames < 0.9 * light.frames
    guessed = epochs.project(epoch, [], [], data, None)
    assert heavy.frames < guessed.frames < light.frames


def test_the_workers_a_decoder_s_epoch_kept_busy_are_weighed_with_the_run_s_frame_returned() -> None:
    from benchmarks.analysis import plan

    # Random frames over the first 32 of a long-GOP video, 4 batches for 2 workers: each worker
    # decodes forward from where its last frame was, so what each holds depends on how a frame
    # returned weighs against one decoded: the run's figure (2.0 here), as the model weighs it,
    # not the guess's (plan_accuracy names the epochs dealt unevenly by it).
    data, cases = _decoder_cases(0.002, 0.004)
    _, epoch = _capped_long_gop({"frames_per_video": 32, "pattern": {"seed": 0}, "samples": 32})
    epoch = dataclasses.replace(epoch, workers=2, env={"cores": 2})
    at_zero = dataclasses.replace(epoch, workers=0)
    (record, got), = plan.busy_workers([*cases, epoch, at_zero], data)
    assert record is epoch
    assert got == pytest.approx(epochs.busy_workers(epoch, data, returned=2.0))
    guessed = epochs.busy_workers(epoch, data)
    assert guessed is not None and got[0] != pytest.approx(guessed[0], rel=1e-3)


def test_the_plan_costs_a_decoder_s_frame_returned_from_its_per_frame_cases_of_every_pattern() -> None:
    from benchmarks.analysis import plan

    data, cases = _decoder_cases(0.002, 0.004)
    _, epoch = _capped_long_gop({"frames_per_video": 32, "pattern": {"seed": 0}})
    epoch = dataclasses.replace(epoch, seconds=[1.0, 1.0])
    got = plan.epoch_cases([*cases, epoch], data)
    (record, projection), = got.values()
    per_frame = [r for r in cases if r.pattern == "random-frame"]
    assert projection.seconds == pytest.approx(epochs.project(record, per_frame, [], data, None, returned=2.0).seconds)
    assert projection.seconds < epochs.project(record, per_frame, [], data, None).seconds


def _cold(record: Record) -> Record:
    return dataclasses.replace(record, cache="cold")


def _warm(record: Record) -> Record:
    return dataclasses.replace(record, cache="warm")


def test_a_cold_epoch_takes_its_warm_twin_s_start_up_and_scales_its_first_reads_with_its_frames() -> None:
    from benchmarks.analysis import plan

    # The warm epoch of the first test: start-up 0.5 s. Timed cold, its first batch waited 0.2 s
    # more for its files' first pages (a small sample's first batch touches most of its files):
    # first batch 1.006 s, the epoch 1.312 s. Told apart alone, 0.2 s of reading is start-up.
    per_frame, opens = _reader_records()
    warm, cold = _warm(_epoch(1.112, 0.806)), _cold(_epoch(1.312, 1.006))
    (alone,) = (p for _, p in plan.epoch_cases([*per_frame, *opens, cold], _dataset()).values())
    assert alone.startup == pytest.approx(START + 0.2)
    got = {r.cache: p for r, p in plan.epoch_cases([*per_frame, *opens, warm, cold], _dataset()).values()}
    # With its warm twin: starting the workers costs 0.5 s cold or warm; the rest of the epoch
    # less its two opens (0.712 s) is reading, and the dataset's ten videos read five times as much.
    assert got["cold"].startup == pytest.approx(START)
    said = "timed cold: start-up taken from the same epoch timed warm (0.5 s)"
    assert any(n.startswith(said) for n in got["cold"].notes)
    assert got["cold"].frames == pytest.approx(5 * (1.312 - START - 2 * OPEN))
    assert got["cold"].seconds > alone.seconds
    (warm_alone,) = (p for _, p in plan.epoch_cases([*per_frame, *opens, warm], _dataset()).values())
    assert got["warm"].seconds == pytest.approx(warm_alone.seconds)


def test_a_run_s_cold_epochs_lend_no_start_up_to_its_warm_epochs_of_one_batch() -> None:
    from benchmarks.analysis import plan

    # A capped random-frame epoch of one batch (the two videos' first 16 frames, batches of 32):
    # 0.5 s start-up + 2 opens + 32 frames, all before its "first" batch. It takes its start-up
    # from the run's other epochs of npy at workers 0: the warm sequential one's 0.5 s, not the
    # cold one's, whose 0.7 s to tell apart holds 0.2 s of reading from the disk.
    per_frame, opens = _reader_records()
    one = _warm(_epoch(START + 2 * OPEN + 32 * PER_FRAME, START + 2 * OPEN + 32 * PER_FRAME, cap=16, batch=32,
                       pattern="random-frame"))
    sequential, cold = _warm(_epoch(1.112, 0.806)), _cold(_epoch(1.312, 1.006))
    for r in (sequential, cold):
        r.options["samples"] = 16  # clips of 16 frames over two videos of 128
    run = [*per_frame, *opens, one, sequential]

    def projected(records: list[Record]) -> epochs.Projection:
        return next(p for r, p in plan.epoch_cases(records, _dataset()).values() if r.pattern == "random-frame")

    without, with_cold = projected(run), projected([*run, cold])
    assert without.startup == pytest.approx(START) and any("one batch a worker" in n for n in without.notes)
    assert with_cold.startup == pytest.approx(START)
    assert with_cold.seconds == pytest.approx(without.seconds)
    # A run that timed only cold epochs has no other start-ups to go by: its cold ones are taken
    # (0.7 s, at most the epoch's own 0.664 s).
    only_cold = projected([*per_frame, *opens, _cold(one), cold])
    assert only_cold.startup == pytest.approx(START + 2 * OPEN + 32 * PER_FRAME)
