"""The run's estimate and its budget: parsing, the arithmetic on known cases, what a budget drops."""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks import budget, patterns, records
from benchmarks.calibration import Calibration
from benchmarks.records import Record
from benchmarks.spec import RunSpec, Store, Target, Video

CAL = Calibration(min_time=1.0, min_rounds=5, warmup=1)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("10m", 600), ("1h", 3600), ("1h30m", 5400),
                                                ("45", 45), (" 2M ", 120), ("1.5h", 5400)])
def test_durations_parse(text: str, seconds: float) -> None:
    assert budget.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten minutes", "10x", "m", "0s", "-5m", "10m junk"])
def test_bad_durations_say_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        budget.parse_duration(text)


def test_a_calibrated_case_costs_warmup_plus_the_larger_of_min_time_and_min_rounds() -> None:
    assert budget.case_seconds(0.5, CAL) == pytest.approx((1 + 5) * 0.5)  # 5 rounds pass 1 s: 2.5 s
    assert budget.case_seconds(0.01, CAL) == pytest.approx((1 + 100) * 0.01)  # 100 rounds reach 1 s
    capped = Calibration(min_time=10.0, min_rounds=1, warmup=0, max_rounds=20)
    assert budget.case_seconds(0.001, capped) == pytest.approx(20 * 0.001)  # max_rounds stops it


def _guess(read: float = 0.0, **values: object) -> budget.Guess:
    """A guess with every cost at 0 but those given (``read``: every format's)."""
    zero: dict[str, object] = dict(decode=0.0, output=0.0, resize=0.0, call=0.0, frame=0.0, decode_frame=0.0,
                                   decode_byte=0.0, seek=0.0, open=0.0, case_open=0.0, case=0.0, epoch_start=0.0,
                                   epoch_between=0.0, handoff_batch=0.0, handoff_frame=0.0,
                                   extract_video=0.0, slower={}, epoch_decode=1.0)
    return budget.Guess(read=dict.fromkeys(("jpeg", "png", "npy", "tar"), read), **{**zero, **values})  # type: ignore[arg-type]


def _plan(**changes: object) -> RunSpec:
    video = Video(frames=100, width=1000, height=1000, keyframes=10)  # 1 megapixel
    plan = RunSpec(videos={"a": video}, patterns=patterns.parse(["sequential"], clip_len=10),
                       decoders=["pyav"], readers=[], stores=[], frames=10, calibration=CAL, epochs=1,
                       workers=[1], cores=1, measures=frozenset({"epoch"}))
    return dataclasses.replace(plan, **changes)  # type: ignore[arg-type]


def test_the_estimate_counts_timing_the_hand_off_once_a_batch_shape_a_stack() -> None:
    from benchmarks import runner

    # One shape (clips of 10 frames, batches of 8, 2 workers): epochs of 4 and 36 batches, 3 of
    # each, at 2 workers (started each epoch) and at 0.
    per_batch = 0.002 + 8 * 10 * 0.0001
    started = _guess(handoff_batch=0.002, handoff_frame=0.0001, epoch_start=0.05, epoch_between=0.01)
    assert budget.handoff_seconds(10, 8, 2, started) == pytest.approx(
        runner.HANDOFF_EPOCHS * (2 * 0.05 + 4 * 0.01 + 2 * (4 + 36) * per_batch))
    guess = _guess(handoff_batch=0.002, handoff_frame=0.0001)  # nothing else costs: the estimate is the timing's
    plan = _plan(patterns=patterns.parse(["sequential", "random-clip", "random-frame"], clip_len=10, strides=(1,)),
                 workers=[0, 2], cores=2, decoders=["pyav", "nvdec"], readers=["npy@x"],
                 caches={"pyav": 2, "npy@x": 1, "nvdec": 1})
    got = budget.estimate(plan, guess)
    # sequential and random-clip share a shape (timed in sequential's epochs, the first), random
    # frames are another; workers 0 hand nothing off, and a GPU decoder reads in the main process.
    clip, frame = budget.handoff_seconds(10, 8, 2, guess), budget.handoff_seconds(1, 8, 2, guess)
    assert clip == pytest.approx(runner.HANDOFF_EPOCHS * 2 * (4 + 36) * per_batch)
    assert got.epochs == pytest.approx(clip + frame)

    def group(pattern: str, workers: int) -> float:  # what the progress plans for one group's cells
        return sum(got.of(budget.part("epoch", t, pattern, workers)) * plan.caches[t] for t in plan.caches)

    assert group("sequential", 2) == pytest.approx(clip) and group("random-frame", 2) == pytest.approx(frame)
    assert group("random-clip-s1", 2) == 0 and group("sequential", 0) == 0
    assert got.of(budget.part("epoch", "nvdec", "sequential", 2)) == 0
    # with --device cuda the epochs' batches end on the GPU: the run times no hand-off
    assert budget.estimate(dataclasses.replace(plan, device="cuda"), guess).epochs == 0
    from benchmarks import cli, core

    assert core.run_spec(cli.parser().parse_args(["--device", "cuda"]), {}, "main").device == "cuda"
    assert core.run_spec(cli.parser().parse_args([]), {}, "main").device == "cpu"


def test_epoch_estimate_is_frames_times_seconds_per_frame() -> None:
    guess = _guess(decode=0.01, read=0.002)
    # sequential: 10 clips of 10 frames, decoded forward: 100 frames x 1 MP x 0.01 s
    assert budget.estimate(_plan(), guess).epochs == pytest.approx(1.0)
    # 3 epochs, at workers 1 and 2 on 2 cores: 3 x (1 + 1/2)
    assert budget.estimate(_plan(epochs=3, workers=[1, 2], cores=2), guess).epochs == pytest.approx(4.5)
    # a reader reads each frame once, no seeking
    assert budget.estimate(_plan(decoders=[], readers=["pil@x"]), guess).epochs == pytest.approx(0.2)
    # random access, one worker: the frames decoded on the way to each one asked (the simulation's own count)
    random = patterns.parse(["random-frame"])
    calls = random[0].samples({"a": 100})
    decoded = budget.decoded_frames(calls, {"a": 10.0}).frames
    assert 100 < decoded < 100 * (1 + 9)
    assert budget.estimate(_plan(patterns=random), guess).epochs == pytest.approx(decoded * 0.01)
    # epochs over the first 40 frames of each video
    assert budget.estimate(_plan(frames_per_video=40), guess).epochs == pytest.approx(0.4)
    # the overhead baseline reads nothing
    assert budget.estimate(_plan(decoders=["noop"]), guess).epochs == 0
    # a decoder's own factor, and the epochs' factor on every decoder's work
    assert budget.estimate(_plan(), dataclasses.replace(guess, slower={"pyav": 2.0}, epoch_decode=1.5)).epochs \
        == pytest.approx(3.0)
    # starting an epoch's workers costs the same whatever its frames: 3 epochs at 2 workers; the main
    # process alone (workers 0) has none to start; timing the hand-off of a batch starts them 6 times
    start = _guess(epoch_start=1.0)
    assert budget.handoff_seconds(10, 8, 2, start) == pytest.approx(6.0)
    assert budget.estimate(_plan(epochs=3, workers=[0, 2]), start).epochs == pytest.approx(3.0 + 6.0)


def test_every_epoch_costs_its_between_as_well_and_short_ones_are_counted_by_their_timed_seconds() -> None:
    """An epoch's page cache set, workers joined and collecting come on top of its timed seconds,
    once an epoch, also for each epoch a short cell is taken again for."""
    guess = _guess(decode=0.01, epoch_between=0.5)
    # 3 epochs of 1 s each (100 frames x 1 MP x 0.01 s), each with 0.5 s around it; and the 12
    # epochs that time the hand-off of a batch at 1 worker and at 0
    probe = budget.handoff_seconds(10, 8, 1, guess)
    assert probe == pytest.approx(12 * 0.5)
    assert budget.estimate(_plan(epochs=3), guess).epochs == pytest.approx(4.5 + probe)
    # a cell of 0.1 s epochs under a minimum time of 0.45 s is taken 5 times, as its timed 0.1 s say
    # (with its between, 0.6 s, it would be taken once), and each of the 5 pays its between
    short = _plan(frames_per_video=10, epoch_min_time=0.45)
    assert short.epoch_count(0.1) == 5
    assert budget.estimate(short, guess).epochs == pytest.approx(5 * (0.1 + 0.5) + probe)
    # without it (the guess before), the same cell is its timed seconds alone
    assert budget.estimate(short, _guess(decode=0.01)).epochs == pytest.approx(0.5)


def test_a_noisy_video_is_estimated_slower_than_a_flat_one_of_its_size() -> None:
    # 100 frames of 1 MP: 0.01 s a frame for the pixels, 0.1 s a megabyte of stream.
    guess = _guess(decode=0.01, decode_byte=0.1)
    flat, noisy = (Video(frames=100, width=1000, height=1000, keyframes=10, bytes=b) for b in (0, 5_000_000))
    assert budget.estimate(_plan(videos={"a": flat}), guess).epochs == pytest.approx(1.0)
    assert budget.estimate(_plan(videos={"a": noisy}), guess).epochs == pytest.approx(1.5)  # 0.05 MB a frame
    # A transcode at short side 500 keeps the video's bytes a pixel: a quarter of the pixels and bytes.
    transcode = _plan(videos={"a": noisy}, decoders=["pyav@t"], sizes={"pyav@t": 500}, gops={"pyav@t": 10})
    assert budget.estimate(transcode, guess).epochs == pytest.approx(0.375)


def test_decoders_decode_forward_from_where_they_stand_or_from_the_keyframe() -> None:
    def count(indices: list[tuple[int, ...]], gop: float = 10.0, seeks_every_frame: bool = False) -> tuple[int, int]:
        d = budget.decoded_frames([patterns.Sample("a", i) for i in indices], {"a": gop}, seeks_every_frame)
        return d.frames, d.seeks

    assert count([(5,)]) == (6, 1)  # from the keyframe at 0
    assert count([(5,), (8,)]) == (9, 1)  # on from 5 to 8 without a seek
    assert count([(5,), (12,)]) == (6 + 3, 2)  # a keyframe at 10 between: seek to it
    assert count([(8,), (3,)]) == (9 + 4, 2)  # backwards: seek
    assert count([(3, 1, 2)]) == (4, 1)  # one call's frames in index order
    assert count([(5,), (8,)], seeks_every_frame=True) == (6 + 9, 2)  # seeks every time, even forward
    assert count([(30,)], seeks_every_frame=True) == (1 + 30 - 10, 1)  # OpenCV aims 16 frames early: keyframe 10
    assert count([(5,), (6,)], seeks_every_frame=True) == (6 + 1, 1)  # the next frame: read on, no seek
    assert count([(7,)], gop=1.0) == (1, 1)  # every frame a keyframe
    at: dict[str, int] = {}
    budget.decoded_frames([patterns.Sample("a", (4,))], {"a": 10.0}, at=at)
    assert at == {"a": 4}  # where the source stands, for the next call


def test_measured_seconds_per_frame_replace_the_guess() -> None:
    rec = Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="a", pattern="sequential",
                 frames=10, seconds=[0.2, 0.3, 0.1])
    measured = budget.measured_seconds_per_frame([rec, Record(measure="per_frame", loader="pil", kind="frames",
                                                              stack="main", profile="a", status="error")])
    assert measured == {("pyav", "sequential", "a"): pytest.approx(0.02)}
    assert budget.estimate(_plan(), _guess(decode=1.0), measured).epochs == pytest.approx(100 * 0.02)


def test_measured_seconds_a_frame_of_a_decoder_are_not_spread_over_the_workers_again() -> None:
    """A decoder's per-frame case already used every core (FFmpeg's threads); an epoch's workers
    share those cores. A reader's read is one thread's, spread over the workers. Both epochs add
    what an epoch does to each frame (resized to its --size), which no per-frame case times."""
    plan = _plan(workers=[0, 2], cores=2, readers=["pil@s"])
    measured = {("pyav", "sequential", "a"): 0.02, ("pil@s", "sequential", "a"): 0.004}

    def cell(target: str, workers: int, guess: budget.Guess) -> float:
        return budget.estimate(plan, guess, measured).of(budget.part("epoch", target, "sequential", workers))

    bare = _guess(decode=1.0, read=1.0)  # the guesses, never used where a measurement is
    assert cell("pyav", 0, bare) == pytest.approx(100 * 0.02) == pytest.approx(cell("pyav", 2, bare))
    assert cell("pil@s", 0, bare) == pytest.approx(100 * 0.004) == pytest.approx(2 * cell("pil@s", 2, bare))
    resized = _guess(decode=1.0, read=1.0, resize=0.001)  # 1 MP frames: 1 ms each to resize, spread
    assert cell("pyav", 0, resized) == pytest.approx(100 * (0.02 + 0.001))
    assert cell("pyav", 2, resized) == pytest.approx(100 * (0.02 + 0.001 / 2))
    assert cell("pil@s", 2, resized) == pytest.approx(100 * (0.004 + 0.001) / 2)


def test_an_epoch_from_a_measured_case_is_the_guess_as_far_off_as_the_case_was() -> None:
    """Random frames of a video with keyframes every 10 frames: a per-frame case of 10 isolated
    frames decodes more on the way to each than an epoch over every frame, whose next frame is
    often ahead of where its source stands. The measurement says how far off the guess was, not
    what every frame of the epoch costs."""
    plan = _plan(patterns=patterns.parse(["random-frame"]))
    guess = _guess(decode=0.01)
    random = plan.patterns[0]
    guessed, frames = budget._round(plan, "a", random, guess, "pyav")
    key = budget.part("epoch", "pyav", "random-frame", 1)
    epoch = budget.estimate(plan, guess).of(key)  # the guess alone
    twice = {("pyav", "random-frame", "a"): 2 * guessed / frames}  # the case took twice the guess
    assert budget.estimate(plan, guess, twice).of(key) == pytest.approx(2 * epoch)
    # fewer frames decoded a frame in the epoch than in the case: less than its seconds a frame x frames
    assert epoch / 100 < guessed / frames and budget.estimate(plan, guess, twice).of(key) < 100 * 2 * guessed / frames


def test_extraction_and_per_frame_estimates() -> None:
    guess = _guess(extract={"jpeg": 0.01, "png": 0.1}, decode=0.01, case_open=0.1, case=0.5)
    plan = _plan(stores=[Store(format="jpeg"), Store(format="png")], measures=frozenset({"extraction", "per_frame"}))
    est = budget.estimate(plan, guess)
    assert est.epochs == 0
    # every frame decoded (0.01 s a megapixel) and written (jpeg 0.01, png 0.1), once per store
    assert est.extraction == pytest.approx(100 * ((0.01 + 0.01) + (0.01 + 0.1)))
    # starting each video's extraction (a process, opening it) counts once a video and store
    started = budget.estimate(plan, dataclasses.replace(guess, extract_video=0.25))
    assert started.extraction == pytest.approx(est.extraction + 2 * 0.25)
    small = _plan(stores=[Store(format="png", store_size=200)], measures=frozenset({"extraction"}))
    # a store at short side 200 writes 200 x 200 of the 1000 x 1000 pixels
    assert budget.estimate(small, guess).extraction == pytest.approx(100 * (0.01 + 0.04 * 0.1))
    # one open case and one per-frame case: a sequential round of 10 frames is 0.1 s -> 1 + 10 rounds;
    # the per-frame case is verified against the reference decode (through its last frame, the 10th:
    # 0.1 s), the open case has nothing to verify
    assert budget.reference_seconds(plan, "a", plan.patterns[0], guess) == pytest.approx(0.1)
    assert est.per_frame == pytest.approx(budget.case_seconds(0.1, CAL) * 2 + 0.5 + 0.1)
    assert budget.estimate(plan, guess, done={"extraction"}).extraction == 0


def test_a_budget_drops_epochs_then_frames_then_videos_and_says_so() -> None:
    # One keyframe each: no cut (test_clips).
    videos = {n: Video(frames=1000, width=1000, height=1000, keyframes=1) for n in "abcd"}
    plan = _plan(videos=videos, epochs=3, workers=[0, 2], cores=2)
    guess = _guess(decode=0.01)
    full = budget.estimate(plan, guess).total
    same, dropped = budget.fit(plan, full + 1, guess)
    assert same == plan and dropped == []
    cut, dropped = budget.fit(plan, 20.0, guess)
    assert budget.estimate(cut, guess).total <= 20.0
    assert cut.epochs == 1 and cut.workers == [2]
    assert cut.frames_per_video is not None and cut.frames_per_video < 1000
    assert any("epochs per cell 3 -> 1" in d for d in dropped)
    assert any(f"first {cut.frames_per_video} frames" in d for d in dropped)
    tiny, dropped = budget.fit(plan, 0.1, guess)  # less than the least it can do: 32 frames x 0.01 s / 2
    assert len(tiny.videos) == 1 and tiny.frames_per_video == budget.MIN_FRAMES_PER_VIDEO
    assert any("videos 4 -> 1" in d for d in dropped) and "still about" in dropped[-1]
    assert not any("per-frame case" in d for d in dropped)  # no per-frame cases in this plan: nothing to drop
    again, _ = budget.fit(plan, 0.1, guess)
    assert again.videos == tiny.videos  # seeded: the same sample every time


def test_short_epochs_are_counted_as_the_epochs_their_minimum_time_takes() -> None:
    guess = _guess(decode=0.01, read=0.002)
    plan = _plan(epochs=3)  # one epoch: 100 frames x 1 MP x 0.01 s = 1 s
    assert budget.estimate(plan, guess).epochs == pytest.approx(3.0)
    # epochs go on to 6 s: six of them; to 600 s: five times three at most
    assert budget.estimate(dataclasses.replace(plan, epoch_min_time=6.0), guess).epochs == pytest.approx(6.0)
    assert budget.estimate(dataclasses.replace(plan, epoch_min_time=600.0), guess).epochs == pytest.approx(15.0)
    assert budget.estimate(dataclasses.replace(plan, epoch_min_time=2.0), guess).epochs == pytest.approx(3.0)
    # a budget that cuts the epochs to one cuts their minimum time too
    cut, dropped = budget.fit(dataclasses.replace(plan, epoch_min_time=600.0), 2.0, guess)
    assert cut.epochs == 1 and cut.epoch_min_time == 0 and any("epochs per cell 3 -> 1" in d for d in dropped)


def test_a_budget_keeps_what_the_user_set() -> None:
    videos = {n: Video(frames=1000, width=1000, height=1000, keyframes=100) for n in "ab"}
    plan = _plan(videos=videos, epochs=3, workers=[0, 2], cores=2)
    cut, dropped = budget.fit(plan, 1.0, _guess(decode=0.01), keep=["epochs", "workers"])
    assert cut.epochs == 3 and cut.workers == [0, 2]
    assert not any("epochs per cell" in d or "workers" in d for d in dropped)


def test_a_budget_cuts_per_frame_cases_before_videos() -> None:
    videos = {n: Video(frames=100, width=1000, height=1000, keyframes=10) for n in "ab"}
    plan = _plan(videos=videos, measures=frozenset({"per_frame"}), frames=16)
    guess = _guess(decode=1.0)  # slow rounds: min_rounds, not min_time, sets the cost
    full = budget.estimate(plan, guess).total
    # Half the frames, half the time: the cases read one clip of 10 frames instead of two, and the
    # reference decode they are checked against runs through the first clip only.
    half = budget.estimate(dataclasses.replace(plan, frames=8), guess).total
    assert half == pytest.approx(full / 2)
    cut, dropped = budget.fit(plan, half, guess)
    assert cut.frames == 8 and len(cut.videos) == 2
    assert any(f"frames per per-frame case 16 -> {cut.frames}" in d for d in dropped)


def test_the_plan_says_what_the_run_will_do() -> None:
    stores = [Store(format="jpeg"), Store(format="jpeg", store_size=256), Store(format="mp4", store_size=256)]
    text = "\n".join(_plan(measures=frozenset({"extraction", "per_frame", "epoch"}), stores=stores).lines())
    assert "videos: 1 (100 frames; 1000x1000)" in text and "3 stores (jpeg, jpeg at 256, mp4 at 256) x 1 videos" in text
    assert "2 calibrated cases" in text and "1 cells x 1 epochs" in text
    twice = "\n".join(_plan(readers=["pil@x"], caches={"pyav": 2, "pil@x": 2}).lines())
    assert "4 cells x 1 epochs (workers 1; 2 targets cold and warm)" in twice


def test_stores_at_training_size_transcodes_and_cache_states_change_the_estimate() -> None:
    guess = _guess(decode=0.01, read=0.002)
    # a reader of a store at short side 200 reads 0.04 of the pixels
    at_size = _plan(decoders=[], readers=["pil@s"], sizes={"pil@s": 200})
    assert budget.estimate(at_size, guess).epochs == pytest.approx(100 * 0.04 * 0.002)
    # and its format's cost
    png = _plan(decoders=[], readers=["pil@p"], formats={"pil@p": "png"})
    assert budget.estimate(png, dataclasses.replace(guess, read={"png": 0.1})).epochs == pytest.approx(100 * 0.1)
    # a decoder on a transcoded store: its size, and its own keyframe interval (1: no frame decoded on the way)
    random = patterns.parse(["random-frame"])
    mp4 = _plan(patterns=random, decoders=["pyav@t"], sizes={"pyav@t": 200}, gops={"pyav@t": 1})
    assert budget.estimate(mp4, guess).epochs == pytest.approx(100 * 0.04 * 0.01)
    # cold and warm epochs: twice the cells
    assert budget.estimate(_plan(caches={"pyav": 2}), guess).epochs == pytest.approx(2.0)


def test_measured_seconds_per_frame_name_the_store_as_the_targets_do() -> None:
    def rec(size: int | None, gop: int | None, seconds: float) -> Record:
        return records.parse(dict(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="a",
                                  pattern="sequential", frames=10, seconds=[seconds], extractor="ffmpeg", format="mp4",
                                  store_size=size, options={} if gop is None else {"gop": gop, "crf": 18}))

    measured = budget.measured_seconds_per_frame([rec(256, 1, 0.1), rec(256, 8, 0.2), rec(None, 8, 0.3)])
    specs = [Store("ffmpeg", "mp4", None, 256, 1, 18), Store("ffmpeg", "mp4", None, 256, 8, 18),
             Store("ffmpeg", "mp4", None, None, 8, 18)]
    keys = [Target("pyav", "decode", spec).key for spec in specs]
    assert [measured[k, "sequential", "a"] for k in keys] == pytest.approx([0.01, 0.02, 0.03])


def test_a_budget_keeps_one_page_cache_state_the_one_the_plan_uses() -> None:
    videos = {n: Video(frames=1000, width=1000, height=1000, keyframes=100) for n in "ab"}
    plan = _plan(videos=videos, readers=["pil@x"], caches={"pyav": 2, "pil@x": 2})
    guess = _guess(decode=0.01, read=0.01)
    full = budget.estimate(plan, guess).total
    cut, dropped = budget.fit(plan, full * 0.6, guess, cache="cold")
    assert set(cut.caches.values()) == {1} and cut.frames_per_video is None  # halving the cells was enough
    assert any("page-cache state, cold" in d for d in dropped)
    kept, dropped = budget.fit(plan, full * 0.6, guess, keep=["cache"])
    assert kept.caches == plan.caches and not any("page-cache" in d for d in dropped)


def test_a_budget_keeps_the_most_videos_that_fit_and_every_kind_while_it_can() -> None:
    kinds = {"hd": (1280, 720, "h264"), "sd": (640, 360, "h264"), "old": (640, 360, "mpeg4")}
    videos = {f"{k}{i}": Video(frames=100, width=kinds[k][0], height=kinds[k][1], keyframes=1, codec=kinds[k][2])
              for k in kinds for i in range(3)}
    order = budget.keep_order(videos, seed=1)
    assert sorted(order) == sorted(videos) and order == budget.keep_order(videos, seed=1)
    assert {n.rstrip("0123456789") for n in order[:3]} == set(kinds)  # one of each kind first
    same = {n: dataclasses.replace(v, width=1000, height=1000) for n, v in videos.items()}  # equal cost each
    plan = _plan(videos=same)
    guess = _guess(decode=0.01)
    # each video costs `one` once its epochs read their first 32 frames, the least they read
    one = budget.estimate(_plan(videos=dict(list(same.items())[:1]), frames_per_video=32), guess).total
    cut, dropped = budget.fit(plan, 5.5 * one, guess)
    assert len(cut.videos) == 5  # the most that fit (halving 9 would have kept 4)
    assert any("videos 9 -> 5" in d for d in dropped)
    # The line names what it kept and what it dropped: every video once.
    said = next(d for d in dropped if "videos 9 -> 5" in d)
    kept, gone = said.split(": kept ", 1)[1].split("; dropped ")
    assert sorted(kept.split(", ")) == sorted(cut.videos)
    assert sorted(gone.rstrip(")").split(", ")) == sorted(set(videos) - set(cut.videos))


def test_the_estimate_is_kept_per_step_for_the_eta_to_learn_from() -> None:
    guess = _guess(extract={"jpeg": 0.01, "npy": 0.02}, decode=0.01, read=0.002, case_open=0.1, case=0.5)
    stores = [Store(format="jpeg"), Store(format="npy", store_size=500)]
    plan = _plan(stores=stores, readers=["pil@s"], patterns=patterns.parse(["sequential", "random-frame"]),
                 workers=[0, 2], cores=2, caches={"pyav": 2}, measures=frozenset({"extraction", "per_frame", "epoch"}))
    est = budget.estimate(plan, guess)
    # every step the run takes has its part, and the parts make up the phases (cold and warm: twice)
    extraction = {k: v for k, v in est.parts.items() if k[0] == "extraction"}
    assert set(extraction) == {budget.part("extraction", s.label) for s in stores}
    assert sum(extraction.values()) == pytest.approx(est.extraction)
    assert est.of(*(budget.part("open", t, "a") for t in ("pyav", "pil@s"))) == pytest.approx(
        2 * budget.case_seconds(0.1, CAL))
    cases = [budget.part(m, t, "a", *p) for t in ("pyav", "pil@s") for m, p in
             [("open", ()), ("per_frame", ("sequential",)), ("per_frame", ("random-frame",))]]
    assert est.of(*cases) == pytest.approx(est.per_frame)
    cells = {(t, p, w): est.of(budget.part("epoch", t, p, w)) for t in ("pyav", "pil@s")
             for p in ("sequential", "random-frame") for w in (0, 2)}
    assert all(v > 0 for v in cells.values())
    assert sum(v * (2 if t == "pyav" else 1) for (t, _, _), v in cells.items()) == pytest.approx(est.epochs)
    assert est.of(budget.part("epoch", "nobody", "sequential", 0)) == 0  # a step not estimated
    # the epochs again from measured seconds per frame: only their parts change
    again, slower = (budget.estimate(plan, guess, {("pyav", "sequential", "a"): spf}, done={"extraction", "per_frame"})
                     for spf in (0.5, 1.0))
    key = budget.part("epoch", "pyav", "sequential", 0)
    assert slower.of(key) == pytest.approx(2 * again.of(key)) and again.of(key) >= 100 * 0.5  # every frame, or more
    assert again.extraction == again.per_frame == 0 and not any(k[0] != "epoch" for k in again.parts)


def test_a_busy_machine_slows_the_estimate_and_the_budget_cuts_to_fit_it() -> None:
    assert budget.load_factor(0.0, 2) == 1.0 and budget.load_factor(1.0, 2) == 1.0  # the run's own core is free
    assert budget.load_factor(3.0, 2) == pytest.approx(2.0)  # four busy processes on two cores: half a core each
    assert budget.load_factor(3.0, 16) == 1.0 and budget.load_factor(-1.0, 1) == 1.0
    guess = _guess(extract={"jpeg": 0.01}, decode=0.01, read=0.002, case_open=0.1, case=0.5, epoch_start=0.2)
    plan = _plan(stores=[Store(format="jpeg")], readers=["pil@s"], workers=[0, 2], cores=2,
                 measures=frozenset({"extraction", "per_frame", "epoch"}))
    quiet, busy = budget.estimate(plan, guess), budget.estimate(plan, guess.scaled(2.0))
    for phase in ("extraction", "epochs"):
        assert getattr(busy, phase) == pytest.approx(2 * getattr(quiet, phase))
    assert quiet.per_frame < busy.per_frame < 2 * quiet.per_frame + 1e-9  # min_time: more rounds of a fast one
    assert guess.scaled(2.0).slower == guess.slower and guess.scaled(2.0).epoch_decode == guess.epoch_decode
    videos = {n: Video(frames=1000, width=1000, height=1000, keyframes=1) for n in "abcd"}
    run = _plan(videos=videos, epochs=3, workers=[0, 2], cores=2)
    fits_quiet, _ = budget.fit(run, 20.0, guess)
    fits_busy, _ = budget.fit(run, 20.0, guess.scaled(2.0))
    assert budget.estimate(fits_busy, guess.scaled(2.0)).total <= 20.0  # the budget holds on the busy machine
    assert budget.estimate(fits_busy, guess).total < budget.estimate(fits_quiet, guess).total  # by measuring less


def test_the_load_counted_is_the_lower_of_the_average_and_what_runs_now(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import env

    monkeypatch.setattr(env.os, "getloadavg", lambda: (6.0, 5.0, 4.0))
    stat = iter(["procs_running 3\n", "procs_running 4\n"])  # this process and 2, then 3 others
    monkeypatch.setattr(env.Path, "read_text", lambda self: f"cpu 1 2 3\n{next(stat)}procs_blocked 0\n")
    assert env.load(samples=2, every=0) == pytest.approx(2.5)  # a run that just ended still weighs on the average
    monkeypatch.setattr(env.os, "getloadavg", lambda: (0.5, 1.0, 1.0))
    stat = iter(["procs_running 9\n"])
    assert env.load(samples=1, every=0) == pytest.approx(0.5)  # a burst right now: the average


def test_the_anchor_case_is_counted_with_the_per_frame_cases_at_each_of_its_moments() -> None:
    guess = _guess(decode=0.01, read=0.002, case=0.5)
    sequential = _plan().patterns[0]  # as the per-frame case it is compared with
    readers_only = _plan(decoders=[], readers=["pil@s"], measures=frozenset({"per_frame"}))
    plain = budget.estimate(readers_only, guess)
    # the anchor's own video (none of the run's), a quarter of the run's pixels
    video = Video(frames=100, width=500, height=500, keyframes=10)
    anchor = budget.Anchor("pyav", sequential, "anchor-video", video, ("start", "epochs", "after sequential", "end"))
    timed = budget.estimate(readers_only, guess, anchor=anchor)
    start, *between, end = (timed.of(budget.part("anchor", when)) for when in anchor.when)
    # pyav decodes (0.01 s a megapixel), though the run measures no decoder of its own; the first
    # anchor also decodes its reference (the later ones check against the same)
    on_anchor = dataclasses.replace(readers_only, decoders=["pyav"], videos={"anchor-video": video})
    decoder = budget.estimate(dataclasses.replace(on_anchor, readers=[]), guess)
    reference = budget.reference_seconds(on_anchor, "anchor-video", sequential, guess)
    per_case = decoder.of(budget.part("per_frame", "pyav", "anchor-video", "sequential")) - reference
    assert between == [pytest.approx(per_case)] * 2 and end == pytest.approx(per_case)
    assert start == pytest.approx(per_case + reference) and reference > 0
    assert per_case > 0.5 and timed.per_frame == pytest.approx(plain.per_frame + start + sum(between) + end)
    # on a video of a quarter of the run's pixels: less than the run's own decoder case
    run_case = budget.estimate(_plan(measures=frozenset({"per_frame"})), guess)
    assert per_case < run_case.of(budget.part("per_frame", "pyav", "a", "sequential"))
    assert budget.estimate(readers_only, guess, anchor=anchor, done={"per_frame"}).per_frame == 0
    # timed for longer than the run's cases (its own calibration): counted so
    longer = anchor._replace(calibration=dataclasses.replace(CAL, min_time=CAL.min_time + 5))
    assert budget.estimate(readers_only, guess, anchor=longer).of(budget.part("anchor", "end")) > end + 4
