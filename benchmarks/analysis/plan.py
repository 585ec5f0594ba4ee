"""A plan for the whole dataset: every strategy's time and disk, projected from the measured sample.

Pure functions over a run's records and its dataset summary (:mod:`benchmarks.dataset`), so a
plan can be tested without measuring, and a report can be made without probing again.

Strategies: decode the original videos with a decoder; extract to a store (format x store
size), then read it with a frame reader; transcode to a short-GOP H.264 copy, then decode that.
For each, per access pattern, at its fastest DataLoader workers setting:

- epoch seconds: the measured epoch's seconds times the dataset's share of work against the
  sample's (and the sample's frames over those the epoch read, where it read only the first frames
  of each video), where work is, per video class (resolution and codec), the class's frames (videos,
  for uniform-k, which reads k frames of each) times the loader's seconds per frame on that class
  in the per-frame benchmark. A class with no per-frame figure (or a loader with none) counts its
  pixels at the loader's seconds per pixel instead. The low-high range is the epoch's quartiles
  over its timed epochs, scaled with the dataset's classes at the seconds per frame of their
  fastest and slowest sampled video.
- extraction seconds: the sample's extraction, scaled by source pixels; disk bytes: the store's
  bytes scaled by the pixels it holds (at its store size).
- cache: cold epochs where the data read each epoch (the store, or the source videos) is larger
  than the memory available for the page cache, warm otherwise; a run without the one needed
  falls back to the other and says so.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from benchmarks.analysis.crossover import crossover_epochs, quartiles
from benchmarks.dataset import ClassSummary, Dataset
from benchmarks.records import Record, valid_seconds
from loaders.vocabulary import BASELINE, DECODE, FRAMES, store_label

DEFAULT_EPOCHS = 10
MAX_BYTES = 2**63 - 1  # the most a size may say (8 EiB): more is no disk, and overflows later arithmetic
CACHE_WORDS = {"not controlled": "page cache not controlled"}
COLUMNS = [
    "strategy", "decode_loader", "frame_loader", "store_format", "store_size", "quality", "dataset_videos",
    "dataset_frames", "extraction_seconds", "epoch_seconds", "epoch_seconds_low", "epoch_seconds_high",
    "total_seconds", "disk_bytes", "fits_disk", "fits_ram", "cache",
]


@dataclasses.dataclass(frozen=True)
class Store:
    """What a strategy writes once: None for decoding the originals."""

    extractor: str
    format: str  # noqa: A003 - the records' word
    quality: int | None
    size: int | None
    gop: int | None = None  # transcoded stores only
    crf: int | None = None

    @property
    def label(self) -> str:
        extra = "".join(f" {k} {v}" for k, v in (("gop", self.gop), ("crf", self.crf)) if v is not None)
        return store_label(self.extractor, self.format, self.quality, self.size) + (f" ({extra.strip()})"
                                                                                   if extra else "")


def store_of(record: Record) -> Store | None:
    """The store a record read or wrote; None for a decode of the original videos."""
    if record.format is None:
        return None
    options = record.options if isinstance(record.options, dict) else {}
    return Store(record.extractor or "", record.format, record.quality, record.store_size,
                 options.get("gop"), options.get("crf"))


@dataclasses.dataclass
class Strategy:
    """One strategy for one access pattern, projected to the whole dataset."""

    pattern: str
    workers: int | None
    decode_loader: str | None
    frame_loader: str | None
    store: Store | None
    dataset_videos: int | None
    dataset_frames: int | None
    extraction_seconds: float  # 0 for decoding the originals
    epoch_seconds: float
    epoch_seconds_low: float
    epoch_seconds_high: float
    epochs: int  # E: the epochs the total is for
    disk_bytes: int  # written once by the strategy; 0 for decoding the originals
    read_bytes: int  # read every epoch: the store, or the source videos
    fits_disk: bool
    fits_ram: bool  # what an epoch reads fits in the memory available for the page cache
    cache: str  # "cold", "warm", "warm (no cold timing)", "cold (no warm timing)" or "not controlled"
    epoch_from: str  # where the epoch figure comes from, in words

    @property
    def total_seconds(self) -> float:
        return self.extraction_seconds + self.epochs * self.epoch_seconds

    @property
    def kind(self) -> str:
        """"decode", "extract" or "transcode"."""
        if self.store is None:
            return "decode"
        return "transcode" if self.decode_loader else "extract"

    @property
    def name(self) -> str:
        if self.store is None:
            return f"decode the videos with {self.decode_loader}"
        if self.decode_loader:
            return f"transcode to {self.store.label}, decode with {self.decode_loader}"
        return f"extract to {self.store.label}, read with {self.frame_loader}"

    def cumulative(self, epochs: int | None = None) -> list[float]:
        """Total seconds after 1..epochs epochs."""
        return [self.extraction_seconds + k * self.epoch_seconds for k in range(1, (epochs or self.epochs) + 1)]

    def row(self) -> dict[str, Any]:
        """The strategy's row of ``plan.csv``."""
        store = self.store
        return {
            "strategy": f"{self.pattern}: {self.name}" + ("" if self.workers is None else f", {self.workers} workers"),
            "decode_loader": self.decode_loader, "frame_loader": self.frame_loader,
            "store_format": store.format if store else None, "store_size": store.size if store else None,
            "quality": store.quality if store else None, "dataset_videos": self.dataset_videos,
            "dataset_frames": self.dataset_frames, "extraction_seconds": self.extraction_seconds,
            "epoch_seconds": self.epoch_seconds, "epoch_seconds_low": self.epoch_seconds_low,
            "epoch_seconds_high": self.epoch_seconds_high, "total_seconds": self.total_seconds,
            "disk_bytes": self.disk_bytes, "fits_disk": self.fits_disk, "fits_ram": self.fits_ram,
            "cache": self.cache,
        }


def _uses_videos(pattern: str) -> bool:
    """Whether a pattern's epoch reads a fixed number of frames per video (uniform-k) rather than
    a number proportional to the video's frames."""
    return pattern.startswith("uniform")


class _Scale:
    """The dataset's work against the sample's, for one loader (and store) and pattern."""

    def __init__(self, dataset: Dataset | None) -> None:
        self.dataset = dataset
        self.whole = dataset.classes if dataset else {}
        self.sample = dataset.measured_classes() if dataset else {}

    def ratio(self, per_class: dict[str, float], pattern: str, size: int | None,
              whole: dict[str, float] | None = None) -> float:
        """sum over the dataset's classes of weight x seconds per frame, over the same for the
        sample; ``whole``: other seconds per frame for the dataset's classes (an end of their range)."""
        if not self.whole or not self.sample:
            return 1.0
        by_videos = _uses_videos(pattern)

        def weight(c: ClassSummary) -> float:
            return float(c.videos if by_videos else c.frames)

        known = {c: s for c, s in per_class.items() if c in self.sample}
        # Seconds per pixel over the sample, for the classes with no per-frame figure of their own.
        if known:
            per_pixel = (sum(weight(self.sample[c]) * s for c, s in known.items())
                         / sum(self.sample[c].pixels(size) / self.sample[c].frames * weight(self.sample[c])
                               for c in known))
        else:
            per_pixel = 1.0

        def work(classes: dict[str, ClassSummary], figures: dict[str, float]) -> float:
            total = 0.0
            for name, c in classes.items():
                if not c.frames:
                    continue
                s = figures.get(name, per_pixel * c.pixels(size) / c.frames)
                total += weight(c) * s
            return total

        sample_work = work(self.sample, known)
        ends = known if whole is None else {c: s for c, s in whole.items() if c in known}
        return work(self.whole, ends) / sample_work if sample_work > 0 else 1.0

    def pixels(self, size: int | None) -> float:
        """The dataset's pixels (at store size) over the sample's."""
        if not self.whole or not self.sample:
            return 1.0
        sample = sum(c.pixels(size) for c in self.sample.values())
        return sum(c.pixels(size) for c in self.whole.values()) / sample if sample else 1.0


def _per_frame_by_class(records: Sequence[Record], dataset: Dataset | None,
                        over: Any = statistics.median) -> dict[tuple[Any, ...], dict[str, float]]:
    """(loader, store, pattern) -> video class -> seconds per frame over the class's videos: their
    median (``over``: or their least or most, the ends of the range)."""
    if dataset is None:
        return {}
    values: dict[tuple[Any, ...], dict[str, list[float]]] = {}
    for r in records:
        video = dataset.measured.get(r.profile)
        if r.measure != "per_frame" or r.status != "ok" or video is None or not r.fps_median:
            continue
        key = (r.loader, store_of(r), r.pattern)
        values.setdefault(key, {}).setdefault(video.video_class, []).append(1 / r.fps_median)
    return {k: {c: over(v) for c, v in by_class.items()} for k, by_class in values.items()}


def _extraction(store: Store, extractions: Sequence[Record]) -> Record | None:
    same = [e for e in extractions if store_of(e) == store]
    if not same:  # an extraction record need not carry gop/crf in its options: match the store's name
        same = [e for e in extractions if (s := store_of(e)) is not None
                and (s.extractor, s.format, s.quality, s.size) == (store.extractor, store.format, store.quality,
                                                                   store.size)]
    return same[-1] if same else None


def _cache_choice(records: Sequence[Record], needed: str) -> tuple[list[Record], str]:
    """The records whose cache state is the one needed, else the fallback, with its label."""
    other = "warm" if needed == "cold" else "cold"
    for want, label in ((needed, needed), (other, f"{other} (no {needed} timing)")):
        chosen = [r for r in records if r.cache == want]
        if chosen:
            return chosen, label
    return [r for r in records if r.cache is None], "not controlled"


def project(records: Iterable[Record], dataset: Dataset | None, epochs: int = DEFAULT_EPOCHS,
            disk_budget: int | None = None) -> list[Strategy]:
    """Every strategy measured in the run, per pattern, projected to ``dataset`` for ``epochs``
    epochs; ranked per pattern by total seconds, those that fit the disk first.

    ``disk_budget`` (bytes) defaults to the free disk where the run's stores went. A run with
    no dataset summary projects to the measured videos themselves."""
    ok = [r for r in records if r.status == "ok" and valid_seconds(r) and r.loader != BASELINE]
    extractions = [r for r in ok if r.measure == "extraction"]
    epoch = [r for r in ok if r.measure == "epoch" and r.kind in (DECODE, FRAMES)]
    per_frame = _per_frame_by_class(ok, dataset)
    fastest, slowest = _per_frame_by_class(ok, dataset, min), _per_frame_by_class(ok, dataset, max)
    scale = _Scale(dataset)
    budget = disk_budget if disk_budget is not None else (dataset.disk_free_bytes if dataset else None)
    ram = dataset.ram_available_bytes if dataset else None
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for r in epoch:
        groups.setdefault((r.pattern or "", r.loader, r.kind, store_of(r)), []).append(r)
    out = []
    for (pattern, loader, kind, store), group in groups.items():
        made = None if store is None else _extraction(store, extractions)
        if store is not None and made is None:
            continue  # a store whose making was not measured: its strategy has no cost to plan with
        size = store.size if store else None
        extract, disk = project_store(made, dataset, size) if made is not None else (0.0, 0)
        source = dataset.bytes if dataset else sum(r.source_bytes or 0 for r in extractions[-1:])
        read = disk if store is not None else source
        needed = "cold" if ram is not None and read > ram else "warm"
        chosen, cache = _cache_choice(group, needed)
        best = min(chosen, key=lambda r: statistics.median(valid_seconds(r)))
        seconds = valid_seconds(best)
        key, covered = (loader, store, pattern), _covered(best, dataset)
        figures = per_frame.get(key, {})
        factor = scale.ratio(figures, pattern, size) * covered
        # The range: the epoch's quartiles, with the dataset's classes at their fastest and slowest
        # sampled video's seconds per frame.
        low, high = quartiles(seconds)
        low *= scale.ratio(figures, pattern, size, fastest.get(key)) * covered
        high *= scale.ratio(figures, pattern, size, slowest.get(key)) * covered
        sources = "per-frame benchmark by video class" if figures else "pixels of each video class"
        out.append(Strategy(
            pattern=pattern, workers=best.workers, decode_loader=loader if kind == DECODE else None,
            frame_loader=loader if kind == FRAMES else None, store=store,
            dataset_videos=dataset.videos if dataset else None,
            dataset_frames=dataset.frames if dataset else (made.frames if made else None),
            extraction_seconds=extract, epoch_seconds=statistics.median(seconds) * factor,
            epoch_seconds_low=low, epoch_seconds_high=high, epochs=epochs,
            disk_bytes=disk, read_bytes=read, fits_disk=budget is None or disk <= budget,
            fits_ram=ram is None or read <= ram, cache=cache,
            epoch_from=(f"epoch timings of the sample ({CACHE_WORDS.get(cache, cache)})"
                        + ("" if factor == 1.0 else f", scaled to the dataset by the {sources}"))))
    return rank(out)


def _covered(epoch: Record, dataset: Dataset | None) -> float:
    """The sample's frames over those the epoch read: more than 1 where it read only the first
    frames of each video (``--quick``, ``--budget``), 1 for uniform-k (the same frames per video)."""
    options = epoch.options if isinstance(epoch.options, dict) else {}
    read = options.get("video_frames")
    if dataset is None or options.get("frames_per_video") is None or not read or _uses_videos(epoch.pattern or ""):
        return 1.0
    return max(1.0, sum(v.frames for v in dataset.measured.values()) / read)


def project_store(made: Record, dataset: Dataset | None, size: int | None) -> tuple[float, int]:
    """(extraction seconds, disk bytes) of a store for the whole dataset, from the extraction of the
    sample: seconds scale with the source pixels decoded, bytes with the pixels stored (at ``size``)."""
    scale = _Scale(dataset)
    return statistics.median(valid_seconds(made)) * scale.pixels(None), int((made.bytes or 0) * scale.pixels(size))


def rank(strategies: Iterable[Strategy]) -> list[Strategy]:
    """Per pattern, those that fit the disk first, then by total seconds."""
    return sorted(strategies, key=lambda s: (s.pattern, not s.fits_disk, s.total_seconds, s.name))


def winners(strategies: Sequence[Strategy]) -> dict[str, Strategy]:
    """Pattern -> the strategy with the least total time among those that fit the disk."""
    out: dict[str, Strategy] = {}
    for s in rank(strategies):
        if s.fits_disk and s.pattern not in out:
            out[s.pattern] = s
    return out


def best_pair(strategies: Sequence[Strategy], pattern: str) -> tuple[Strategy, Strategy, float | None] | None:
    """The fastest decoder of the originals against the fastest frame reader whose store fits the
    disk, by projected epoch seconds, with the epochs after which extracting pays (None: never)."""
    mine = [s for s in strategies if s.pattern == pattern]
    decoders = [s for s in mine if s.kind == "decode"]
    readers = [s for s in mine if s.kind == "extract" and s.fits_disk]
    if not decoders or not readers:
        return None
    decode = min(decoders, key=lambda s: s.epoch_seconds)
    frames = min(readers, key=lambda s: s.epoch_seconds)
    return decode, frames, crossover_epochs(frames.extraction_seconds, decode.epoch_seconds, frames.epoch_seconds)


def parse_bytes(text: str) -> int:
    """``2T``, ``500G``, ``1.5TiB``, ``800000000``: bytes (K, M, G, T are powers of 1024)."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
    body = text.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (body[:-1], body[-1]) if body and body[-1] in units else (body, "")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (say 2T, 500G or a number of bytes)") from None
    if value < 0:
        raise ValueError(f"not a size: {text!r} is negative")
    if not math.isfinite(value):
        raise ValueError(f"not a size: {text!r} is not a finite number")
    if value * units[unit] > MAX_BYTES:
        raise ValueError(f"not a size: {text!r} is more than any disk holds (at most 8 EiB)")
    return int(value * units[unit])

