"""Crossover arithmetic: k* = X / (T_decode - T_frames), never when frames are not faster."""

from __future__ import annotations

import dataclasses
import math

import pytest

from benchmarks import records
from benchmarks.analysis import crossover
from benchmarks.records import Record
from loaders.vocabulary import BASELINE


def test_crossover_epochs() -> None:
    assert crossover.crossover_epochs(10.0, 5.0, 3.0) == pytest.approx(5.0)
    assert crossover.crossover_epochs(0.0, 5.0, 3.0) == 0.0  # free extraction pays at once


@pytest.mark.parametrize(("decode", "frames"), [(3.0, 3.0), (3.0, 5.0)])
def test_never_when_frames_are_not_faster(decode: float, frames: float) -> None:
    assert crossover.crossover_epochs(10.0, decode, frames) is None
    assert crossover.crossover_epochs(0.0, decode, frames) is None


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_bad_seconds_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="finite, non-negative"):
        crossover.crossover_epochs(bad, 5.0, 3.0)


def test_cumulative() -> None:
    decode, frames = crossover.cumulative(10.0, 5.0, 3.0, 6)
    assert decode == [5, 10, 15, 20, 25, 30]
    assert frames == [13, 16, 19, 22, 25, 28]
    assert decode[4] == frames[4]  # equal at k* = 5, extraction cheaper after


def _epoch(loader: str, kind: str, seconds: list[float], workers: int = 0, **kw: object) -> Record:
    return records.parse(dict(measure="epoch", loader=loader, kind=kind, stack="main", profile="builtin",
                              pattern="random-frame", frames=100, seconds=seconds, workers=workers, batch_size=8, **kw))


def test_pairs_from_records() -> None:
    recs = [
        records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="builtin",
                           seconds=[12.0], extractor="ffmpeg", format="jpeg", quality=90)),
        _epoch("pyav", "decode", [7.0, 5.0, 6.0]),  # median 6
        _epoch("pil", "frames", [2.0], extractor="ffmpeg", format="jpeg", quality=90),
        _epoch("npy", "frames", [1.0], extractor="ffmpeg", format="npy"),  # no extraction record: no pair
        _epoch(BASELINE, "decode", [0.1]),  # the baseline is not a decode loader
        _epoch("cv2-seek", "decode", [9.0], status="wrong"),  # wrong loaders are not compared
        _epoch("decord", "decode", [1.0], workers=2),  # other workers: no frames partner
    ]
    [pair] = crossover.pairs(recs, epochs=4)
    assert (pair.decode, pair.frames, pair.format, pair.workers) == ("pyav", "pil", "jpeg", 0)
    assert (pair.extract_seconds, pair.epoch_decode, pair.epoch_frames) == (12.0, 6.0, 2.0)
    assert pair.epochs == pytest.approx(3.0)
    assert pair.decode_total == [6, 12, 18, 24] and pair.frames_total == [14, 16, 18, 20]


def test_epochs_over_the_first_frames_count_that_share_of_the_extraction() -> None:
    """--quick and --budget time epochs over the first N frames of each video: the extraction of the
    whole videos is counted for the same share, as if the videos were that long."""
    capped = {"frames_per_video": 60, "video_frames": 120}  # two videos of 300 frames, 60 of each read
    recs = [
        records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="builtin",
                           seconds=[12.0], frames=600, extractor="ffmpeg", format="jpeg", quality=90)),
        _epoch("pyav", "decode", [6.0], options=capped),
        _epoch("pil", "frames", [2.0], extractor="ffmpeg", format="jpeg", quality=90, options=capped),
    ]
    [pair] = crossover.pairs(recs)
    assert pair.extract_seconds == pytest.approx(12.0 * 120 / 600)
    assert pair.epochs == pytest.approx(2.4 / 4)
    whole = [r if r.measure == "extraction" else dataclasses.replace(r, options={}) for r in recs]
    assert crossover.pairs(whole)[0].extract_seconds == 12.0  # every frame read: the whole extraction


def test_pairs_never() -> None:
    recs = [
        records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="builtin",
                           seconds=[12.0], extractor="ffmpeg", format="png", quality=None)),
        _epoch("decord", "decode", [2.0]),
        _epoch("pil", "frames", [3.0], extractor="ffmpeg", format="png"),
    ]
    [pair] = crossover.pairs(recs)
    assert pair.epochs is None and len(pair.decode_total) == 10
