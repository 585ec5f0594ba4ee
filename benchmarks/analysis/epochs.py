"""The epoch model: an epoch is start-up, plus opens, plus frames, each measured and scaled apart.

::

    epoch = start-up + opens x open cost / parallel workers + k x sum over videos of work x u

- **start-up** (and shutdown): starting the DataLoader's workers and everything before the first
  batch but that batch's own work, and the workers' exit after the last: from the epoch's times
  to its first and last batch (recorded per epoch, ``options["first_batch_seconds"]`` and
  ``["last_batch_seconds"]``; the workers read their batches side by side, so the time between
  them is the busiest worker's samples after its first batch). Paid once per epoch, whatever the
  dataset. An epoch where no worker reads past its first batch cannot tell it from its work, and
  takes the run's other epochs' figure; an epoch timed cold takes its warm twin's (the page cache
  changes what the reads cost, not what starting the workers does).
- **opens**: each DataLoader worker opens its own source of every video it touches (workers 0:
  the main process, once per video), and an open probes the whole file, so its cost is a fixed
  part plus one per frame, fitted to the run's open records of the loader (and store) over the
  sampled videos. In the dataset a video is touched by as many workers as its samples reach: all
  of a sequential scan's batches that span it, or, for shuffled patterns, the expected number of
  distinct workers among its samples. Opens of workers in parallel overlap.
- **frames**: the rest of the epoch. A video's work is what a loader does for its samples in units
  of one decoded frame: frames decoded (those asked and those on the way from a keyframe,
  :func:`benchmarks.budget.decoded_frames`), seeks and frames returned (converted and copied),
  weighted by :class:`benchmarks.budget.Guess`'s relative costs at the video's pixels and bytes of
  stream a frame, a frame returned at what the run's per-frame cases of the loader measured it to
  cost (:func:`returned_units`) where they tell it; a frame reader's work is the frames it
  returns. ``u``, seconds per unit, comes per video class (resolution x codec) from the per-frame
  benchmark (its seconds per frame over its own work per frame, as a ratio to what a unit of that
  video costs, applied to each class at its own pixels and bytes); a class with none is costed as
  the sampled classes of its codec; and ``k`` maps the per-frame benchmark to the epoch (workers,
  resizing, batching): the epoch's frame time over its modelled work. The dataset's work is
  counted on one video of each class's mean length and keyframe interval, times the class's
  videos.

So a capped epoch (``--quick``, ``--budget``: the first N frames of each video) scales only its
frame term, random access is costed by what it decodes in the whole video (a short cap, fewer
frames than a keyframe interval, decodes less per frame than the whole video does, and the
model knows it), and uniform-k, a fixed number of frames per video, scales with videos.

The range (low-high) holds what varies: every timed epoch (start-up and ``k`` from each), the
run's other start-ups of the same loader and workers, the spread of seconds per unit over the
sampled videos of a class (its fastest and slowest; a class sampled once takes the widest spread of
a class sampled more than once), the open cost (:data:`OPEN_SPREAD`), classes the sample did not
contain, projected from their frame size and bytes, whose frame term spans :data:`UNSAMPLED_SPREAD`
either way and which are named, an epoch that kept workers idle (from its own pace to the pace the
idle workers would have added; the point at the main process's pace on the same samples), and the
machine's drift over the run (its anchor case's slowest against its fastest) or, where it drifted
less, how far the same epoch moves between two runs (:data:`REPEATS`), by which the whole range
widens either way.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from benchmarks import patterns
from benchmarks.budget import Guess, decoded_frames, stream_megabytes
from benchmarks.dataset import ClassSummary, Dataset, Video
from benchmarks.patterns import Pattern, Sample
from benchmarks.records import Record, valid_seconds
from loaders.resize import scaled_size
from loaders.vocabulary import DECODE

GUESS = Guess()
OPEN_SPREAD = (0.5, 1.5)  # the open term's range: the open records time a lone open, not one among a worker's reads
UNSAMPLED_SPREAD = 2.0  # a class the sample missed, projected from its frame size: half to twice that
# How far a video's decoding strays from what its pixels and bytes say (:class:`Guess`'s fit,
# ``benchmarks/estimate_fit.py``: the 10-90% spread of estimated over measured per-frame decoder
# records of plan_accuracy's runs): a decoder's class sampled once, with no other to compare, takes it.
FIT_SPREAD = (0.78, 1.24)
MOSTLY_STARTUP = 0.5  # an epoch whose start-up is more than this share of it "is mostly start-up"
# A stored frame read apart from the last (shuffled frames, K spread over a video) from a store N
# times the sample's: up to N ** this slower a frame (the range's high end; the page cache warm).
# Measured on plan_accuracy's full-size shapes, at workers 0: random-frame over stores 2.7 and 6.7
# times the sample's took 3-17% and 17-34% longer a frame than the sample's own (npy and JPEG); on
# stores of tens of MB, no longer. At most the most measured: the caches it loses are lost by then
# (a store beyond the memory is read cold, counted apart).
SCATTERED_READS, SCATTERED_MOST = 0.15, 1.35
# How far the same epoch moves between two runs, which the run's own repeated epochs (minutes apart
# at most) and its anchor (timed from its start to its end) do not show: on plan_accuracy's full-size
# shapes, each measured in full twice with nothing else running, the median epoch moved 2-21% by
# pair of runs and the 90th percentile 13-40% (docs/plan-model.md); a range's other terms widen it
# too, so it takes less than the worst. The range allows at least this much either way; a run whose
# anchor drifted more allows its drift instead.
REPEATS = 1.15
RETURNED_APART = 4.0  # per-frame cases that tell a frame returned from one decoded: this far apart in their mix
SIMULATED = 2_000  # frames of a video counted at most (many keyframe intervals); longer ones scale from these


@dataclasses.dataclass(frozen=True)
class Work:
    """What a loader does for some samples of one video: samples, frames returned, frames decoded,
    seeks, and sources opened (one per worker that touched the video)."""

    samples: int = 0
    returned: int = 0
    decoded: int = 0
    seeks: int = 0
    opens: float = 0.0

    def __add__(self, other: Work) -> Work:
        return Work(self.samples + other.samples, self.returned + other.returned, self.decoded + other.decoded,
                    self.seeks + other.seeks, self.opens + other.opens)

    def scaled(self, factor: float) -> Work:
        return Work(round(self.samples * factor), round(self.returned * factor), round(self.decoded * factor),
                    round(self.seeks * factor), self.opens)

    def units(self, megapixels: float, decoder: bool, megabytes: float = 0.0, returned: float | None = None) -> float:
        """Decoded-frame equivalents: a reader's frames returned; a decoder's frames decoded, plus
        seeks and frames returned at their cost relative to decoding one frame of ``megapixels``
        and ``megabytes`` of stream. ``returned``: a frame returned in decoded frames, as the run
        measured it for the loader (:func:`returned_units`); None: :class:`Guess`'s."""
        if not decoder:
            return float(self.returned)
        one = frame_cost(megapixels, True, megabytes)
        each = (megapixels * GUESS.output + GUESS.frame) / one if returned is None else returned
        return self.decoded + self.seeks * GUESS.seek / one + self.returned * each


def frame_cost(megapixels: float, decoder: bool, megabytes: float = 0.0) -> float:
    """A unit's cost at a frame size and bitrate, relative to others: a decoded frame costs a part
    per pixel, a part per byte of its stream and a part per frame (:class:`benchmarks.budget.Guess`:
    a 480p frame 3 times a 180p one at the same bytes a pixel, not the 7 times its pixels; a 360p
    frame of 63 KB 4 times one of 10 KB); a stored frame read, a part per pixel and, for a JPEG
    frame, a part per byte of it (``megabytes``: :data:`STORED_BYTE`)."""
    if not decoder:
        return megapixels + STORED_BYTE * megabytes
    return GUESS.decoded(megapixels, megabytes)


# A JPEG frame read (a store's, or a tar shard's member) costs a part per pixel and a part per byte
# of it, a byte what this many pixels cost: its entropy decoding follows the bytes, its transform
# and colour conversion the pixels. simplejpeg's per-frame cases on the first video of each of
# plan_accuracy's runs, 256-pixel stores of q90: 2.7-3.0 us a stored kilopixel at 0.13 bytes a
# pixel, 3.3-3.5 at 0.18, 3.7-4.0 at 0.22-0.25, 7.4-7.8 at 0.72 (two videos of one shape, measured in
# one run, put it at 3.6-5.8). Noisier videos store larger JPEG frames: a sample of the quieter
# clips of a class reads faster a frame than the class does.
STORED_BYTE = 4.5
BY_THE_BYTE = ("jpeg", "tar")  # store formats whose frames read by their bytes as well as their pixels


@dataclasses.dataclass(frozen=True)
class Stored:
    """What a JPEG store holds a stored pixel, in bytes: each sampled video's (path ->) and each
    class's over the dataset (name ->), as the disk projection counts them
    (:func:`benchmarks.analysis.plan.stored_bytes`)."""

    videos: Mapping[str, float]
    classes: Mapping[str, float]

    def video(self, video: Video, size: int | None) -> float:
        """Megabytes of a stored frame of a sampled ``video`` (0 where unknown)."""
        return self.videos.get(video.path, 0.0) * megapixels(video.width, video.height, size)

    def of_class(self, name: str, c: ClassSummary, size: int | None) -> float:
        """Megabytes of a stored frame of class ``name`` in the dataset (0 where unknown)."""
        return self.classes.get(name, 0.0) * class_megapixels(c, size)


def _video_megabytes(video: Video, size: int | None, decoder: bool, stored: Stored | None) -> float:
    """What :func:`frame_cost` weighs a frame of ``video`` by besides its pixels: a decoder's
    megabytes of stream, a JPEG reader's of stored frame (``stored``), another reader's none."""
    if decoder:
        return video_megabytes(video, size)
    return stored.video(video, size) if stored is not None else 0.0


def pattern_of(name: str | None, options: Mapping[str, Any] | None = None) -> Pattern:
    """The access pattern a record ran, from its label and ``options["pattern"]`` (its parameters);
    a label this version does not know counts as a sequential scan."""
    try:
        (pattern,) = patterns.parse([name or "sequential"])
    except ValueError:
        (pattern,) = patterns.parse(["sequential"])
    params = (options or {}).get("pattern")
    return dataclasses.replace(pattern, **params) if isinstance(params, dict) else pattern


def gop_of(video: Video | ClassSummary) -> float | None:
    """Mean frames between keyframes (:attr:`Video.gop`); None where the probe did not count keyframes."""
    return video.gop if video.keyframes and video.frames else None


def codec_of(video_class: str) -> str:
    """The codec of a video class (``720p h264``: ``h264``)."""
    return video_class.split(" ", 1)[-1]


def seeks_every_frame(loader: str | None) -> bool:
    """Whether ``loader`` seeks before every frame it returns (OpenCV's CAP_PROP_POS_FRAMES)."""
    return loader in GUESS.seek_every_frame


def count(pattern: Pattern, calls_by_worker: Mapping[int, Sequence[Sample]], gops: Mapping[str, float | None],
          loader: str | None, start: Mapping[str, int] | None = None) -> dict[str, Work]:
    """Per video, what ``calls_by_worker`` (worker -> its calls in order, each worker with its own
    sources) return, decode and seek; ``start``: where each source stands when the calls begin
    (the per-frame benchmark rewinds to frame 0 before each round). Opens: workers per video."""
    every, back = seeks_every_frame(loader), GUESS.seek_back
    out: dict[str, Work] = {}
    for calls in calls_by_worker.values():
        at = dict(start or {})
        seen: set[str] = set()
        for call in calls:
            gop = gops.get(call.video)
            if gop:
                d = decoded_frames([call], {call.video: gop}, every, at, back)
                decoded, seeks = d.frames, d.seeks
            else:  # keyframes unknown: every frame asked is decoded once, no seeks counted
                decoded, seeks = len(set(call.indices)), 0
            opened = 0.0 if call.video in seen else 1.0
            seen.add(call.video)
            out[call.video] = out.get(call.video, Work()) + Work(0, len(call.indices), decoded, seeks, opened)
    return out


def epoch_work(pattern: Pattern, lengths: Mapping[str, int], gops: Mapping[str, float | None], loader: str | None,
               batch_size: int, workers: int) -> dict[str, Work]:
    """Per video, the work of one epoch exactly as the run dealt it: the pattern's samples over
    ``lengths`` (video -> frames read), in batches of ``batch_size``, batch i to worker i mod
    ``workers`` (the DataLoader's round robin; workers 0: all in the main process)."""
    samples = pattern.samples(lengths)
    by_worker: dict[int, list[Sample]] = {}
    for n, start in enumerate(range(0, len(samples), max(1, batch_size))):
        batch = samples[start:start + max(1, batch_size)]
        by_worker.setdefault(n % max(1, workers), []).extend(patterns.calls(pattern, batch))
    got = count(pattern, by_worker, gops, loader)
    per_video: dict[str, int] = {}
    for s in samples:
        per_video[s.video] = per_video.get(s.video, 0) + 1
    return {v: dataclasses.replace(w, samples=per_video.get(v, 0)) for v, w in got.items()}


def typical_work(pattern: Pattern, frames: int, gop: float | None, loader: str | None, batch_size: int,
                 workers: int, seed: int = 0) -> Work:
    """The work of one video of ``frames`` frames among many in an epoch: a sequential scan's
    batches run through it in order, so it is touched by the workers of the batches that span it;
    a shuffled pattern's samples land in batches at random, so by the expected number of distinct
    workers among its samples. Counted on the first :data:`SIMULATED` frames, and scaled."""
    n = max(1, min(frames, SIMULATED))
    work, samples = _counted(pattern, n, gop, seeks_every_frame(loader), batch_size, workers, seed)
    factor = frames / n if frames > n and pattern.base != "uniform-k" else 1.0
    total = round(samples * factor)
    w = max(1, workers)
    if pattern.base != "sequential":
        opens = w * (1 - (1 - 1 / w) ** total) if workers else 1.0
    else:
        opens = min(w, 1 + (total - 1) / max(1, batch_size)) if workers else 1.0
    return dataclasses.replace(work.scaled(factor), opens=opens)


@functools.lru_cache(maxsize=4096)
def _counted(pattern: Pattern, n: int, gop: float | None, every: bool, batch_size: int, workers: int,
             seed: int) -> tuple[Work, int]:
    """(the work, the samples) of one video of ``n`` frames (see :func:`typical_work`); cached, as
    every strategy of a pattern and workers setting counts the same videos."""
    video = "v"
    samples = pattern.samples({video: n})
    w = max(1, workers)
    by_worker: dict[int, list[Sample]] = {}
    rng = random.Random(seed)
    for i, s in enumerate(samples):
        worker = rng.randrange(w) if pattern.base != "sequential" else (i // max(1, batch_size)) % w
        by_worker.setdefault(worker, []).append(s)
    if pattern.batched:
        by_worker = {k: patterns.calls(pattern, v) for k, v in by_worker.items()}
    loader = next(iter(GUESS.seek_every_frame)) if every else None
    work = count(pattern, by_worker, {video: gop}, loader).get(video, Work())
    return dataclasses.replace(work, samples=len(samples)), len(samples)


def lengths_of(c: ClassSummary) -> list[tuple[int, float]]:
    """(videos, frames of each) of a class: its lengths as the summary keeps them, scaled so they
    add up to its frames; a summary without lengths: all its videos at their mean length."""
    if not c.lengths or sum(c.lengths.values()) != c.videos:
        return [(c.videos, c.frames / c.videos)]
    kept = sum(int(k) * n for k, n in c.lengths.items())
    scale = c.frames / kept if kept else 1.0
    return [(n, int(k) * scale) for k, n in sorted(c.lengths.items(), key=lambda kv: int(kv[0]))]


# -- the figures the model takes from the records ---------------------------------------------------

def megapixels(width: int, height: int, size: int | None) -> float:
    w, h = scaled_size(width, height, size)
    return w * h / 1e6


def class_megapixels(c: ClassSummary, size: int | None) -> float:
    return c.pixels(size) / c.frames / 1e6 if c.frames else 0.0


def video_megabytes(video: Video, size: int | None) -> float:
    """Megabytes of stream a decoder reads for a frame of ``video`` (:func:`benchmarks.budget.stream_megabytes`);
    ``size``: of its transcode at that short side."""
    return stream_megabytes(video, None if size is None else megapixels(video.width, video.height, size))


def class_megabytes(c: ClassSummary, size: int | None) -> float:
    """The class's mean megabytes of stream a frame (``size``: of its transcodes at that short side)."""
    if not c.frames:
        return 0.0
    full = class_megapixels(c, None)
    return c.video_bytes / c.frames / 1e6 * (class_megapixels(c, size) / full if size is not None and full else 1.0)


@dataclasses.dataclass(frozen=True)
class Key:
    """What one strategy's figures are kept under: loader, store (any hashable identity), pattern."""

    loader: str | None
    store: Any
    pattern: str | None


def seconds_per_unit(per_frame: Iterable[Record], dataset: Dataset, size: int | None, decoder: bool,
                     gop: int | None = None, returned: float | None = None,
                     stored: Stored | None = None) -> dict[str, list[float]]:
    """Video class -> each sampled video's seconds per unit of work over what a unit of that video
    costs (:func:`frame_cost`: its pixels, and a decoder's its bytes a frame, a JPEG reader's its
    stored frame's), from the per-frame
    records of one loader, store and pattern: seconds per frame over the work per frame of the
    case's samples (the pattern's first samples of the video, read from a source rewound to frame
    0). What is left is what the frame size and bitrate do not say (the codec, the loader, the
    machine); a video's seconds per unit is that times its cost. ``gop``: a transcoded store's
    keyframe interval, in place of the videos' own; ``returned``: see :meth:`Work.units`;
    ``stored``: a JPEG store's bytes, that a reader's frame costs by (:class:`Stored`)."""
    out: dict[str, list[float]] = {}
    for r in per_frame:
        video = dataset.measured.get(r.profile)
        if video is None or not r.fps_median or not video.frames:
            continue
        total, pixels, stream = _case_work(r, video, size, gop)
        per_frame_units = total.units(pixels, decoder, stream, returned) / max(1, total.returned)
        cost = frame_cost(pixels, decoder, stream if decoder else _video_megabytes(video, size, decoder, stored))
        if per_frame_units > 0 and cost > 0:
            out.setdefault(video.video_class, []).append(1 / r.fps_median / per_frame_units / cost)
    return out


def _case_work(record: Record, video: Video, size: int | None, gop: int | None) -> tuple[Work, float, float]:
    """What a per-frame case did on ``video`` (the pattern's first samples, read from a source
    rewound to frame 0), and the megapixels and stream megabytes of a frame it decoded."""
    pattern = pattern_of(record.pattern, record.options if isinstance(record.options, dict) else None)
    samples = patterns.head(pattern.samples({video.path: video.frames}), max(1, record.frames))
    work = count(pattern, {0: patterns.calls(pattern, samples)}, {video.path: gop or gop_of(video)}, record.loader,
                 {video.path: 0})
    return sum(work.values(), Work()), megapixels(video.width, video.height, size), video_megabytes(video, size)


def returned_units(per_frame: Iterable[Record], dataset: Dataset, size: int | None = None,
                   gop: int | None = None) -> float | None:
    """What a decoder's frame returned (converted, copied out) costs in decoded frames, from its
    per-frame records of every pattern: on each sampled video, the least-squares line through its
    cases' seconds a round against their frames decoded (seeks at the guess's cost) and returned;
    the median over the videos, at least 0. A sequential case returns nearly every frame it
    decodes, a random-frame case one in tens, so two cases on one video tell the two apart. None
    where no video has cases whose returned share differs :data:`RETURNED_APART` times or more.

    Measured: pyav's frame returned cost 0.5-1.2 decoded frames on every shape of plan_accuracy's
    runs, torchcodec's about 0 (-0.1-0.2), where :class:`Guess` says 0.1-0.45 for both; an epoch
    over the first frames of each video returns most of what it decodes, the whole videos' random
    access few, so the weight decides how a capped epoch scales."""
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for r in per_frame:
        video = dataset.measured.get(r.profile)
        if r.kind != DECODE or video is None or not r.fps_median or not video.frames or not r.frames:
            continue
        work, pixels, stream = _case_work(r, video, size, gop)
        if not work.returned:
            continue
        decoded = work.decoded + work.seeks * GUESS.seek / frame_cost(pixels, True, stream)
        rows.setdefault(r.profile, []).append((decoded, float(work.returned), r.frames / r.fps_median))
    got = []
    for cases in rows.values():
        shares = [ret / dec for dec, ret, _ in cases if dec > 0]
        if len(shares) < 2 or max(shares) < RETURNED_APART * min(shares):
            continue
        (a, c), *_ = np.linalg.lstsq(np.array([[d, ret] for d, ret, _ in cases]),
                                     np.array([t for *_, t in cases]), rcond=None)
        if a > 0:
            got.append(float(c / a))
    return max(0.0, statistics.median(got)) if got else None


@dataclasses.dataclass(frozen=True)
class OpenCost:
    """Seconds to open a source: ``fixed`` plus ``per_frame`` times the video's frames (the probe
    reads every packet)."""

    fixed: float = 0.0
    per_frame: float = 0.0
    measured: bool = False

    def __call__(self, frames: float) -> float:
        return self.fixed + self.per_frame * frames


def open_cost(opens: Iterable[Record], dataset: Dataset) -> OpenCost:
    """A least-squares line through the open records' median seconds against the videos' frames
    (both parts at least 0); one video, or videos of one length: their median, all fixed."""
    points = [(float(v.frames), statistics.median(valid_seconds(r))) for r in opens
              if (v := dataset.measured.get(r.profile)) is not None and valid_seconds(r)]
    if not points:
        return OpenCost()
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if len(set(xs)) < 2:
        return OpenCost(statistics.median(ys), 0.0, True)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = max(0.0, sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs))
    fixed = my - slope * mx
    if fixed < 0:  # through the origin instead
        slope, fixed = sum(x * y for x, y in points) / sum(x * x for x in xs), 0.0
    return OpenCost(fixed, slope, True)


def loads(samples: int, batch_size: int, workers: int) -> list[int]:
    """Samples each DataLoader worker reads in an epoch of ``samples`` in batches of ``batch_size``:
    batch ``i`` goes to worker ``i % workers`` (workers 0: the main process reads them all), and
    the last batch holds what is left."""
    w, b = max(1, workers), max(1, batch_size)
    batches = math.ceil(samples / b) if samples > 0 else 0
    short = batches * b - samples  # the last batch's shortfall
    out = []
    for k in range(min(w, batches)):
        count = math.ceil((batches - k) / w)
        out.append(count * b - (short if (batches - 1) % w == k else 0))
    return out


def startup(first_batch: float, seconds: float, samples: int, batch_size: int, workers: int,
            last_batch: float | None = None) -> float | None:
    """The time of one epoch that is no batch's work: before its first batch, less that batch's own
    work, and after its last (the workers' shutdown). The workers read their batches side by side
    (:func:`loads`), so the first batch arrives after start-up and one batch of work, and the last
    when the busiest worker is done: the time between them is that worker's samples after its
    first batch, which gives the work of a sample (without the last batch's time, the rest of the
    epoch, and no shutdown counted). Counting samples, not rounds of batches: a short last batch
    is a short round (a capped epoch of 3 batches for 2 workers has a second round of half a
    batch). At least 0; None where no worker reads past its first batch: the two cannot be told
    apart."""
    parts = _startup_parts(first_batch, seconds, Shares.alike(samples, batch_size, workers), last_batch)
    return None if parts is None else parts[0]


@dataclasses.dataclass(frozen=True)
class Shares:
    """What an epoch's first batch holds against the busiest worker's batches after its first:
    their work (in any one unit) and their seconds of opening sources, which are neither start-up
    nor a sample's work (a capped epoch of a few videos opens them all in its first batch)."""

    first: float
    after: float
    opens_first: float = 0.0
    opens_after: float = 0.0
    total: float = 0.0  # every worker's work
    busiest: float = 0.0  # the busiest worker's, its first batch too

    @classmethod
    def alike(cls, samples: int, batch_size: int, workers: int) -> Shares:
        """Samples that cost the same: the first batch's against the busiest worker's after it
        (:func:`loads`), no opens counted."""
        first = min(max(1, batch_size), samples)
        most = max(loads(samples, batch_size, workers), default=0)
        return cls(first, most - first, total=samples, busiest=most)

    @property
    def parallel(self) -> float | None:
        """Workers busy on average over the epoch: every worker's work over the busiest's (the
        epoch lasts as long as that worker's batches); None where no work was counted."""
        return self.total / self.busiest if self.busiest > 0 and self.total > 0 else None


def _startup_parts(first_batch: float, seconds: float, shares: Shares,
                   last_batch: float | None = None) -> tuple[float, float] | None:
    """:func:`startup` by the epoch's :class:`Shares`, and the work (and opening) of the first
    batch it took off the time to that batch."""
    if shares.after <= 0 or first_batch <= 0:
        return None
    end = seconds if last_batch is None else min(seconds, max(first_batch, last_batch))
    per_unit = max(0.0, end - first_batch - shares.opens_after) / shares.after
    work = min(first_batch, shares.first * per_unit + shares.opens_first)
    return first_batch - work + (seconds - end), work


@dataclasses.dataclass
class Projection:
    """One strategy's epoch for the dataset, term by term, with its range and what it rests on."""

    startup: float
    opens: float  # seconds of opening (wall, workers in parallel)
    frames: float
    low: float
    high: float
    open_count: float  # sources opened per epoch
    not_sampled: list[str]  # classes the sample missed, projected from their frame size
    notes: list[str]
    returned: float = 0.0  # frames the epoch returns over the whole dataset (what a training step consumes)
    k: float = 0.0  # the frames term's seconds per unit of work over the per-frame benchmark's (the point's)
    busy: float = 1.0  # the workers the epoch kept busy against the dataset's (under 1: some were idle)

    @property
    def seconds(self) -> float:
        return self.startup + self.opens + self.frames

    @property
    def startup_share(self) -> float:
        return self.startup / self.seconds if self.seconds > 0 else 0.0

    @property
    def mostly_startup(self) -> bool:
        return self.startup_share > MOSTLY_STARTUP


def _parallel(epoch: Record) -> int:
    cores = epoch.env.get("cores") if isinstance(epoch.env, dict) else None
    workers = max(1, epoch.workers or 0)
    return max(1, min(workers, cores)) if isinstance(cores, int) and cores > 0 else workers


def _busy(samples: int, batch_size: int, parallel: int) -> float:
    """Workers busy on average over an epoch, ``parallel`` at a time: its samples over the busiest
    worker's (:func:`loads`)."""
    per_worker = loads(samples, batch_size, parallel)
    return samples / max(per_worker) if per_worker and max(per_worker) > 0 else 1.0


def _workers_busy(dealt: Shares | None, samples: int, batch_size: int, parallel: int) -> tuple[float, float]:
    """Workers an epoch kept busy on average, at most ``parallel``: by the work dealt to each
    (``dealt``, :func:`_epoch_shares`; by their samples where it is None), and by their samples."""
    by_count = _busy(samples, batch_size, parallel)
    return (min(float(parallel), dealt.parallel) if dealt is not None and dealt.parallel else by_count), by_count


def busy_workers(epoch: Record, dataset: Dataset, returned: float | None = None,
                 stored: Stored | None = None) -> tuple[float, float] | None:
    """The workers ``epoch`` kept busy on average over ``dataset``'s sample, by the work dealt to each
    and by their samples (:func:`_workers_busy`); None where the record does not say its samples.
    ``returned``: a decoder's frame returned in decoded frames, as the run measured it (the guess's
    where None), and ``stored``: a JPEG store's bytes, as :func:`project` weighs them."""
    samples = samples_of(epoch)
    if samples is None:
        return None
    return _workers_busy(_epoch_shares(epoch, [], dataset, returned, stored), samples,
                         max(1, epoch.batch_size or 1), _parallel(epoch))


def _shares(pattern: Pattern, lengths: Mapping[str, int], batch_size: int, workers: int,
            work_of: Any, open_of: Any, expected: int | None = None) -> Shares | None:
    """The epoch's :class:`Shares`, its samples dealt as the run dealt them (:func:`epoch_work`):
    ``work_of``: a batch's samples -> their modelled work; ``open_of``: video -> seconds of one
    open (worker 0 opens every video of the first batch; the busiest worker, after its first, the
    videos it had not opened yet); ``expected``: the samples the epoch read, None where the
    pattern's are not those."""
    samples = pattern.samples(lengths)
    if expected is not None and len(samples) != expected:  # not the samples the epoch read
        return None
    b, w = max(1, batch_size), max(1, workers)
    by_worker: dict[int, list[list[Sample]]] = {}
    for n, start in enumerate(range(0, len(samples), b)):
        by_worker.setdefault(n % w, []).append(samples[start:start + b])
    if not by_worker:
        return None
    work = {k: [work_of(batch) for batch in batches] for k, batches in by_worker.items()}
    busiest = max(work, key=lambda k: sum(work[k]))
    seen = {s.video for s in by_worker[busiest][0]}
    later = {s.video for batch in by_worker[busiest][1:] for s in batch} - seen
    return Shares(work[0][0], sum(work[busiest][1:]), sum(open_of(v) for v in {s.video for s in by_worker[0][0]}),
                  sum(open_of(v) for v in later), sum(sum(x) for x in work.values()), sum(work[busiest]))


def samples_of(epoch: Record) -> int | None:
    """Samples of one of the record's epochs; None if unknown."""
    options = epoch.options if isinstance(epoch.options, dict) else {}
    samples = options.get("samples")
    return samples if isinstance(samples, int) and samples > 0 else None


def startups(epoch: Record, opens: Sequence[Record] = (), dataset: Dataset | None = None,
             returned: float | None = None, stored: Stored | None = None) -> list[float]:
    """The start-up of each of the record's epochs that can tell it apart (:func:`startup`), its
    opens taken off where ``opens`` (the loader's open records) and ``dataset`` (its sample) say
    what they cost (:func:`_epoch_shares`)."""
    options = epoch.options if isinstance(epoch.options, dict) else {}
    first, seconds, samples = _timed(options, "first_batch_seconds", epoch), valid_seconds(epoch), samples_of(epoch)
    last = _timed(options, "last_batch_seconds", epoch)
    if first is None or samples is None:
        return []
    batch, workers = max(1, epoch.batch_size or 1), epoch.workers or 0
    shares = (_epoch_shares(epoch, opens, dataset, returned, stored) if dataset is not None else None) or \
        Shares.alike(samples, batch, workers)
    got = [_startup_parts(f, t, shares, last[i] if last else None) for i, (f, t) in enumerate(zip(first, seconds,
                                                                                                 strict=True))]
    return [s[0] for s in got if s is not None]


def _epoch_shares(epoch: Record, opens: Sequence[Record], dataset: Dataset,
                  returned: float | None = None, stored: Stored | None = None) -> Shares | None:
    """:func:`_shares` of ``epoch`` over ``dataset``'s sample: a batch's work as the epoch model
    counts it (frames decoded, seeks and frames returned, each video's at its frame size), its
    opens at the open records' cost (none where there are none). None without a sample."""
    options = epoch.options if isinstance(epoch.options, dict) else {}
    cap = options.get("frames_per_video")
    measured = {v.path: v for v in dataset.measured.values() if v.error is None and v.frames}
    if not measured:
        return None
    store = epoch.store
    size, gop = (store.store_size, store.gop) if store is not None else (None, None)
    decoder = epoch.kind == DECODE
    pattern = pattern_of(epoch.pattern, options)
    lengths = {p: (v.frames if cap is None else min(cap, v.frames)) for p, v in measured.items()}
    gops = {p: gop or gop_of(v) for p, v in measured.items()}
    pixels = {p: megapixels(v.width, v.height, size) for p, v in measured.items()}
    streams = {p: _video_megabytes(v, size, decoder, stored) for p, v in measured.items()}
    cost = open_cost(opens, dataset)

    def work_of(batch: Sequence[Sample]) -> float:
        got = count(pattern, {0: patterns.calls(pattern, list(batch))}, gops, epoch.loader)
        return sum(w.units(pixels[p], decoder, streams[p], returned) * frame_cost(pixels[p], decoder, streams[p])
                   for p, w in got.items())

    return _shares(pattern, lengths, max(1, epoch.batch_size or 1), epoch.workers or 0, work_of,
                   (lambda v: cost(measured[v].frames)) if cost.measured else (lambda v: 0.0), samples_of(epoch))


def _timed(options: Mapping[str, Any], name: str, epoch: Record) -> list[float] | None:
    """A per-epoch list of the record's options (one figure per epoch timed), or None."""
    value = options.get(name)
    return value if isinstance(value, list) and len(value) == len(valid_seconds(epoch)) else None


def project(epoch: Record, per_frame: Sequence[Record], opens: Sequence[Record], dataset: Dataset,
            size: int | None, startup_elsewhere: float | None = None, gop: int | None = None,
            startups_seen: Sequence[float] = (), drift: float = 1.0, startup_floor: float | None = None,
            alone: float | None = None, speedup: float | None = None, returned: float | None = None,
            stored: Stored | None = None, startup_warm: float | None = None) -> Projection:
    """``epoch`` (one timed epoch record of the sample) projected to ``dataset``, term by term;
    ``per_frame`` and ``opens``: the same loader's (and store's) per-frame records of the same
    pattern and open records; ``size``: the short side the loader reads (a store's), None: as
    decoded; ``startup_elsewhere``: the start-up of the run's other epochs with the same loader and
    workers, for an epoch of one batch, whose start-up cannot be told from its frames; ``gop``: the
    keyframe interval of a transcoded store the loader decodes, in place of the videos' own;
    ``startups_seen``: every start-up the run measured for the same loader and workers (any
    pattern), whose spread the range takes; ``drift``: the machine's drift over the run (the anchor
    case's slowest against its fastest in the stack, a factor of at least 1), by which the range widens
    either way where it exceeds :data:`REPEATS`: the same case timed at two moments of the run
    differed by that much;
    ``startup_floor``: the DataLoader's own start-up at these workers, the least of the run's
    loaders' (with workers, an epoch's first batch is read while every worker reads its own, the
    batches after it by fewer at a time: a sample's work measured after the first batch, on a
    machine less busy, undercounts the first batch's and leaves the rest in the start-up, most for a
    loader that loads the cores; starting the workers costs the same whatever they read); ``alone``:
    :attr:`Projection.k` of the same loader, store and pattern's epoch at workers 0 in the same run,
    the point an epoch that kept workers idle is projected at (within what the idle workers allow);
    ``speedup``: the workers' pace against the main process's that the run measured on the same
    loader's other patterns (a ratio of their k), by which that point is taken; ``returned``: a
    decoder's frame returned in decoded frames, as the run measured it (:func:`returned_units`),
    None: the guess's; ``stored``: what a JPEG store holds a pixel, in the sample's videos and the
    dataset's classes, that a reader's frame costs by (:class:`Stored`), None: its pixels alone;
    ``startup_warm``: for an epoch timed cold, the start-up of its twin timed warm, taken as its own
    (at most its time to the first batch): starting the workers costs the same whatever the page
    cache holds, and what the first batch waited for beyond it was its files read from the disk,
    which the frames term takes and scales. A small sample's first batch touches most of its files
    first, so most of its cold reads fall before that batch; told apart as start-up, they were not
    scaled to the dataset's many files (a `clips` sample projected cold npy epochs at 0.5-0.8 of
    their truth)."""
    options = epoch.options if isinstance(epoch.options, dict) else {}
    decoder = epoch.kind == DECODE
    pattern = pattern_of(epoch.pattern, options)
    cap = options.get("frames_per_video")
    workers, batch = epoch.workers or 0, max(1, epoch.batch_size or 1)
    parallel = _parallel(epoch)
    notes: list[str] = []
    measured = {v.path: v for v in dataset.measured.values() if v.error is None and v.frames}
    lengths = {p: (v.frames if cap is None else min(cap, v.frames)) for p, v in measured.items()}
    gops = {p: gop or gop_of(v) for p, v in measured.items()}
    if decoder and any(g is None for g in gops.values()):
        notes.append("keyframes not counted: random access costed as if every frame asked were decoded once")
    sample_work = epoch_work(pattern, lengths, gops, epoch.loader, batch, workers) if measured else {}

    # Seconds per unit over a unit's cost (:func:`seconds_per_unit`) by class: mean, fastest and
    # slowest sampled video; classes without per-frame figures from their codec's (below; any
    # unit: k calibrates it).
    units = seconds_per_unit(per_frame, dataset, size, decoder, gop, returned, stored)
    sample_classes = {v.video_class for v in measured.values()}
    ratios = {c: statistics.fmean(u) for c, u in units.items()}
    # A class the sample missed is costed at its frame size and bitrate (:func:`frame_cost`) as the
    # sampled classes of its codec (decoding HEVC or VP9 costs more a pixel than H.264), or, where
    # the sample has none of its codec, all of them.
    per_pixel = statistics.fmean(ratios.values()) if ratios else 1.0
    by_codec: dict[str, list[float]] = {}
    for name, r in ratios.items():
        by_codec.setdefault(codec_of(name), []).append(r)

    # A class sampled once shows no spread of its videos: it borrows the widest of the classes
    # sampled more than once (their fastest and slowest video against their mean).
    spreads = [(min(u) / statistics.fmean(u), max(u) / statistics.fmean(u)) for u in units.values()
               if len(u) > 1 and statistics.fmean(u) > 0]
    borrowed = (min(lo for lo, _ in spreads), max(hi for _, hi in spreads)) if spreads else None
    # None was: the sampled classes of one codec against their frame size show how far a video's
    # cost strays from what its pixels say (its content, its keyframes), the widest of any codec.
    across = [(min(r) / statistics.fmean(r), max(r) / statistics.fmean(r)) for r in by_codec.values()
              if len(r) > 1 and statistics.fmean(r) > 0]
    by_size = (min(lo for lo, _ in across), max(hi for _, hi in across)) if across and borrowed is None else None
    # Not even that (one class, one video): what the cost model is known to miss of a video.
    by_fit = FIT_SPREAD if decoder and borrowed is None and by_size is None else None
    borrowed = borrowed or by_size or by_fit

    def unit(c: str, end: Any = statistics.fmean) -> float:
        if c not in units:
            same = by_codec.get(codec_of(c))
            return statistics.fmean(same) if same else per_pixel
        if len(units[c]) == 1 and borrowed is not None and end in (min, max):
            return units[c][0] * borrowed[0 if end is min else 1]
        return float(end(units[c]))

    cost = open_cost(opens, dataset)
    if not cost.measured:
        notes.append("no open timings: opening counted in the frames term")
    sample_open = sum(cost(measured[p].frames) * w.opens for p, w in sample_work.items()) / parallel
    def video_units(w: Work, v: Video) -> float:  # a sampled video's work, in the units' cost
        pixels, stream = megapixels(v.width, v.height, size), _video_megabytes(v, size, decoder, stored)
        return w.units(pixels, decoder, stream, returned) * frame_cost(pixels, decoder, stream)

    sample_units = sum(video_units(w, measured[p]) * unit(measured[p].video_class) for p, w in sample_work.items())

    # The dataset: per class, a video of each length it holds, times the videos that long.
    typical: dict[str, list[tuple[int, float, Work]]] = {}  # class -> (videos, frames, work of one)
    for name, c in dataset.classes.items():
        if c.videos and c.frames:
            typical[name] = [(n, length, typical_work(pattern, round(length), gop or gop_of(c), epoch.loader, batch,
                                                      workers)) for n, length in lengths_of(c)]
    not_sampled = sorted(c for c in typical if c not in sample_classes)
    dataset_open = sum(cost(length) * w.opens * n for kinds in typical.values() for n, length, w in kinds) / parallel

    def dataset_units(end: Any, spread: float) -> float:
        total = 0.0
        for name, kinds in typical.items():
            c = dataset.classes[name]
            u = unit(name, end) * (spread if name in not_sampled else 1.0)
            pixels = class_megapixels(c, size)
            stream = class_megabytes(c, size) if decoder else stored.of_class(name, c, size) if stored else 0.0
            total += sum(w.units(pixels, decoder, stream, returned) * n
                         for n, _, w in kinds) * frame_cost(pixels, decoder, stream) * u
        return total

    seconds = valid_seconds(epoch)
    first, last = _timed(options, "first_batch_seconds", epoch), _timed(options, "last_batch_seconds", epoch)
    samples = samples_of(epoch) or sum(w.samples for w in sample_work.values())
    batches = math.ceil(samples / batch)
    dealt = _epoch_shares(epoch, opens, dataset, returned)
    shares = dealt or Shares.alike(samples, batch, workers)
    starts: list[float] = []
    ks: list[float] = []
    ks_other: list[float] = []  # of an epoch whose start-up is another's: its k at the other start-ups seen
    guessed: list[bool] = []  # per epoch: its start-up another's, and more than what is left of it
    seen = [x for x in startups_seen if x >= 0] if first else []  # start-ups told apart, of any pattern
    open_share = 1.0  # of the open timings that fit the epochs (less where they exceed them)

    def k_at(t: float, start: float) -> float:
        rest = t - start
        return (rest - min(sample_open, 0.9 * rest)) / sample_units if sample_units > 0 else 0.0

    for i, t in enumerate(seconds):
        parts = _startup_parts(first[i], t, shares, last[i] if last else None) if first else None
        s = parts[0] if parts else None
        if parts and startup_floor is not None and workers:
            # At most one more batch's work was left in the start-up (the first batch read by
            # every worker at once, twice as slow as the batches after it, read by fewer).
            s = max(min(parts[0], startup_floor), parts[0] - parts[1])
        elif s is None and first and startup_elsewhere is not None:  # the others' start-up and shutdown, at
            most = first[i] + (t - last[i] if last else 0.0)  # most this one's own
            s = min(startup_elsewhere, most)
            # What is left of the epoch is as uncertain as the start-up taken off it: its frames
            # range over the start-ups seen.
            ks_other += [k_at(t, min(x, most)) for x in seen]
        if startup_warm is not None and first:
            s = min(startup_warm, first[i])
        guessed.append(parts is None and s is not None and t - s < s)
        starts.append(s or 0.0)
        if sample_open > 0:
            open_share = min(open_share, min(sample_open, 0.9 * (t - starts[-1])) / sample_open)
        ks.append(k_at(t, starts[-1]))
    # Workers read a batch each a round: an epoch of fewer batches than workers (a capped one, of a
    # few videos) kept some of them idle, which the dataset's many batches will not. How much faster
    # that makes the dataset's frames depends on how many cores one busy worker used, which the run
    # does not see: all of them (a threaded decoder), and the idle workers cost nothing; one (a
    # reader, or a decoder on one thread a worker), and the dataset's are faster by as much as the
    # workers were idle. The range takes both. The point: the same samples read by the main process
    # alone (``alone``, workers 0), which has every core to itself as the dataset's busy workers
    # have them between them, where the run has it, times how the workers paced against the main
    # process on the run's patterns that kept them busy (``speedup``: a reader on one core a worker
    # gains what a threaded decoder at workers 0 already had); else the geometric mean of the two.
    # The sample's workers are counted by the work dealt to each, as the run dealt its samples (a
    # heavy video's clips in one worker's batches keep it busy while the other waits); the
    # dataset's, of many batches in an order no run has dealt, by their samples.
    dataset_samples = round(sum(w.samples * n for kinds in typical.values() for n, _, w in kinds))
    by_work, by_count = _workers_busy(dealt, samples, batch, parallel)
    busy = by_work / _busy(dataset_samples, batch, parallel)
    ks_low, ks_high = ks, ks
    if busy < 1:
        ks_low = [k * busy for k in ks]
        uneven = ", the work dealt unevenly" if abs(by_work - by_count) > 0.01 * by_count else ""
        idle = (f"{batches} batch{'es' if batches != 1 else ''} for {parallel} workers{uneven}: the epoch kept "
                f"{100 * (1 - busy):.0f}% of them idle, which the dataset's batches will not; its frames ")
        if alone is not None and alone > 0:
            pace = alone * (speedup if speedup is not None and speedup > 0 else 1.0)
            # An epoch of one batch a worker whose start-up, another epoch's, is most of it: what is
            # left is mostly how far its start-up strayed from the other's, not a pace to bound the
            # point by; the range keeps it.
            ks_low = [min(k, pace) if g else k for k, g in zip(ks_low, guessed, strict=True)]
            ks_high = [max(k, pace) if g else k for k, g in zip(ks_high, guessed, strict=True)]
            ks = [pace if g else min(k, max(k * busy, pace)) for k, g in zip(ks, guessed, strict=True)]
            notes.append(idle + "projected at the main process's own pace on the same samples (workers 0)"
                         + (f" times x{speedup:.2f}, the workers' pace against it on the run's other patterns"
                            if speedup is not None and speedup > 0 else "")
                         + (" (what is left of it after the start-up of the run's other epochs is less than that "
                            "start-up: too little of its own to bound the point)" if any(guessed)
                            else f", within x{busy:.2f}-1"))
        else:
            ks = [k * math.sqrt(busy) for k in ks]
            notes.append(idle + f"projected at x{math.sqrt(busy):.2f} (x{busy:.2f}-1)")
    if alone is not None and alone > 0 and workers:
        # Workers on ``parallel`` cores read at most ``parallel`` times as fast as the main process
        # alone: frames that came out faster (an epoch of a few batches, most of it its workers'
        # start) say how the start-up was told apart, not how fast the dataset's frames will be.
        least = alone / parallel
        if min(ks, default=least) < least:
            notes.append(f"its frames faster than {parallel} workers can read them: taken at the main process's "
                         f"pace on the same samples over {parallel} (workers 0)")
        ks, ks_low, ks_high = ([max(k, least) for k in x] for x in (ks, ks_low, ks_high))
    if startup_warm is not None and first:
        notes.append(f"timed cold: start-up taken from the same epoch timed warm ({startup_warm:.3g} s); the rest of "
                     "its time to the first batch, reading its files from the disk, counted with its frames")
    if first is None:
        notes.append("no time to first batch recorded: start-up counted in the frames term")
    elif shares.after <= 0:
        notes.append("one batch a worker: start-up taken from the run's other epochs of this loader and workers"
                     if startup_elsewhere is not None else "one batch a worker: start-up not told apart from frames")
    if open_share < 1.0:
        notes.append("the open timings exceed the epoch's time after start-up: opens counted at "
                     f"{100 * open_share:.0f}% of them")
        dataset_open *= open_share
    mid, fast, slow = dataset_units(statistics.fmean, 1.0), dataset_units(min, 1 / UNSAMPLED_SPREAD), \
        dataset_units(max, UNSAMPLED_SPREAD)
    totals = [s + dataset_open + k * mid for s, k in zip(starts, ks, strict=True)]
    i = sorted(range(len(totals)), key=totals.__getitem__)[len(totals) // 2] if totals else 0
    point_start, point_k = (starts[i], ks[i]) if totals else (0.0, 0.0)
    if len(totals) % 2 == 0 and totals:  # an even count: the median's two epochs, averaged
        j = sorted(range(len(totals)), key=totals.__getitem__)[len(totals) // 2 - 1]
        point_start, point_k = (starts[i] + starts[j]) / 2, (ks[i] + ks[j]) / 2
    # Frames read apart over a store larger than the sample's are read with less locality (caches,
    # pages): the high end allows for it. A decoder's reads are its stream's, dwarfed by decoding.
    scattered = 1.0
    if not decoder and pattern.base in ("random-frame", "random-batch", "uniform-k"):
        whole = sum(class_megapixels(c, size) * c.frames for c in dataset.classes.values())
        sampled = sum(megapixels(v.width, v.height, size) * (v.frames if cap is None else min(cap, v.frames))
                      for v in measured.values())
        if sampled > 0 and whole > sampled:
            scattered = min(SCATTERED_MOST, (whole / sampled) ** SCATTERED_READS)
            if scattered >= 1.01:
                notes.append(f"frames read apart from a store {whole / sampled:.1f} times the sample's: "
                             f"the range allows x{scattered:.2f} a frame for their locality")
    low = (min(starts + seen, default=0.0) + dataset_open * OPEN_SPREAD[0]
           + min(ks_low + [k * busy for k in ks_other], default=0.0) * fast) / max(drift, REPEATS)
    high = (max(starts + seen, default=0.0) + dataset_open * OPEN_SPREAD[1]
            + max(ks_high + ks_other, default=0.0) * slow * scattered) * max(drift, REPEATS)
    if round(100 * (drift - 1)) >= 1:
        notes.append(f"the machine drifted by {100 * (drift - 1):.0f}% over the run (the anchor case, slowest "
                     "against fastest): the range allows for as much either way")
    for name in not_sampled:
        notes.append(f"{name}: not in the sample, projected from pixels"
                     + (f" (as the sample's {codec_of(name)})" if codec_of(name) in by_codec else ""))
    once = sorted(c for c in typical if c in units and len(units[c]) == 1 and dataset.classes[c].videos > 1)
    if once and by_size is not None:
        notes.append(f"{', '.join(once)}: one video sampled, and no class more than once; the range takes the "
                     f"widest spread of the sampled classes of one codec against their frame size "
                     f"(x{by_size[0]:.2f}-{by_size[1]:.2f})")
    elif once and by_fit is not None:
        notes.append(f"{', '.join(once)}: one video sampled, and no other to compare; the range takes how far a "
                     f"video's decoding strays from what its pixels and bytes say (x{by_fit[0]:.2f}-{by_fit[1]:.2f})")
    elif once and borrowed is not None:
        notes.append(f"{', '.join(once)}: one video sampled; the range takes the widest spread of the classes "
                     f"sampled more than once (x{borrowed[0]:.2f}-{borrowed[1]:.2f})")
    elif once:  # one video cannot show how much its class varies: the range does not cover that
        notes.append(f"{', '.join(once)}: one video sampled, so the range has no spread of its videos")
    opened = sum(w.opens * n for kinds in typical.values() for n, _, w in kinds)
    returned = sum(w.returned * n for kinds in typical.values() for n, _, w in kinds)
    out = Projection(point_start, dataset_open, point_k * mid, low, high, opened, not_sampled, notes, returned, point_k,
                     min(1.0, busy))
    if out.mostly_startup:
        notes.append(f"mostly start-up: {100 * out.startup_share:.0f}% of the epoch is starting workers, "
                     "whatever the loader")
    return out
