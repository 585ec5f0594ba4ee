"""What a run will do and roughly how long it takes, and what a time budget drops.

Pure functions over a :class:`Plan` (no measuring here), so the arithmetic is tested on known
cases. Before anything is measured the cost of a frame is a guess from its pixels
(:class:`Guess`, fitted to a default run on a quiet 2-core machine); a calibrated case then costs its
warm-up round plus the larger of ``min_time`` and ``min_rounds`` rounds, and an epoch its frames
times the seconds per frame. Once the per-frame phase has timed every loader on every pattern,
:func:`measured_seconds_per_frame` replaces the guess for the epochs (:func:`estimate`'s
``measured``), and the run prints the refined ETA before them.

A budget (``--budget 10m``) is met by dropping, in this order, until the estimate fits: extra
epochs (to 1), extra workers settings (to one), the second page-cache state (cold and warm
epochs to the one the plan uses), frames per video in the epochs (halving, to
:data:`MIN_FRAMES_PER_VIDEO`), frames per per-frame case (halving, to :data:`MIN_CASE_FRAMES`),
rounds per per-frame case (to :data:`MIN_ROUNDS`), videos (a seeded sample, to 1). Each step is
said.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence

from benchmarks.patterns import Pattern, Sample, head
from benchmarks.perframe import Calibration, frames_in
from benchmarks.records import Record, valid_seconds
from loaders.progress import duration
from loaders.resize import scaled_size

MIN_FRAMES_PER_VIDEO = 32  # below this an epoch says little about a real one
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
    if seconds <= 0:
        raise ValueError(f"a duration must be more than 0 seconds: {text!r}")
    return seconds


@dataclasses.dataclass(frozen=True)
class Video:
    """What the estimate needs of a video (from its probe)."""

    frames: int
    width: int
    height: int
    gop: float  # mean frames between keyframes: what a random seek decodes, half of it on average

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
    """Seconds per frame before anything is measured, per megapixel of the frame: a decoder
    decoding forward, a reader reading an extracted frame, extracting one frame to one format."""

    decode: float = 0.003  # a default run's per-frame and epoch phases took half the guess at 0.006
    read: float = 0.004
    # Writing one frame, by format, per megapixel written (decoding the source is ``decode``): a PNG
    # store of 1080p clips took ten times a JPEG one here; mp4 is the H.264 transcode.
    extract: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"jpeg": 0.035, "png": 0.4, "npy": 0.025, "tar": 0.035, "mp4": 0.03})
    open: float = 0.05  # seconds to open a source (the probe demuxes the whole file)
    # Seconds every per-frame case costs beside its rounds (opening, verifying against the
    # reference decode), and every epoch beside its frames (starting DataLoader workers):
    # about what runs on tiny clips took here.
    case: float = 0.3
    epoch_start: float = 0.4
    # Decoders that seek before every frame (the per-frame-seek worst case): half a GOP per frame,
    # even in a clip. On two 1080p clips cv2-seek took half of a --quick run's per-frame phase.
    seek_every_frame: frozenset[str] = frozenset({"cv2-seek"})


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
    caches: Mapping[str, int] = dataclasses.field(default_factory=dict)  # target -> page-cache states (0: no epochs)
    first_video_only: frozenset[str] = frozenset()  # targets whose per-frame cases run on the first video only

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
        out = [f"videos: {len(self.videos)} ({frames} frames; {', '.join(sizes)}){cap}",
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
        return (f"about {duration(self.total)} (extraction {duration(self.extraction)}, per-frame "
                f"{duration(self.per_frame)}, epochs {duration(self.epochs)}; a rough guess until measured)")


def case_seconds(round_seconds: float, calibration: Calibration) -> float:
    """A calibrated case: its warm-up rounds, then rounds until ``min_time`` and ``min_rounds``."""
    rounds = max(calibration.min_rounds, math.ceil(calibration.min_time / round_seconds) if round_seconds > 0 else 0)
    rounds = min(rounds, calibration.max_rounds)
    return (calibration.warmup + rounds) * round_seconds


def decoded_frames(pattern: Pattern, sample: Sample, gop: float, seeks_every_frame: bool = False) -> float:
    """Frames a decoder decodes for ``sample``: its span, after half a GOP on average to reach it by a
    seek (a sequential pattern walks forward and never seeks); or, seeking before every frame, half a
    GOP and the frame for each."""
    if seeks_every_frame:
        return len(sample) * (1 + gop / 2)
    span = max(sample.indices) - min(sample.indices) + 1
    return span if pattern.base == "sequential" else span + gop / 2


def _round_seconds(plan: Plan, name: str, pattern: Pattern, guess: Guess, target: str, decodes: bool) -> float:
    video = plan.videos[name]
    samples = head(pattern.samples({name: video.frames}), plan.frames)
    megapixels = video.megapixels_at(plan.sizes.get(target))
    if decodes:
        seeks = _loader(target) in guess.seek_every_frame
        gop = plan.gops.get(target, video.gop)
        return sum(decoded_frames(pattern, s, gop, seeks) for s in samples) * megapixels * guess.decode
    return frames_in(samples) * megapixels * guess.read


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
            extraction += sum(v.frames * (v.megapixels * guess.decode + v.megapixels_at(store.size) * write)
                              for v in plan.videos.values())
        extraction /= max(1, min(plan.cores, len(plan.videos)))
    if "per_frame" in plan.measures and "per_frame" not in finished:
        for target in [*plan.decoders, *plan.readers]:
            for name in plan.case_videos(target):
                per_frame += (1 + len(plan.patterns)) * guess.case + case_seconds(guess.open, plan.calibration)
                for pattern in plan.patterns:
                    seconds = _round_seconds(plan, name, pattern, guess, target, target in plan.decoders)
                    per_frame += case_seconds(seconds, plan.calibration)
    if "epoch" in plan.measures:
        lengths = plan.epoch_videos()
        for pattern in plan.patterns:
            samples = pattern.samples(lengths)
            for target in [*plan.decoders, *plan.readers]:
                one = sum(_sample_seconds(plan, pattern, s, target, guess, measured) for s in samples)
                cells = plan.caches.get(target, 1)
                epochs += cells * sum((one / _parallel(w, plan.cores) + guess.epoch_start) * plan.epochs
                                      for w in plan.workers)
    return Estimate(extraction, per_frame, epochs)


def _sample_seconds(plan: Plan, pattern: Pattern, sample: Sample, target: str, guess: Guess,
                    measured: Mapping[tuple[str, str, str], float] | None) -> float:
    spf = (measured or {}).get((target, pattern.name, sample.video))
    if spf is not None:
        return spf * len(sample)
    video = plan.videos[sample.video]
    megapixels = video.megapixels_at(plan.sizes.get(target))
    if target in plan.decoders:
        seeks = _loader(target) in guess.seek_every_frame
        return decoded_frames(pattern, sample, plan.gops.get(target, video.gop), seeks) * megapixels * guess.decode
    return len(sample) * megapixels * guess.read


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


def fit(plan: Plan, budget: float, guess: Guess = Guess(), seed: int = 0,
        keep: Iterable[str] = (), cache: str = "warm") -> tuple[Plan, list[str]]:
    """The plan cut down until its estimate fits ``budget`` seconds, and what was dropped, in words.

    ``keep``: what the user set and the budget must not change: "epochs", "workers", "cache",
    "frames", "min_rounds" (videos and the frames per video of the epochs may always go).
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
    cap = min(plan.frames_per_video or longest, longest)
    start = cap
    while over(plan) and cap > MIN_FRAMES_PER_VIDEO and "epoch" in plan.measures:
        cap = max(MIN_FRAMES_PER_VIDEO, cap // 2)
        plan = dataclasses.replace(plan, frames_per_video=cap)
    if cap < start:
        dropped.append(f"epochs read the first {cap} frames of each video (of up to {longest})")
    frames = plan.frames
    while over(plan) and plan.frames > MIN_CASE_FRAMES and "per_frame" in plan.measures and "frames" not in fixed:
        plan = dataclasses.replace(plan, frames=max(MIN_CASE_FRAMES, plan.frames // 2))
    if plan.frames < frames:
        dropped.append(f"frames per per-frame case {frames} -> {plan.frames}")
    rounds = plan.calibration.min_rounds
    if over(plan) and rounds > MIN_ROUNDS and "per_frame" in plan.measures and "min_rounds" not in fixed:
        plan = dataclasses.replace(plan, calibration=dataclasses.replace(plan.calibration, min_rounds=MIN_ROUNDS))
        dropped.append(f"rounds per per-frame case at least {rounds} -> {MIN_ROUNDS}")
    names = sorted(plan.videos)
    count = len(names)
    while over(plan) and count > 1:
        count = max(1, count // 2)
        chosen = sorted(random.Random(seed).sample(names, count))
        plan = dataclasses.replace(plan, videos={n: plan.videos[n] for n in chosen})
    if count < len(names):
        dropped.append(f"videos {len(names)} -> {count} (a seeded sample: {', '.join(sorted(plan.videos))})")
    if over(plan):
        dropped.append(f"still about {duration(estimate(plan, guess).total)}: the least this run can measure "
                       f"(fewer loaders, patterns or formats would cut it further)")
    return plan, dropped
