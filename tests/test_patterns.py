"""Access patterns: deterministic, identical for every caller, and covering what they claim."""

from __future__ import annotations

import collections

import pytest

from benchmarks import patterns
from benchmarks.patterns import Pattern, Sample

VIDEOS = {"b.mp4": 70, "a.mp4": 45, "short.mp4": 5}


def test_same_seed_same_samples_and_mapping_order_does_not_matter() -> None:
    for p in patterns.default():
        assert p.samples(VIDEOS) == p.samples(dict(reversed(list(VIDEOS.items()))))
        assert p.samples(VIDEOS) == Pattern(p.base, p.clip_len, p.stride, p.k, p.seed).samples(VIDEOS)


@pytest.mark.parametrize("base", ["random-frame", "random-clip"])
def test_another_seed_other_samples(base: str) -> None:
    assert Pattern(base, seed=0).samples(VIDEOS) != Pattern(base, seed=1).samples(VIDEOS)


def test_sequential_covers_every_frame_in_order_with_full_clips() -> None:
    samples = Pattern("sequential", clip_len=16).samples(VIDEOS)
    assert all(len(s) == 16 for s in samples)
    for video, n in VIDEOS.items():
        mine = [s for s in samples if s.video == video]
        assert {i for s in mine for i in s.indices} == set(range(n))
        for s in mine:  # consecutive frames (a video shorter than T repeats its last one)
            assert all(b - a in (0, 1) for a, b in zip(s.indices, s.indices[1:], strict=False))
        assert [s.indices[0] for s in mine] == sorted(s.indices[0] for s in mine)
    assert [s.video for s in samples] == sorted(s.video for s in samples)  # videos in order, each once


def test_random_frame_is_every_frame_once_shuffled() -> None:
    samples = Pattern("random-frame").samples(VIDEOS)
    pairs = [(s.video, s.indices[0]) for s in samples]
    assert all(len(s) == 1 for s in samples)
    assert collections.Counter(pairs) == collections.Counter((v, i) for v, n in VIDEOS.items() for i in range(n))
    assert pairs != sorted(pairs)


@pytest.mark.parametrize("stride", [1, 2])
def test_random_clip_is_t_frames_at_stride_s(stride: int) -> None:
    samples = Pattern("random-clip", clip_len=16, stride=stride).samples(VIDEOS)
    for video, n in VIDEOS.items():
        mine = [s for s in samples if s.video == video]
        assert len(mine) == max(1, n // (16 * stride))
        for s in mine:
            assert len(s) == 16 and all(0 <= i < n for i in s.indices)
            if n >= 15 * stride + 1:
                assert all(b - a == stride for a, b in zip(s.indices, s.indices[1:], strict=False))
    starts = {s.indices[0] for s in samples if s.video == "b.mp4"}
    assert len(starts) > 1 or len([s for s in samples if s.video == "b.mp4"]) == 1


def test_uniform_k_is_k_evenly_spaced_frames_per_video() -> None:
    samples = Pattern("uniform-k", k=8).samples(VIDEOS)
    assert sorted(s.video for s in samples) == sorted(VIDEOS)
    for s in samples:
        n = VIDEOS[s.video]
        assert len(s) == 8 and list(s.indices) == sorted(s.indices) and all(0 <= i < n for i in s.indices)
    long = next(s for s in samples if s.video == "b.mp4").indices
    gaps = {b - a for a, b in zip(long, long[1:], strict=False)}
    assert max(gaps) - min(gaps) <= 1


def test_parse_expands_random_clip_per_stride_and_reads_labels() -> None:
    parsed = patterns.parse(["sequential", "random-clip", "uniform-4", "random-clip-s3"], clip_len=8, strides=[1, 2])
    assert [p.name for p in parsed] == ["sequential", "random-clip-s1", "random-clip-s2", "uniform-4", "random-clip-s3"]
    assert parsed[1].clip_len == 8 and parsed[3].k == 4
    assert [p.name for p in patterns.default()] == [
        "sequential", "random-frame", "random-batch", "random-clip-s1", "random-clip-s2", "uniform-8"]
    with pytest.raises(ValueError, match="unknown access pattern"):
        patterns.parse(["zigzag"])
    with pytest.raises(ValueError, match="stride"):
        Pattern("random-clip", stride=0)


def test_head_takes_whole_samples_up_to_a_frame_count() -> None:
    samples = [Sample("v", (i, i + 1, i + 2)) for i in range(10)]
    assert patterns.head(samples, 7) == samples[:3]
    assert patterns.head(samples, 0) == samples[:1]
    assert patterns.head(samples, 1000) == samples


def test_random_batch_asks_for_a_batch_in_one_call_per_video() -> None:
    frame, batch = Pattern("random-frame"), Pattern("random-batch", batch=4)
    samples = batch.samples(VIDEOS)
    # The same work as random-frame: every frame once, one-frame samples, shuffled.
    assert sorted((s.video, s.indices) for s in samples) == sorted((s.video, s.indices) for s in frame.samples(VIDEOS))
    assert patterns.calls(frame, samples) == samples  # one call per frame
    calls = patterns.calls(batch, samples)
    assert len(calls) < len(samples)
    # Each run of 4 samples becomes one call per video, frames in the order the batch holds them.
    first = samples[:4]
    assert calls[: len({s.video for s in first})] == [
        patterns.Sample(v, tuple(i for s in first if s.video == v for i in s.indices))
        for v in dict.fromkeys(s.video for s in first)]
    assert sorted(i for c in calls for i in c.indices) == sorted(i for s in samples for i in s.indices)
    assert batch.params() == {"batch": 4, "seed": 0} and batch.batched and not frame.batched
