"""What a run will do and roughly how long it takes, and what a time budget drops.

Pure functions over a :class:`benchmarks.spec.RunSpec` (no measuring here), so the arithmetic is
tested on known cases. Before anything is measured the cost of a frame is a guess (:class:`Guess`, fitted to the
records of past runs on a quiet 2-core machine by :mod:`benchmarks.estimate_fit`): a decoder pays
for every frame it decodes on the way to those asked, counted from where each of its sources
stands (:func:`decoded_frames`), a reader for each frame it reads, by format and pixels. A
calibrated case then costs its warm-up round plus the larger of ``min_time`` and ``min_rounds``
rounds, and an epoch its calls, dealt to its workers, spread over the cores. Once the per-frame
phase has timed every loader on every pattern, :func:`measured_seconds_per_frame` replaces the
guess for the epochs (:func:`estimate`'s ``measured``), and the run prints the refined ETA before them.
On a busy machine the guesses are slowed by :func:`load_factor` first (:meth:`Guess.scaled`). The
estimate keeps each step's seconds (:attr:`Estimate.parts`): the progress's planned work, from which
the ETA learns how far off the estimate was, phase by phase (:class:`loaders.progress.Progress`).

A budget (``--budget 10m``) is met by dropping, in this order, until the estimate fits: extra
epochs (to 1), extra workers settings (to one), the second page-cache state (cold and warm
epochs to the one the dataset's plan uses), long videos (cut to their first frames, two keyframe
intervals and :data:`MIN_CLIP_FRAMES` at least), frames per video in the epochs (halving, to
:data:`MIN_FRAMES_PER_VIDEO`), frames per per-frame case (halving, to :data:`MIN_CASE_FRAMES`),
rounds per per-frame case (to :data:`MIN_ROUNDS`), videos (the most that fit, of a seeded sample
that keeps every kind of video while it can: :func:`keep_order`). Each step is said.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import loaders
from benchmarks import patterns
from benchmarks.calibration import Calibration
from benchmarks.patterns import Pattern, Sample, head
from benchmarks.records import Record, valid_seconds
from benchmarks.spec import RunSpec, Target, Video
from loaders.units import duration
from loaders.vocabulary import BASELINE

MIN_FRAMES_PER_VIDEO = 32  # below this an epoch says little about a real one
# A budget cuts a long video to its first this many frames at least, and two keyframe intervals
# (:mod:`benchmarks.clips`): 10 s at 30 fps, over which a random access costs what it does in the whole.
MIN_CLIP_FRAMES = 300
MIN_CASE_FRAMES = 4  # frames per per-frame case a budget keeps at least
MIN_ROUNDS = 3  # timed rounds per per-frame case a budget keeps at least: a median and a spread
QUICK_BUDGET = 180.0  # seconds: what --quick aims at, whatever the input
QUICK_FRAMES_PER_VIDEO = 120  # --quick reads the first 4 s of a 30 fps video in its epochs

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``10m``, ``1h``, ``1h30m`` or a plain number of seconds."""
    clean = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", clean):
        seconds = float(clean)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd])", clean)
        if not parts or re.sub(r"\d+(?:\.\d+)?\s*[smhd]", "", clean).strip():
            raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 10m, 1h or 1h30m)")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not math.isfinite(seconds):
        raise ValueError(f"not a duration: {text!r} is not a finite number of seconds")
    if seconds <= 0:
        raise ValueError(f"a duration must be more than 0 seconds: {text!r}")
    return seconds


DEADLINE_ENV = "VIDBENCH_DEADLINE"  # the end of the whole bench (all stacks), in seconds since the epoch
STACKS_LEFT_ENV = "VIDBENCH_STACKS_LEFT"  # stacks still to run, the one reading it included


def deadline_from_env(environ: Mapping[str, str]) -> tuple[float | None, int]:
    """(the whole bench's deadline or None, the stacks left to share it), as ``nox -s bench`` sets
    them from ``--budget``; a value that is not a number is a usage error naming the variable."""
    raw, left = environ.get(DEADLINE_ENV), environ.get(STACKS_LEFT_ENV, "1")
    try:
        return (float(raw) if raw else None), max(1, int(left))
    except ValueError:
        raise SystemExit(f"{DEADLINE_ENV}={raw!r} / {STACKS_LEFT_ENV}={left!r}: not a time in seconds since "
                         "the epoch and a count of stacks") from None


def skipped_line(skipped: Sequence[str], shown: int = 6) -> str:
    """What a run past its deadline did not start, in one line (the first few named)."""
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return (f"past the budget: {len(skipped)} step{'s' if len(skipped) != 1 else ''} not started "
            f"({', '.join(skipped[:shown])}{more}); the plan has no figures for them")


@dataclasses.dataclass(frozen=True)
class Guess:
    """Seconds before anything is measured. Per megapixel of a frame: a decoder decoding one frame
    (every frame from the keyframe up to the one asked is decoded, see :func:`decoded_frames`) and
    returning one (colour conversion and copy), a reader reading one stored frame, by format, an
    epoch resizing one, extracting one frame to one format. Per call and per frame whatever its
    size, and per megabyte of the stream decoded. Fitted (``benchmarks/estimate_fit.py``) on a 2-core
    machine to the per-frame and epoch records of ``plan_accuracy``'s runs (H.264, HEVC and VP9 at
    180p-720p, keyframes every 1-10 s; 1,000 records) and of a ``--quick`` run; the factors of the
    decoders those runs lack (OpenCV, decord, torchvision) and of the PNG and tar readers are
    from an earlier fit to default runs."""

    decode: float = 0.001
    output: float = 0.0019
    read: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"jpeg": 0.0036, "png": 0.028, "npy": 0.00016, "tar": 0.0042})
    resize: float = 0.0015  # an epoch's frames are resized to its --size
    call: float = 0.000002  # a get_frames call
    frame: float = 0.00001  # a frame returned, converted and copied whatever its size
    decode_frame: float = 0.0001  # a frame decoded whatever its size
    # Per megabyte of the stream decoded: entropy decoding follows the bitrate, so a noisy or
    # detailed video decodes slower than a flat one of its size (360p H.264 at 10 KB a frame took
    # 1.8 ms, at 63 KB 4.9 ms; HEVC at 3 KB, 1.1 ms).
    decode_byte: float = 0.06
    seek: float = 0.0015  # a seek: flushing the decoder, finding the keyframe
    # Each decoder's own factor on the decode and output costs (1 if unknown); and one more on a
    # decoder's work in an epoch, where each DataLoader worker decodes on one thread.
    slower: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "pyav": 1.0, "cv2-grab": 0.9, "cv2-seek": 0.84, "decord": 1.44, "torchcodec": 0.83,
        "torchvision-read_video": 2.57, "torchvision-videoreader": 2.01})
    epoch_decode: float = 1.47
    # Writing one frame, by format, per megapixel written (decoding the source is ``decode`` and
    # ``output``): a PNG store of 1080p clips took ten times a JPEG one here; mp4 is the H.264 transcode.
    extract: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"jpeg": 0.035, "png": 0.4, "npy": 0.025, "tar": 0.035, "mp4": 0.03})
    # Starting one video's extraction whatever its frames: a process (FFmpeg's), opening and probing
    # the video, a folder; fitted to 107 extraction records of plan_accuracy's runs (0.062 s, with
    # ``extracted`` as it is) by the seconds times the jobs in parallel.
    extract_video: float = 0.06
    open: float = 0.011  # seconds to open a source in an epoch
    case_open: float = 0.05  # seconds to open a source in an open case (the probe demuxes the whole file)
    # Seconds every per-frame case costs beside its rounds and its share of the reference decode
    # (:func:`reference_seconds`): opening, comparing frames (an open case verifies nothing); fitted
    # to the per-frame phases of plan_accuracy's runs, 96-130 cases each, with the reference decode
    # counted apart. And every epoch with DataLoader workers beside its frames: starting them (a
    # --quick run's noop epochs at 2 workers took 0.07-0.09 s; the main process alone starts in ms).
    case: float = 0.05
    epoch_start: float = 0.06
    # Timing what handing a batch to the main process costs (:func:`benchmarks.runner.handoff`),
    # once for each shape of batch a stack's epochs with workers read: a batch of a loader that
    # reads nothing, and each of its frames (a buffer the size of the resized frames). Timed here
    # with 2 workers, batches of 8 at 112 px: 0.9-1.0 s for single frames, 1.3 s for 8 frames a
    # sample, 2.2-2.5 s for 16 (this counts 0.94, 1.61 and 2.38).
    handoff_batch: float = 0.0005
    handoff_frame: float = 0.00005
    # Every epoch beside its timed seconds, workers or not: its files put in the page cache, its
    # workers joined, its sources closed, the collecting after it (:func:`benchmarks.runner.run`):
    # 0.02 s here over a store of 3 npy files (0.1 s more to check 2,580 JPEG files). It was
    # 0.15 s before the collecting left out the run's own objects (:func:`benchmarks.runner.frozen`),
    # and uncounted: runs whose timed epochs added up to 8-45 s spent 17-49 s more on the phase.
    epoch_between: float = 0.03
    # Decoders that seek before every frame (the per-frame-seek worst case), and how many frames
    # before the target their seek aims (OpenCV's CAP_PROP_POS_FRAMES: 16), to decode forward from
    # the keyframe at or before that.
    seek_every_frame: frozenset[str] = frozenset({"cv2-seek"})
    seek_back: int = 16
    free: frozenset[str] = frozenset({BASELINE})  # loaders that read nothing (the overhead baseline)

    def decoded(self, megapixels: float, megabytes: float = 0.0) -> float:
        """Seconds to decode one frame of ``megapixels`` from ``megabytes`` of stream (no decoder's
        factor): the one cost of a decoded frame the estimate, the epoch model and the plan share."""
        return megapixels * self.decode + self.decode_frame + megabytes * self.decode_byte

    def extracted(self, megapixels: float, megabytes: float, stored: float, fmt: str | None) -> float:
        """Seconds to extract one frame: decode it, convert it, and write ``stored`` megapixels of
        it to format ``fmt`` (None: nothing written)."""
        write = 0.0 if fmt is None else self.extract.get(fmt, max(self.extract.values()))
        return self.decoded(megapixels, megabytes) + megapixels * self.output + stored * write

    def scaled(self, factor: float) -> Guess:
        """Every cost in seconds times ``factor`` (a busy machine's, :func:`load_factor`); the
        decoders' factors, which are ratios, as they are."""
        seconds = ("decode", "output", "resize", "call", "frame", "decode_frame", "decode_byte", "seek",
                   "extract_video", "open", "case_open", "case", "epoch_start", "epoch_between", "handoff_batch",
                   "handoff_frame")
        return dataclasses.replace(self, read={k: v * factor for k, v in self.read.items()},
                                   extract={k: v * factor for k, v in self.extract.items()},
                                   **{name: getattr(self, name) * factor for name in seconds})


LOAD_ENV = "VIDBENCH_LOAD"  # the load the estimate assumes, instead of the machine's (tests pin it)


def load_factor(load: float, cores: int) -> float:
    """How much longer than on a quiet machine (where :class:`Guess` was fitted) the run takes while
    ``load`` processes are already runnable on its ``cores``: once they and the run's own busy
    process outnumber the cores, each gets ``cores / (load + 1)`` of one. At least 1."""
    return max(1.0, (max(0.0, load) + 1) / max(1, cores))


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Seconds per phase, and per step of the run (``parts``, see :func:`part`): the progress's
    planned work, so the ETA learns from each step how far off its estimate was."""

    extraction: float
    per_frame: float  # open and per-frame cases
    epochs: float
    parts: Mapping[tuple[str, ...], float] = dataclasses.field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.extraction + self.per_frame + self.epochs

    def line(self) -> str:
        return (f"about {duration(self.total, whole=True)} (extraction {duration(self.extraction, whole=True)}, "
                f"per-frame {duration(self.per_frame, whole=True)}, epochs {duration(self.epochs, whole=True)}; "
                "a rough guess until measured)")

    def of(self, *keys: tuple[str, ...]) -> float:
        """The seconds of the steps ``keys`` (see :func:`part`), 0 for a step not estimated."""
        return sum(self.parts.get(k, 0.0) for k in keys)


def part(phase: str, *names: object) -> tuple[str, ...]:
    """The key of one step in :attr:`Estimate.parts`: ``("extraction", store label)``, ``("open",
    target, video)``, ``("per_frame", target, video, pattern)``, ``("epoch", target, pattern,
    workers)`` (one page-cache state's epochs of that cell)."""
    return (phase, *map(str, names))


def case_seconds(round_seconds: float, calibration: Calibration) -> float:
    """A calibrated case: its warm-up rounds, then rounds until ``min_time`` and ``min_rounds``."""
    rounds = max(calibration.min_rounds, math.ceil(calibration.min_time / round_seconds) if round_seconds > 0 else 0)
    rounds = min(rounds, calibration.max_rounds)
    return (calibration.warmup + rounds) * round_seconds


@dataclasses.dataclass(frozen=True)
class Decoded:
    """What a decoder does for some calls: frames decoded (those asked, and those on the way to
    them) and seeks (to a keyframe, starting the decode again)."""

    frames: int = 0
    seeks: int = 0


def decoded_frames(calls: Iterable[Sample], gops: Mapping[str, float], seeks_every_frame: bool = False,
                   at: dict[str, int] | None = None, seek_back: int = 16) -> Decoded:
    """What a decoder decodes to return ``calls`` in turn from one open source per video: each
    call's frames in index order, each reached by decoding forward from the last frame decoded when
    no keyframe lies between them, else by a seek to the keyframe at or before it (keyframes every
    ``gops[video]`` frames, the video's mean interval). A decoder that seeks before every frame
    seeks to the keyframe at or before ``seek_back`` frames ahead of it each time, even walking
    forward, except to the frame right after the last one (cv2-seek reads on to it).
    ``at``: where each source stands (video -> last frame decoded), updated."""
    at = {} if at is None else at
    frames = seeks = 0
    for call in calls:
        gop = max(1, round(gops[call.video]))
        pos = at.get(call.video)
        for i in sorted(set(call.indices)):
            key = i // gop * gop
            if seeks_every_frame and pos is not None and i == pos + 1:
                frames += 1
            elif seeks_every_frame:
                frames += i - max(0, i - seek_back) // gop * gop + 1
                seeks += 1
            elif pos is not None and key <= pos < i:
                frames += i - pos
            else:
                frames += i - key + 1
                seeks += 1
            pos = i
        if pos is not None:
            at[call.video] = pos
    return Decoded(frames, seeks)


@dataclasses.dataclass
class Tally:
    """What some calls on one video amount to: calls, frames returned, what was decoded on the
    way (:class:`Decoded`), and sources opened."""

    calls: int = 0
    frames: int = 0
    decoded: int = 0
    seeks: int = 0
    opened: int = 0


def _seconds(run: RunSpec, target: str, video: str, tally: Tally, guess: Guess, epoch: bool = False) -> float:
    """Seconds of ``tally``'s calls by ``target`` on ``video`` (a reader decodes nothing); in an
    epoch each frame is also resized."""
    loader = _loader(target)
    if loader in guess.free:
        return 0.0
    v = run.videos[video]
    megapixels = v.megapixels_at(run.sizes.get(target))
    fixed = _handled(run, target, video, tally, guess, epoch)
    if target in run.decoders:
        work = tally.frames * guess.output * megapixels + tally.decoded * guess.decoded(
            megapixels, stream_megabytes(v, megapixels)) + tally.seeks * guess.seek
        return fixed + work * guess.slower.get(loader, 1.0) * (guess.epoch_decode if epoch else 1.0)
    read = guess.read.get(run.formats.get(target, "jpeg"), max(guess.read.values()))
    return fixed + tally.frames * megapixels * read


def _handled(run: RunSpec, target: str, video: str, tally: Tally, guess: Guess, epoch: bool) -> float:
    """Seconds of ``tally``'s calls and frames whatever reads them: a call, a frame returned, and in
    an epoch each frame resized (:func:`_resized`)."""
    if _loader(target) in guess.free:
        return 0.0
    return tally.calls * guess.call + tally.frames * guess.frame + (
        _resized(run, target, video, tally, guess) if epoch else 0.0)


def _resized(run: RunSpec, target: str, video: str, tally: Tally, guess: Guess) -> float:
    """Seconds an epoch takes to resize ``tally``'s frames to its ``--size``, batch them and hand
    them over, which no per-frame case does."""
    if _loader(target) in guess.free:
        return 0.0
    return tally.frames * run.videos[video].megapixels_at(run.sizes.get(target)) * guess.resize


def stream_megabytes(video: Video, megapixels: float | None = None) -> float:
    """Megabytes of the stream a decoder reads for one frame of ``video``: its video stream's bytes
    a frame (:attr:`Video.video_bytes`: not its audio); ``megapixels``: of a transcode of it at that
    frame size, which keeps its bytes a pixel (its content is as noisy or as flat at any size)."""
    if not video.frames:
        return 0.0
    per_frame = video.video_bytes / video.frames / 1e6
    if megapixels is None or not video.megapixels:
        return per_frame
    return per_frame * megapixels / video.megapixels


def reference_seconds(run: RunSpec, name: str, pattern: Pattern, guess: Guess) -> float:
    """The reference decode the per-frame cases of ``pattern`` on video ``name`` are checked
    against (:func:`benchmarks.verify.reference_sets`, once per pattern): PyAV decoding from the
    start through the last frame the cases read."""
    video = run.videos[name]
    samples = head(pattern.samples({name: video.frames}), run.frames)
    frames = 1 + max((i for s in samples for i in s.indices), default=0)
    return frames * guess.decoded(video.megapixels, stream_megabytes(video)) * guess.slower.get("pyav", 1.0)


def _gops(run: RunSpec, target: str) -> tuple[tuple[str, float], ...]:
    return tuple((n, run.gops.get(target, v.gop)) for n, v in run.videos.items())


@functools.lru_cache(maxsize=512)
def _tallies(pattern: Pattern, lengths: tuple[tuple[str, int], ...], workers: int | None, frames: int,
             seeks: bool, gops: tuple[tuple[str, float], ...], seek_back: int) -> dict[str, Tally]:
    """Per video, the calls of an epoch over videos of ``lengths`` (``workers`` None: of a
    per-frame round of ``frames`` frames, its calls made once before, as the warm-up round does).

    An epoch's batches are dealt to its workers in turn (the main process at 0), each with a
    source of its own per video. Cached: a budget estimates many plans that share them."""
    by_video = dict(gops)
    out: dict[str, Tally] = {}

    def count(calls: Sequence[Sample], at: dict[str, int]) -> None:
        for call in calls:
            done = decoded_frames([call], by_video, seeks, at, seek_back)
            t = out.setdefault(call.video, Tally())
            t.calls, t.frames = t.calls + 1, t.frames + len(call)
            t.decoded, t.seeks = t.decoded + done.frames, t.seeks + done.seeks

    samples = pattern.samples(dict(lengths))
    if workers is None:
        calls = patterns.calls(pattern, head(samples, frames))
        at: dict[str, int] = {}
        decoded_frames(calls, by_video, seeks, at, seek_back)
        count(calls, at)
        return out
    lanes = max(1, workers)
    batches = [samples[i:i + pattern.batch] for i in range(0, len(samples), pattern.batch)]
    for lane in range(lanes):
        at = {}
        count([call for batch in batches[lane::lanes] for call in patterns.calls(pattern, batch)], at)
        for video in at:
            out[video].opened += 1
    return out


def _round_seconds(run: RunSpec, name: str, pattern: Pattern, guess: Guess, target: str) -> float:
    """One timed round of ``target``'s per-frame case on video ``name``: its calls made once to
    place the sources (the warm-up round), then again."""
    return _round(run, name, pattern, guess, target)[0]


def _round(run: RunSpec, name: str, pattern: Pattern, guess: Guess, target: str) -> tuple[float, int]:
    """(seconds, frames) of one timed round of a per-frame case (:func:`_round_seconds`)."""
    video = run.videos[name]
    tallies = _tallies(pattern, ((name, video.frames),), None, run.frames, _loader(target) in guess.seek_every_frame,
                       ((name, run.gops.get(target, video.gop)),), guess.seek_back)
    return sum(_seconds(run, target, n, t, guess) for n, t in tallies.items()), sum(t.frames for t in tallies.values())


def _loader(target: str) -> str:
    return target.split("@", 1)[0]


def _parallel(workers: int, cores: int) -> int:
    return max(1, min(workers, cores))


class Anchor(NamedTuple):
    """The anchor case a stack times (:mod:`benchmarks.analysis.drift`): its decoder and pattern, on
    ``video`` (named ``name``, none of the run's), at each moment of ``when``."""

    loader: str
    pattern: Pattern
    name: str
    video: Video
    when: tuple[str, ...]
    calibration: Calibration | None = None  # its own, where not the run's


def estimate(run: RunSpec, guess: Guess = Guess(), measured: Mapping[tuple[str, str, str], float] | None = None,
             done: Iterable[str] = (), anchor: Anchor | None = None) -> Estimate:
    """Seconds per phase of ``run``. ``measured``: seconds per frame by (target, pattern, video)
    from the per-frame records (:func:`measured_seconds_per_frame`), used for the epochs where
    known. ``done``: phases already over, counted as 0. ``anchor``: the case the run times at each
    of its moments, counted with the per-frame cases (``("anchor", when)``)."""
    finished = set(done)
    parts: dict[tuple[str, ...], float] = {}
    if "extraction" in run.measures and "extraction" not in finished:
        share = max(1, min(run.cores, len(run.videos)))  # the videos are extracted in parallel
        for store in run.stores:  # decode every frame, then write it at the store's size
            parts[part("extraction", store.label)] = sum(
                guess.extract_video + v.frames * guess.extracted(v.megapixels, stream_megabytes(v),
                                                                 v.megapixels_at(store.store_size), store.format)
                for v in run.videos.values()) / share
    if "per_frame" in run.measures and "per_frame" not in finished:
        targets = [*run.decoders, *run.readers]
        cases_on = {name: sum(name in run.case_videos(t) for t in targets) for name in run.videos}
        for target in targets:
            for name in run.case_videos(target):
                parts[part("open", target, name)] = case_seconds(guess.case_open, run.calibration)  # nothing verified
                for pattern in run.patterns:
                    # The reference the cases of a video and pattern are checked against: one decode,
                    # its share in each of them.
                    reference = reference_seconds(run, name, pattern, guess) / max(1, cases_on[name])
                    parts[part("per_frame", target, name, pattern.name)] = guess.case + reference + case_seconds(
                        _round_seconds(run, name, pattern, guess, target), run.calibration)
        if anchor is not None:
            timed = dataclasses.replace(run, decoders=[anchor.loader], videos={anchor.name: anchor.video},
                                        frames=min(run.frames, anchor.video.frames or run.frames))
            seconds = guess.case + case_seconds(
                _round_seconds(timed, anchor.name, anchor.pattern, guess, anchor.loader),
                anchor.calibration or run.calibration)
            for i, when in enumerate(anchor.when):  # the first checks the anchor against its reference decode
                parts[part("anchor", when)] = seconds + (
                    reference_seconds(timed, anchor.name, anchor.pattern, guess) if i == 0 else 0.0)
    if "epoch" in run.measures:
        probed: set[tuple[int, int]] = set()  # the batch shapes whose hand-off is timed already
        on_cpu = [t for t in [*run.decoders, *run.readers] if run.caches.get(t, 1) and not _on_gpu(t)]
        for pattern in run.patterns:
            for w in run.workers:
                for target in [*run.decoders, *run.readers]:
                    one = _epoch_seconds(run, pattern, target, w, guess, measured)
                    # the epochs a short one is taken again for count by its timed seconds alone
                    parts[part("epoch", target, pattern.name, w)] = run.epoch_count(one) * (one + guess.epoch_between)
                shape = (sample_frames(pattern), w)
                # the first epoch of the shape times it, where batches end in host memory: its group's
                if w and on_cpu and run.device == "cpu" and shape not in probed:
                    probed.add(shape)
                    probe = handoff_seconds(shape[0], run.batch_size, w, guess)
                    for t in on_cpu:  # one page-cache state's part: each state's cell holds its share
                        parts[part("epoch", t, pattern.name, w)] += probe / len(on_cpu) / max(1, run.caches.get(t, 1))
    def phase(*names: str) -> float:  # an epoch part is one page-cache state's: times the states
        return sum(v * (run.caches.get(k[1], 1) if k[0] == "epoch" else 1) for k, v in parts.items() if k[0] in names)

    return Estimate(phase("extraction"), phase("open", "per_frame", "anchor"), phase("epoch"), parts=parts)


def sample_frames(pattern: Pattern) -> int:
    """Frames of one sample of ``pattern``'s epochs: a clip's, k for uniform-k, else one."""
    return {"sequential": pattern.clip_len, "random-clip": pattern.clip_len, "uniform-k": pattern.k}.get(
        pattern.base, 1)


def handoff_seconds(frames: int, batch_size: int, workers: int, guess: Guess) -> float:
    """What timing the hand-off of one shape of batch takes (:func:`benchmarks.runner.handoff`):
    its epochs of two lengths at ``workers`` and at 0, batches of ``batch_size`` samples of
    ``frames`` frames."""
    from benchmarks.runner import HANDOFF_BATCHES, HANDOFF_EPOCHS

    return sum(HANDOFF_EPOCHS * ((guess.epoch_start if w else 0.0) + guess.epoch_between
                                 + n * (guess.handoff_batch + batch_size * frames * guess.handoff_frame))
               for w in (workers, 0) for n in HANDOFF_BATCHES)


def _on_gpu(target: str) -> bool:
    """Whether ``target``'s loader decodes on a GPU, in the main process (no workers to hand off)."""
    spec = loaders.REGISTRY.get(_loader(target))
    return spec is not None and spec.gpu


def _epoch_seconds(run: RunSpec, pattern: Pattern, target: str, workers: int, guess: Guess,
                   measured: Mapping[tuple[str, str, str], float] | None) -> float:
    """One epoch of ``target`` over the run's videos (:func:`_tallies`): its seconds, spread over
    the cores, the sources' opening, and the epoch's start.

    Where the per-frame phase timed the target on the pattern and video, the guess is taken as far
    off as it was on that case: the epoch's calls as a per-frame case would cost them (what a
    decoder decodes on the way to each, counted over the epoch), times the case's measured round
    over its guessed one; then each frame resized, which no per-frame case does. A decoder's case
    ran its threads on every core, which an epoch's workers share rather than add to, so its
    seconds are not spread again. Over eight runs of ``plan_accuracy`` the decoders' epochs so
    estimated came to 1.00-1.32 of their measured total; their seconds a frame times the frames,
    spread, to 0.73-1.43 (a 10 s keyframe interval's random frames cost a case more a frame than
    an epoch, whose next frame is often ahead in the same interval)."""
    lengths = tuple(run.epoch_videos().items())
    tallies = _tallies(pattern, lengths, workers, 0, _loader(target) in guess.seek_every_frame, _gops(run, target),
                       guess.seek_back)
    spread = whole = 0.0
    for video, tally in tallies.items():
        spf = (measured or {}).get((target, pattern.name, video))
        if spf is None:
            spread += _seconds(run, target, video, tally, guess, epoch=True)
        else:
            guessed, frames = _round(run, video, pattern, guess, target)
            work = (_seconds(run, target, video, tally, guess) * spf * frames / guessed if guessed > 0
                    else spf * tally.frames)
            whole += work * (target in run.decoders)
            spread += work * (target not in run.decoders) + _resized(run, target, video, tally, guess)
        spread += tally.opened * guess.open
    return whole + spread / _parallel(workers, run.cores) + (guess.epoch_start if workers else 0.0)  # starting workers


def measured_seconds_per_frame(recs: Iterable[Record]) -> dict[tuple[str, str, str], float]:
    """Median seconds per frame of every per-frame record that measured: (target key, pattern,
    video name) -> seconds. The target key is ``loader`` or ``loader@store label``, the store's
    size and keyframe interval included, as :attr:`benchmarks.spec.Target.key` names it."""
    out: dict[tuple[str, str, str], float] = {}
    for r in recs:
        seconds = valid_seconds(r) if r.measure == "per_frame" and r.status == "ok" else []
        if not seconds or not r.frames or r.loader is None or r.pattern is None:
            continue
        key = Target(r.loader, r.kind or "", r.store).key
        out[key, r.pattern, r.profile] = statistics.median(seconds) / r.frames
    return out


def keep_order(videos: Mapping[str, Video], seed: int = 0) -> list[str]:
    """The videos in the order a budget keeps them: a seeded shuffle dealt in turn over the kinds
    of video (frame size and codec), so the first ``n`` cover as many kinds as ``n`` allows."""
    names = sorted(videos)
    random.Random(seed).shuffle(names)
    kinds: dict[tuple[int, int, str], list[str]] = {}
    for name in names:
        v = videos[name]
        kinds.setdefault((v.width, v.height, v.codec), []).append(name)
    deepest = max((len(k) for k in kinds.values()), default=0)
    return [k[i] for i in range(deepest) for k in kinds.values() if i < len(k)]


def fit(run: RunSpec, budget: float, guess: Guess = Guess(), seed: int = 0,
        keep: Iterable[str] = (), cache: str = "warm") -> tuple[RunSpec, list[str]]:
    """The run cut down until its estimate fits ``budget`` seconds (its ``cuts`` say what went), and
    what was dropped, in words.

    ``keep``: what the user set and the budget must not change: "epochs", "workers", "cache",
    "frames", "min_rounds", "videos" (which videos, and their length: another stack of the run
    chose them), "frames_per_video" (the frames each epoch reads of a video: likewise).
    ``cache``: the page-cache state kept when epochs timed cold and warm must go to one (the one
    the dataset's plan uses: cold when it is larger than the memory)."""
    dropped: list[str] = []
    fixed = set(keep)

    def over(p: RunSpec) -> bool:
        return estimate(p, guess).total > budget

    if over(run) and run.epochs > 1 and "epoch" in run.measures and "epochs" not in fixed:
        dropped.append(f"epochs per cell {run.epochs} -> 1")
        run = dataclasses.replace(run, epochs=1, epoch_min_time=0.0)
    if over(run) and len(run.workers) > 1 and "epoch" in run.measures and "workers" not in fixed:
        dropped.append(f"workers settings {','.join(map(str, run.workers))} -> {run.workers[-1]}")
        run = dataclasses.replace(run, workers=[run.workers[-1]])
    twice = [t for t, n in run.caches.items() if n > 1]
    if over(run) and twice and "epoch" in run.measures and "cache" not in fixed:
        dropped.append(f"epochs in one page-cache state, {cache} (cold and warm for {len(twice)} targets)")
        run = dataclasses.replace(run, caches={t: min(n, 1) for t, n in run.caches.items()})
    longest = max((v.frames for v in run.videos.values()), default=0)
    clips = {n: max(MIN_CLIP_FRAMES, math.ceil(2 * v.gop)) for n, v in run.videos.items()}
    clips = {n: c for n, c in clips.items() if c < run.videos[n].frames}
    if over(run) and clips and "videos" not in fixed:
        videos = {n: v.first(clips[n]) if n in clips else v for n, v in run.videos.items()}
        run = dataclasses.replace(run, videos=videos, clips=clips)
        low, high = min(clips.values()), max(clips.values())
        dropped.append(f"{len(clips)} of {len(videos)} videos cut to their first {low}"
                       f"{'' if low == high else f'-{high}'} frames (of up to {longest}; a stream copy over two "
                       "keyframe intervals at least, where a random access costs what it does in the whole video)")
        longest = max(v.frames for v in videos.values())
    cap = min(run.frames_per_video or longest, longest)
    start = cap
    while over(run) and cap > MIN_FRAMES_PER_VIDEO and "epoch" in run.measures and "frames_per_video" not in fixed:
        cap = max(MIN_FRAMES_PER_VIDEO, cap // 2)
        run = dataclasses.replace(run, frames_per_video=cap)
    if cap < start:
        gop = max((v.gop for v in run.videos.values() if v.frames > cap), default=0)
        short = (f": fewer than a keyframe interval ({gop:.0f} frames), so random access in them costs less than "
                 "in the whole videos") if gop > cap else ""
        dropped.append(f"epochs read the first {cap} frames of each video (of up to {longest}){short}")
    frames = run.frames
    while over(run) and run.frames > MIN_CASE_FRAMES and "per_frame" in run.measures and "frames" not in fixed:
        run = dataclasses.replace(run, frames=max(MIN_CASE_FRAMES, run.frames // 2))
    if run.frames < frames:
        dropped.append(f"frames per per-frame case {frames} -> {run.frames}")
    rounds = run.calibration.min_rounds
    if over(run) and rounds > MIN_ROUNDS and "per_frame" in run.measures and "min_rounds" not in fixed:
        run = dataclasses.replace(run, calibration=dataclasses.replace(run.calibration, min_rounds=MIN_ROUNDS))
        dropped.append(f"rounds per per-frame case at least {rounds} -> {MIN_ROUNDS}")
    names = keep_order(run.videos, seed)
    if over(run) and len(names) > 1 and "videos" not in fixed:
        def first(n: int) -> RunSpec:
            chosen = set(names[:n])
            return dataclasses.replace(run, videos={k: v for k, v in run.videos.items() if k in chosen},
                                       clips={k: c for k, c in run.clips.items() if k in chosen})

        low, high = 1, len(names) - 1  # the most videos that fit, if any do
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if not over(first(mid)) else (low, mid - 1)
        run = first(low)
        left = sorted(set(names) - set(run.videos))
        dropped.append(f"videos {len(names)} -> {low} (a seeded sample, every kind of video kept while it can: "
                       f"kept {', '.join(sorted(run.videos))}; dropped {', '.join(left)})")
    if over(run):
        least = duration(estimate(run, guess).total, whole=True)
        dropped.append(f"still about {least}: the least this run can measure "
                       f"(fewer loaders, patterns or formats would cut it further)")
    return dataclasses.replace(run, cuts=tuple(dropped)), dropped
