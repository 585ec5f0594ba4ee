"""What a run will do and roughly how long it takes, and what a time budget drops.

Pure functions over a :class:`Plan` (no measuring here), so the arithmetic is tested on known
cases. Before anything is measured the cost of a frame is a guess (:class:`Guess`, fitted to the
records of past runs on a quiet 2-core machine by :mod:`benchmarks.estimate_fit`): a decoder pays
for every frame it decodes on the way to those asked, counted from where each of its sources
stands (:func:`decoded_frames`), a reader for each frame it reads, by format and pixels. A
calibrated case then costs its warm-up round plus the larger of ``min_time`` and ``min_rounds``
rounds, and an epoch its calls, dealt to its workers, spread over the cores. Once the per-frame
phase has timed every loader on every pattern, :func:`measured_seconds_per_frame` replaces the
guess for the epochs (:func:`estimate`'s ``measured``), and the run prints the refined ETA before them.

A budget (``--budget 10m``) is met by dropping, in this order, until the estimate fits: extra
epochs (to 1), extra workers settings (to one), the second page-cache state (cold and warm
epochs to the one the plan uses), long videos (cut to their first frames, two keyframe intervals
and :data:`MIN_CLIP_FRAMES` at least), frames per video in the epochs (halving, to
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

from benchmarks import patterns
from benchmarks.patterns import Pattern, Sample, head
from benchmarks.perframe import Calibration
from benchmarks.records import Record, valid_seconds
from loaders.resize import scaled_size
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
class Video:
    """What the estimate needs of a video (from its probe)."""

    frames: int
    width: int
    height: int
    gop: float  # mean frames between keyframes: what a random seek decodes, half of it on average
    codec: str = ""  # with the size, the kind of video a budget keeps one of while it can

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def megapixels_at(self, size: int | None) -> float:
        """Megapixels of a frame stored at short side ``size`` (None: as decoded)."""
        if size is None:
            return self.megapixels
        width, height = scaled_size(self.width, self.height, size)
        return width * height / 1e6


@dataclasses.dataclass(frozen=True)
class Store:
    """What the estimate needs of a store extracted over every video: its format and short side."""

    format: str  # noqa: A003 - the records' word
    size: int | None = None

    def __str__(self) -> str:
        return self.format if self.size is None else f"{self.format} at {self.size}"


@dataclasses.dataclass(frozen=True)
class Guess:
    """Seconds before anything is measured. Per megapixel of a frame: a decoder decoding one frame
    (every frame from the keyframe up to the one asked is decoded, see :func:`decoded_frames`) and
    returning one (colour conversion and copy), a reader reading one stored frame, by format, an
    epoch resizing one, extracting one frame to one format. Per call and per frame whatever its
    size. Fitted to the per-frame and epoch records of default runs and of a ``--quick`` run on a
    1080p clip with one keyframe, on a quiet 2-core machine (``benchmarks/estimate_fit.py``)."""

    decode: float = 0.0018
    output: float = 0.0011
    read: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"jpeg": 0.0031, "png": 0.028, "npy": 0.0001, "tar": 0.0042})
    resize: float = 0.0039  # an epoch's frames are resized to its --size
    call: float = 0.00001  # a get_frames call
    frame: float = 0.00001  # a frame returned, converted and copied whatever its size
    decode_frame: float = 0.00026  # a frame decoded whatever its size
    seek: float = 0.0012  # a seek: flushing the decoder, finding the keyframe
    # Each decoder's own factor on the decode and output costs (1 if unknown); and one more on a
    # decoder's work in an epoch, where each DataLoader worker decodes on one thread.
    slower: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "pyav": 1.0, "cv2-grab": 0.9, "cv2-seek": 0.84, "decord": 1.44, "torchcodec": 0.91,
        "torchvision-read_video": 2.57, "torchvision-videoreader": 2.01})
    epoch_decode: float = 1.72
    # Writing one frame, by format, per megapixel written (decoding the source is ``decode`` and
    # ``output``): a PNG store of 1080p clips took ten times a JPEG one here; mp4 is the H.264 transcode.
    extract: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"jpeg": 0.035, "png": 0.4, "npy": 0.025, "tar": 0.035, "mp4": 0.03})
    open: float = 0.011  # seconds to open a source in an epoch
    case_open: float = 0.05  # seconds to open a source in an open case (the probe demuxes the whole file)
    # Seconds every per-frame case costs beside its rounds (opening, verifying against the
    # reference decode), and every epoch beside its frames (starting DataLoader workers).
    case: float = 0.3
    epoch_start: float = 0.12
    # Decoders that seek before every frame (the per-frame-seek worst case), and how many frames
    # before the target their seek aims (OpenCV's CAP_PROP_POS_FRAMES: 16), to decode forward from
    # the keyframe at or before that.
    seek_every_frame: frozenset[str] = frozenset({"cv2-seek"})
    seek_back: int = 16
    free: frozenset[str] = frozenset({BASELINE})  # loaders that read nothing (the overhead baseline)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a run will measure: targets by key (``loader`` or ``loader@store``), their kind.

    A decoder on a transcoded store, and a reader, read frames at the store's short side
    (``sizes``); a transcoded store has its own keyframe interval (``gops``); a target's epochs run
    once per page-cache state (``caches``: cold and warm, 2). A target missing from these
    mappings reads the videos as they are, once."""

    videos: Mapping[str, Video]  # name in the run -> video
    patterns: Sequence[Pattern]
    decoders: Sequence[str]
    readers: Sequence[str]
    stores: Sequence[Store]  # every store extracted, each over every video
    frames: int  # frames per per-frame case
    calibration: Calibration
    epochs: int
    workers: Sequence[int]
    cores: int
    measures: frozenset[str] = frozenset({"extraction", "per_frame", "epoch"})
    frames_per_video: int | None = None  # epochs read the first this many frames of a video; None: all
    sizes: Mapping[str, int | None] = dataclasses.field(default_factory=dict)  # target -> store short side
    gops: Mapping[str, int] = dataclasses.field(default_factory=dict)  # transcoded target -> keyframe interval
    formats: Mapping[str, str] = dataclasses.field(default_factory=dict)  # reader -> the format of its store
    caches: Mapping[str, int] = dataclasses.field(default_factory=dict)  # target -> page-cache states (0: no epochs)
    first_video_only: frozenset[str] = frozenset()  # targets whose per-frame cases run on the first video only
    clips: Mapping[str, int] = dataclasses.field(default_factory=dict)  # video -> its first frames measured

    def epoch_videos(self) -> dict[str, int]:
        cap = self.frames_per_video
        return {n: v.frames if cap is None else min(v.frames, cap) for n, v in self.videos.items()}

    def case_videos(self, target: str) -> list[str]:
        """The videos ``target``'s per-frame cases run on."""
        names = list(self.videos)
        return names[:1] if target in self.first_video_only else names

    def lines(self) -> list[str]:
        """What the run will do, for a person, before it starts."""
        frames = sum(v.frames for v in self.videos.values())
        sizes = sorted({f"{v.width}x{v.height}" for v in self.videos.values()})
        cap = "" if self.frames_per_video is None else f", epochs read the first {self.frames_per_video} of each"
        cut = f", {len(self.clips)} cut to their first frames" if self.clips else ""
        out = [f"videos: {len(self.videos)} ({frames} frames{cut}; {', '.join(sizes)}){cap}",
               f"loaders: {len(self.decoders)} decoders, {len(self.readers)} frame readers (loader x store)",
               f"patterns: {', '.join(p.name for p in self.patterns)}"]
        if "extraction" in self.measures:
            out.append(f"extraction: {len(self.stores)} stores ({', '.join(map(str, self.stores))}) "
                       f"x {len(self.videos)} videos")
        if "per_frame" in self.measures:
            cases = (1 + len(self.patterns)) * sum(len(self.case_videos(t)) for t in [*self.decoders, *self.readers])
            c = self.calibration
            out.append(f"per-frame: {cases} calibrated cases ({self.frames} frames, {c.warmup} warm-up + "
                       f"at least {c.min_time:g} s and {c.min_rounds} rounds each)")
        if "epoch" in self.measures:
            per_pattern = sum(self.caches.get(t, 1) for t in [*self.decoders, *self.readers])
            cells = len(self.patterns) * len(self.workers) * per_pattern
            cold = sum(self.caches.get(t, 1) > 1 for t in [*self.decoders, *self.readers])
            also = f"; {cold} targets cold and warm" if cold else ""
            workers = ",".join(map(str, self.workers))
            out.append(f"epochs: {cells} cells x {self.epochs} epochs (workers {workers}{also})")
        return out


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Seconds per phase."""

    extraction: float
    per_frame: float  # open and per-frame cases
    epochs: float

    @property
    def total(self) -> float:
        return self.extraction + self.per_frame + self.epochs

    def line(self) -> str:
        return (f"about {duration(self.total, whole=True)} (extraction {duration(self.extraction, whole=True)}, "
                f"per-frame {duration(self.per_frame, whole=True)}, epochs {duration(self.epochs, whole=True)}; "
                "a rough guess until measured)")


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


def _seconds(plan: Plan, target: str, video: str, tally: Tally, guess: Guess, epoch: bool = False) -> float:
    """Seconds of ``tally``'s calls by ``target`` on ``video`` (a reader decodes nothing); in an
    epoch each frame is also resized."""
    loader = _loader(target)
    if loader in guess.free:
        return 0.0
    megapixels = plan.videos[video].megapixels_at(plan.sizes.get(target))
    fixed = tally.calls * guess.call + tally.frames * (guess.frame + megapixels * guess.resize * epoch)
    if target in plan.decoders:
        work = (tally.frames * guess.output + tally.decoded * guess.decode) * megapixels \
            + tally.decoded * guess.decode_frame + tally.seeks * guess.seek
        return fixed + work * guess.slower.get(loader, 1.0) * (guess.epoch_decode if epoch else 1.0)
    read = guess.read.get(plan.formats.get(target, "jpeg"), max(guess.read.values()))
    return fixed + tally.frames * megapixels * read


def _gops(plan: Plan, target: str) -> tuple[tuple[str, float], ...]:
    return tuple((n, plan.gops.get(target, v.gop)) for n, v in plan.videos.items())


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


def _round_seconds(plan: Plan, name: str, pattern: Pattern, guess: Guess, target: str) -> float:
    """One timed round of ``target``'s per-frame case on video ``name``: its calls made once to
    place the sources (the warm-up round), then again."""
    video = plan.videos[name]
    tallies = _tallies(pattern, ((name, video.frames),), None, plan.frames, _loader(target) in guess.seek_every_frame,
                       ((name, plan.gops.get(target, video.gop)),), guess.seek_back)
    return sum(_seconds(plan, target, n, t, guess) for n, t in tallies.items())


def _loader(target: str) -> str:
    return target.split("@", 1)[0]


def _parallel(workers: int, cores: int) -> int:
    return max(1, min(workers, cores))


def estimate(plan: Plan, guess: Guess = Guess(), measured: Mapping[tuple[str, str, str], float] | None = None,
             done: Iterable[str] = ()) -> Estimate:
    """Seconds per phase of ``plan``. ``measured``: seconds per frame by (target, pattern, video)
    from the per-frame records (:func:`measured_seconds_per_frame`), used for the epochs where
    known. ``done``: phases already over, counted as 0."""
    finished = set(done)
    extraction = per_frame = epochs = 0.0
    if "extraction" in plan.measures and "extraction" not in finished:
        for store in plan.stores:  # decode every frame, then write it at the store's size
            write = guess.extract.get(store.format, max(guess.extract.values()))
            extraction += sum(v.frames * v.megapixels * (guess.decode + guess.output)
                              + v.frames * v.megapixels_at(store.size) * write for v in plan.videos.values())
        extraction /= max(1, min(plan.cores, len(plan.videos)))
    if "per_frame" in plan.measures and "per_frame" not in finished:
        for target in [*plan.decoders, *plan.readers]:
            for name in plan.case_videos(target):
                per_frame += (1 + len(plan.patterns)) * guess.case + case_seconds(guess.case_open, plan.calibration)
                for pattern in plan.patterns:
                    per_frame += case_seconds(_round_seconds(plan, name, pattern, guess, target), plan.calibration)
    if "epoch" in plan.measures:
        for pattern in plan.patterns:
            for target in [*plan.decoders, *plan.readers]:
                cells = plan.caches.get(target, 1)
                epochs += cells * plan.epochs * sum(_epoch_seconds(plan, pattern, target, w, guess, measured)
                                                    for w in plan.workers)
    return Estimate(extraction, per_frame, epochs)


def _epoch_seconds(plan: Plan, pattern: Pattern, target: str, workers: int, guess: Guess,
                   measured: Mapping[tuple[str, str, str], float] | None) -> float:
    """One epoch of ``target`` over the plan's videos (:func:`_tallies`): its seconds (measured per
    frame where known), spread over the cores, the sources' opening, and the epoch's start."""
    lengths = tuple(plan.epoch_videos().items())
    tallies = _tallies(pattern, lengths, workers, 0, _loader(target) in guess.seek_every_frame, _gops(plan, target),
                       guess.seek_back)
    busy = 0.0
    for video, tally in tallies.items():
        spf = (measured or {}).get((target, pattern.name, video))
        busy += spf * tally.frames if spf is not None else _seconds(plan, target, video, tally, guess, epoch=True)
        busy += tally.opened * guess.open
    return busy / _parallel(workers, plan.cores) + guess.epoch_start


def measured_seconds_per_frame(recs: Iterable[Record]) -> dict[tuple[str, str, str], float]:
    """Median seconds per frame of every per-frame record that measured: (target key, pattern,
    video name) -> seconds. The target key is ``loader`` or ``loader@store label``, the store's
    size and keyframe interval included, as :attr:`benchmarks.perframe.Target.key` names it."""
    from loaders.vocabulary import store_label

    out: dict[tuple[str, str, str], float] = {}
    for r in recs:
        seconds = valid_seconds(r) if r.measure == "per_frame" and r.status == "ok" else []
        if not seconds or not r.frames or r.loader is None or r.pattern is None:
            continue
        gop = r.options.get("gop") if isinstance(r.options, dict) else None
        label = store_label(r.extractor or "", r.format or "", r.quality, r.store_size,
                            gop if isinstance(gop, int) else None)
        key = r.loader if r.format is None else f"{r.loader}@{label}"
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


def fit(plan: Plan, budget: float, guess: Guess = Guess(), seed: int = 0,
        keep: Iterable[str] = (), cache: str = "warm") -> tuple[Plan, list[str]]:
    """The plan cut down until its estimate fits ``budget`` seconds, and what was dropped, in words.

    ``keep``: what the user set and the budget must not change: "epochs", "workers", "cache",
    "frames", "min_rounds", "videos" (which videos, and their length: another stack of the run
    chose them); the frames per video of the epochs may always go.
    ``cache``: the page-cache state kept when epochs timed cold and warm must go to one (the one
    the dataset's plan uses: cold when it is larger than the memory)."""
    dropped: list[str] = []
    fixed = set(keep)

    def over(p: Plan) -> bool:
        return estimate(p, guess).total > budget

    if over(plan) and plan.epochs > 1 and "epoch" in plan.measures and "epochs" not in fixed:
        dropped.append(f"epochs per cell {plan.epochs} -> 1")
        plan = dataclasses.replace(plan, epochs=1)
    if over(plan) and len(plan.workers) > 1 and "epoch" in plan.measures and "workers" not in fixed:
        dropped.append(f"workers settings {','.join(map(str, plan.workers))} -> {plan.workers[-1]}")
        plan = dataclasses.replace(plan, workers=[plan.workers[-1]])
    twice = [t for t, n in plan.caches.items() if n > 1]
    if over(plan) and twice and "epoch" in plan.measures and "cache" not in fixed:
        dropped.append(f"epochs in one page-cache state, {cache} (cold and warm for {len(twice)} targets)")
        plan = dataclasses.replace(plan, caches={t: min(n, 1) for t, n in plan.caches.items()})
    longest = max((v.frames for v in plan.videos.values()), default=0)
    clips = {n: max(MIN_CLIP_FRAMES, math.ceil(2 * v.gop)) for n, v in plan.videos.items()}
    clips = {n: c for n, c in clips.items() if c < plan.videos[n].frames}
    if over(plan) and clips and "videos" not in fixed:
        videos = {n: dataclasses.replace(v, frames=clips.get(n, v.frames)) for n, v in plan.videos.items()}
        plan = dataclasses.replace(plan, videos=videos, clips=clips)
        low, high = min(clips.values()), max(clips.values())
        dropped.append(f"{len(clips)} of {len(videos)} videos cut to their first {low}"
                       f"{'' if low == high else f'-{high}'} frames (of up to {longest}; a stream copy over two "
                       "keyframe intervals at least, where a random access costs what it does in the whole video)")
        longest = max(v.frames for v in videos.values())
    cap = min(plan.frames_per_video or longest, longest)
    start = cap
    while over(plan) and cap > MIN_FRAMES_PER_VIDEO and "epoch" in plan.measures:
        cap = max(MIN_FRAMES_PER_VIDEO, cap // 2)
        plan = dataclasses.replace(plan, frames_per_video=cap)
    if cap < start:
        gop = max((v.gop for v in plan.videos.values() if v.frames > cap), default=0)
        short = (f": fewer than a keyframe interval ({gop:.0f} frames), so random access in them costs less than "
                 "in the whole videos") if gop > cap else ""
        dropped.append(f"epochs read the first {cap} frames of each video (of up to {longest}){short}")
    frames = plan.frames
    while over(plan) and plan.frames > MIN_CASE_FRAMES and "per_frame" in plan.measures and "frames" not in fixed:
        plan = dataclasses.replace(plan, frames=max(MIN_CASE_FRAMES, plan.frames // 2))
    if plan.frames < frames:
        dropped.append(f"frames per per-frame case {frames} -> {plan.frames}")
    rounds = plan.calibration.min_rounds
    if over(plan) and rounds > MIN_ROUNDS and "per_frame" in plan.measures and "min_rounds" not in fixed:
        plan = dataclasses.replace(plan, calibration=dataclasses.replace(plan.calibration, min_rounds=MIN_ROUNDS))
        dropped.append(f"rounds per per-frame case at least {rounds} -> {MIN_ROUNDS}")
    names = keep_order(plan.videos, seed)
    if over(plan) and len(names) > 1 and "videos" not in fixed:
        def first(n: int) -> Plan:
            chosen = set(names[:n])
            return dataclasses.replace(plan, videos={k: v for k, v in plan.videos.items() if k in chosen},
                                       clips={k: c for k, c in plan.clips.items() if k in chosen})

        low, high = 1, len(names) - 1  # the most videos that fit, if any do
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if not over(first(mid)) else (low, mid - 1)
        plan = first(low)
        left = sorted(set(names) - set(plan.videos))
        dropped.append(f"videos {len(names)} -> {low} (a seeded sample, every kind of video kept while it can: "
                       f"kept {', '.join(sorted(plan.videos))}; dropped {', '.join(left)})")
    if over(plan):
        least = duration(estimate(plan, guess).total, whole=True)
        dropped.append(f"still about {least}: the least this run can measure "
                       f"(fewer loaders, patterns or formats would cut it further)")
    return plan, dropped
