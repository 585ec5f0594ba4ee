"""A plan for the whole dataset: every strategy's time and disk, projected from the measured sample.

Pure functions over a run's records and its dataset summary (:mod:`benchmarks.dataset`), so a
plan can be tested without measuring, and a report can be made without probing again.

Strategies: decode the original videos with a decoder; extract to a store (format x store
size), then read it with a frame reader; transcode to a short-GOP H.264 copy, then decode that.
For each, per access pattern, at its fastest DataLoader workers setting:

- epoch seconds: the epoch model (:mod:`benchmarks.analysis.epochs`): the sample's measured
  epoch taken apart into start-up, opens and frames, each projected with its own scale (start-up
  once per epoch, opens with the dataset's videos and workers, frames with what each class's
  videos decode), with a low-high range from the timed epochs, the spread of the sampled videos
  of each class, the classes the sample did not contain (named, projected from pixels) and how
  far the same epoch moves between runs (or the run's drift, where larger).
- extraction seconds: the sample's extraction, scaled by source pixels; disk bytes: the store's
  bytes scaled by the pixels it holds (at its store size).
- cache: cold epochs where the data read each epoch (the store, or the source videos) is larger
  than the memory available for the page cache, warm otherwise; a run without the one needed
  falls back to the other and says so.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from benchmarks.analysis import drift
from benchmarks.analysis import epochs as epochs_model
from benchmarks.analysis.crossover import EpochModel as crossover_model
from benchmarks.dataset import ClassSummary, Dataset
from benchmarks.records import Record, valid_seconds
from benchmarks.spec import Store
from loaders.registry import REGISTRY
from loaders.vocabulary import BASELINE, DECODE, FRAMES, TRANSCODED

DEFAULT_EPOCHS = 10
MAX_BYTES = 2**63 - 1  # the most a size may say (8 EiB): more is no disk, and overflows later arithmetic
CACHE_WORDS = {"not controlled": "page cache not controlled"}
COLUMNS = [
    "strategy", "stack", "decode_loader", "frame_loader", "store_format", "store_size", "quality", "dataset_videos",
    "dataset_frames", "extraction_seconds", "epoch_seconds", "epoch_seconds_low", "epoch_seconds_high",
    "total_seconds", "disk_bytes", "fits_disk", "fits_ram", "cache", "startup_seconds", "open_seconds",
    "frame_seconds", "startup_share", "mostly_startup", "not_sampled",
]


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
    # The epoch model's terms (None: a run without a dataset summary, its epochs as timed).
    startup_seconds: float | None = None
    open_seconds: float | None = None
    frame_seconds: float | None = None
    startup_share: float | None = None
    mostly_startup: bool = False  # a tiny dataset: most of its epoch is starting the workers
    not_sampled: list[str] = dataclasses.field(default_factory=list)  # classes the sample missed (their frame size)
    # The dependency stack whose epoch records it was projected from (None: not known). Stacks run one
    # after another, minutes apart: the same loader in two stacks (pil in main and in pillow-simd, another
    # build of PIL) is two strategies, and a comparison across stacks carries the machine's drift.
    stack: str | None = None

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
    def loader(self) -> str:
        return str(self.decode_loader or self.frame_loader)

    @property
    def who(self) -> str:
        """The loader, with its stack where it is not the loader's own (``pil [pillow-simd]``: the
        build a stack swaps in), as the report's loader labels write it."""
        home = REGISTRY[self.loader].stack if self.loader in REGISTRY else "main"
        return self.loader + (f" [{self.stack}]" if self.stack is not None and self.stack != home else "")

    @property
    def loader_label(self) -> str:
        """The strategy in a few words: ``simplejpeg on ffmpeg-jpeg-q90-s256``, ``torchcodec``."""
        return self.who + (f" on {self.store.title}" if self.store is not None else "")

    @property
    def name(self) -> str:
        """What is done: ``extract to ffmpeg-jpeg-q90-s256, read with pil [pillow-simd]``."""
        loader = self.who
        if self.store is None:
            return f"decode the videos with {loader}"
        if self.decode_loader:
            return f"transcode to {self.store.title}, decode with {loader}"
        return f"extract to {self.store.title}, read with {loader}"

    def cumulative(self, epochs: int | None = None) -> list[float]:
        """Total seconds after 1..epochs epochs."""
        return [self.extraction_seconds + k * self.epoch_seconds for k in range(1, (epochs or self.epochs) + 1)]

    def row(self) -> dict[str, Any]:
        """The strategy's row of ``plan.csv``."""
        store = self.store
        return {
            "strategy": f"{self.pattern}: {self.name}" + ("" if self.workers is None else f", {self.workers} workers"),
            "stack": self.stack,
            "decode_loader": self.decode_loader, "frame_loader": self.frame_loader,
            "store_format": store.format if store else None, "store_size": store.store_size if store else None,
            "quality": store.quality if store else None, "dataset_videos": self.dataset_videos,
            "dataset_frames": self.dataset_frames, "extraction_seconds": self.extraction_seconds,
            "epoch_seconds": self.epoch_seconds, "epoch_seconds_low": self.epoch_seconds_low,
            "epoch_seconds_high": self.epoch_seconds_high, "total_seconds": self.total_seconds,
            "disk_bytes": self.disk_bytes, "fits_disk": self.fits_disk, "fits_ram": self.fits_ram,
            "cache": self.cache, "startup_seconds": self.startup_seconds, "open_seconds": self.open_seconds,
            "frame_seconds": self.frame_seconds, "startup_share": self.startup_share,
            "mostly_startup": self.mostly_startup, "not_sampled": "; ".join(self.not_sampled) or None,
        }


class _Scale:
    """The dataset's pixels against the sample's."""

    def __init__(self, dataset: Dataset | None) -> None:
        self.whole = dataset.classes if dataset else {}
        self.sample = dataset.measured_classes() if dataset else {}

    def pixels(self, size: int | None, content: bool = False, elasticity: float = 1.0) -> float:
        """The dataset's pixels (at store size) over the sample's; ``content``: each class's
        weighted by what its pixels hold against its sampled videos' (:meth:`content`)."""
        if not self.whole or not self.sample:
            return 1.0
        sample = sum(c.pixels(size) for c in self.sample.values())
        whole = sum(c.pixels(size) * (self.content(name, elasticity) if content else 1.0)
                    for name, c in self.whole.items())
        return whole / sample if sample else 1.0

    def content(self, name: str, elasticity: float = 1.0) -> float:
        """How much more a pixel of class ``name`` holds in the dataset than in the sample: its
        videos' bytes a pixel over its sampled videos', to the power ``elasticity`` (how a
        compressed store's bytes follow the videos', :func:`store_elasticity`). A compressed
        store's bytes follow the content (noise, detail, motion) as the videos' own do, and within a
        class (one codec and size, encoded alike) the videos' bitrate measures it. 1 for a class
        the sample missed."""
        whole, sample = self.whole.get(name), self.sample.get(name)
        if whole is None or sample is None or not (whole.video_bytes and sample.video_bytes and whole.pixels(None)
                                                   and sample.pixels(None)):
            return 1.0
        return ((whole.video_bytes / whole.pixels(None)) / (sample.video_bytes / sample.pixels(None))) ** elasticity


def _video_bytes(made: Record) -> dict[str, Any] | None:
    """Each video's store bytes, as an extraction record keeps them (path -> bytes); None for a
    record made before they were kept."""
    options = made.options if isinstance(made.options, dict) else {}
    stored = options.get("video_bytes")
    return stored if isinstance(stored, dict) else None


def store_elasticity(made: Record, dataset: Dataset | None, size: int | None) -> float:
    """How a compressed store's bytes a frame follow its videos' bytes a pixel: the slope of the
    one's logarithm against the other's over the sampled videos (``made.options["video_bytes"]``,
    each video's store bytes), within each codec (codecs compress alike content to different
    bytes), from 0 (the store's bytes do not follow the videos') to 1 (in proportion). A JPEG frame
    has a floor of bytes however flat the frame, and a still video is small for its motion, not
    its detail: a static 360p HEVC clip of 0.0003 bytes a pixel stored 4.3 kB a JPEG frame, a
    moving one of 0.012 13.7 kB, 3 times for 40 times the bytes. 1 where the sample shows no spread
    within a codec to tell."""
    stored = _video_bytes(made)
    if dataset is None or stored is None:
        return 1.0
    by_codec: dict[str, list[tuple[float, float]]] = {}
    for v in dataset.measured.values():
        got = stored.get(v.path)
        pixels = v.frames * v.width * v.height
        if isinstance(got, int) and got > 0 and v.video_bytes > 0 and pixels > 0 and v.error is None:
            by_codec.setdefault(v.codec, []).append((math.log(v.video_bytes / pixels),
                                                     math.log(got / v.frames / epochs_model.megapixels(
                                                         v.width, v.height, size))))
    across = [(x - statistics.fmean(p for p, _ in points), y - statistics.fmean(q for _, q in points))
              for points in by_codec.values() if len(points) > 1 for x, y in points]
    spread = sum(x * x for x, _ in across)
    if spread < math.log(1.5) ** 2:  # no two videos of a codec apart by half again their bytes a pixel
        return 1.0
    return min(1.0, max(0.0, sum(x * y for x, y in across) / spread))


def _extraction(store: Store, extractions: Sequence[Record]) -> Record | None:
    same = [e for e in extractions if e.store == store]
    if not same:  # an extraction record need not carry gop/crf in its options: match the store's name
        same = [e for e in extractions if (s := e.store) is not None
                and (s.extractor, s.format, s.quality, s.store_size) == (store.extractor, store.format, store.quality,
                                                                         store.store_size)]
    return same[-1] if same else None


def _cache_choice(records: Sequence[Record], needed: str) -> tuple[list[Record], str]:
    """The records whose cache state is the one needed, else the fallback, with its label."""
    other = "warm" if needed == "cold" else "cold"
    for want, label in ((needed, needed), (other, f"{other} (no {needed} timing)")):
        chosen = [r for r in records if r.cache == want]
        if chosen:
            return chosen, label
    return [r for r in records if r.cache is None], "not controlled"


BUSY = 0.9  # an epoch that kept this share of its workers busy or more paces them as the dataset's would
PACED = 2  # ... with this many batches a worker at least: one batch each is mostly their start


class _Figures:
    """The per-frame records of each loader, store and pattern, and the open records of each loader
    and store, that the epoch model takes apart an epoch of theirs with: each stack's of its own."""

    def __init__(self, ok: Iterable[Record]) -> None:
        self.per_frame: dict[tuple[Any, ...], list[Record]] = {}
        self.opens: dict[tuple[Any, ...], list[Record]] = {}
        self.startups: dict[tuple[Any, ...], list[float]] = {}  # (stack, loader, workers) and (workers,) -> start-ups
        self.epochs: list[Record] = []
        self._dataset: Dataset | None = None  # the dataset the start-ups were told apart over, the projections made to
        self._projected: dict[tuple[int, bool], tuple[Record, epochs_model.Projection]] = {}
        self._returned: dict[tuple[Any, ...], float | None] = {}  # (stack, loader, store) -> a frame returned
        self._stored: dict[Store, epochs_model.Stored | None] = {}  # a JPEG store -> its bytes, over the dataset
        self.extractions: list[Record] = []
        ok = list(ok)
        # stack -> the machine's drift over it (its anchor's end against its start), a factor >= 1
        self.drift = {d.stack: drift.factor(d.within) for d in drift.drift(ok)}
        for r in ok:
            if r.measure == "per_frame":
                self.per_frame.setdefault((r.stack, r.loader, r.store, r.pattern), []).append(r)
            elif r.measure == "open":
                self.opens.setdefault((r.stack, r.loader, r.store), []).append(r)
            elif r.measure == "epoch" and r.kind in (DECODE, FRAMES):
                self.epochs.append(r)
            elif r.measure == "extraction":
                self.extractions.append(r)

    def _startups_over(self, dataset: Dataset) -> None:
        """Every epoch's start-ups, their opens taken off at the sample's open costs: once per sample.
        Not a cold epoch's where the run timed others: its first batch waited for that batch's files
        to be read from the disk, which no worker's start costs (:meth:`warm_startup`); a one-batch
        epoch that took them in place of its own was left next to no frames."""
        if self._dataset is not None and self._dataset is dataset:
            return
        self._dataset, self.startups, self._projected, self._returned, self._stored = dataset, {}, {}, {}, {}
        for r in [r for r in self.epochs if r.cache != "cold"] or self.epochs:
            got = epochs_model.startups(r, self.opens.get((r.stack, r.loader, r.store), []), dataset,
                                        self.returned(r, dataset), self.stored(r, dataset))
            self.startups.setdefault((r.stack, r.loader, r.workers), []).extend(got)
            self.startups.setdefault((r.workers,), []).extend(got)

    def returned(self, epoch: Record, dataset: Dataset) -> float | None:
        """A frame returned by ``epoch``'s decoder, in decoded frames, from the per-frame records of
        every pattern of its loader and store in its stack (:func:`epochs_model.returned_units`);
        None for a reader, or where those records cannot tell it (the guess's then)."""
        key = (epoch.stack, epoch.loader, epoch.store)
        if key not in self._returned:
            cases = [r for k, rs in self.per_frame.items() if k[:3] == key for r in rs]
            store = epoch.store
            self._returned[key] = None if epoch.kind != DECODE else epochs_model.returned_units(
                cases, dataset, store.store_size if store else None, store.gop if store else None)
        return self._returned[key]

    def stored(self, epoch: Record, dataset: Dataset) -> epochs_model.Stored | None:
        """What the JPEG store ``epoch``'s reader reads holds a pixel, in the sample's videos and
        over ``dataset`` (:func:`stored_bytes`), which its frames cost by; None for a decoder,
        another format, or an extraction record that does not say each video's bytes."""
        store = epoch.store
        if epoch.kind != FRAMES or store is None or store.format not in epochs_model.BY_THE_BYTE:
            return None
        if store not in self._stored:
            made = _extraction(store, self.extractions)
            self._stored[store] = stored_bytes(made, dataset, store.store_size) if made is not None else None
        return self._stored[store]

    def floor(self, stack: str, workers: int | None, dataset: Dataset) -> float | None:
        """The DataLoader's own start-up at ``workers`` in ``stack``: the least of its loaders' median
        start-ups there (:func:`benchmarks.analysis.epochs.project`'s ``startup_floor``)."""
        self._startups_over(dataset)
        medians = [statistics.median(v) for k, v in self.startups.items()
                   if len(k) == 3 and k[0] == stack and k[2] == workers and v]
        return min(medians) if medians and workers else None

    def alone(self, epoch: Record, dataset: Dataset) -> tuple[float | None, float | None]:
        """The frames term's k of ``epoch``'s twin read by the main process (workers 0: the same
        loader, store, pattern, page cache and stack, the run's latest), None without one; and the
        workers' pace against the main process's, as the run measured it for the same loader, store
        and workers on its other patterns (:meth:`speedup`)."""
        if not epoch.workers:
            return None, None
        twin = self._twin(epoch)
        return (self.project(twin, dataset).k if twin else None), self.speedup(epoch, dataset)

    def _twin(self, epoch: Record) -> Record | None:
        """The run's latest epoch of the same loader, store, pattern, page cache and stack at workers 0."""
        twins = [r for r in self.epochs if not r.workers and (r.stack, r.loader, r.store, r.pattern, r.cache)
                 == (epoch.stack, epoch.loader, epoch.store, epoch.pattern, epoch.cache)]
        return twins[-1] if twins else None

    def speedup(self, epoch: Record, dataset: Dataset) -> float | None:
        """How the same loader and store's frames pace with ``epoch``'s workers compares with the
        main process's (a ratio of their k; under 1: the workers were faster), the median over the
        run's other patterns whose epoch at those workers kept nearly every worker busy (:data:`BUSY`,
        against the dataset's: a capped run's shuffled frames make a few batches), over
        :data:`PACED` batches a worker or more (one batch each, a uniform-k epoch of three videos,
        is mostly the workers starting, whatever the dataset's), and which have a
        twin at workers 0, at most 1. None without such a pattern. Workers slower than the main
        process there is, on the short capped epochs that measure it, mostly start-up left in their
        frames: the point then stays at the main process's pace.

        Each pattern's ratio is taken to ``epoch``'s pattern by the ratio of what the workers spend
        on a frame of each, reading it and handing it to the main process, against what the main
        process alone spends on it (1 + :meth:`burden`): the cores share both. A cheap reader's
        workers over single frames (random-frame, batches of a few frames) are paced by the
        hand-off, which clips of 16 frames a sample, in batches 16 times as large, pay far less of
        a frame. Where either pattern has no such figure, the ratio as it was."""
        ratios = []
        mine = self.burden(epoch, dataset)
        for r in self.epochs:
            if (r.stack, r.loader, r.store, r.cache, r.workers) != (epoch.stack, epoch.loader, epoch.store,
                                                                     epoch.cache, epoch.workers) \
                    or r.pattern == epoch.pattern:
                continue
            samples = epochs_model.samples_of(r)
            if samples is None or samples < PACED * (r.workers or 1) * max(1, r.batch_size or 1):
                continue
            twin = self._twin(r)
            busy = self.project(r, dataset, alone=False)
            if twin and busy.busy >= BUSY and busy.k > 0 and (main := self.project(twin, dataset).k) > 0:
                theirs = self.burden(r, dataset)
                ratios.append(busy.k / main * ((1 + mine) / (1 + theirs) if mine is not None and theirs is not None
                                               else 1.0))
        return min(1.0, statistics.median(ratios)) if ratios else None

    def burden(self, epoch: Record, dataset: Dataset) -> float | None:
        """The CPU ``epoch``'s workers spend a frame handing its batches to the main process (the
        run's figure, :func:`benchmarks.runner.handoff`) against the CPU its twin at workers 0 spent
        a frame after its start-up: what the hand-off adds to the CPU of that pattern's frames, as a
        share of it; None where the run has no such figure or no twin."""
        handoff = epoch.options.get("handoff_cpu_seconds") if isinstance(epoch.options, dict) else None
        twin = self._twin(epoch)
        cpu = twin.options.get("cpu_seconds") if twin and isinstance(twin.options, dict) else None
        if not isinstance(handoff, int | float) or handoff < 0 or not isinstance(cpu, list) or not cpu \
                or twin is None or not twin.frames:
            return None
        own = (statistics.median(cpu) - self.project(twin, dataset).startup) / twin.frames
        return handoff / own if own > 0 else None

    def warm_startup(self, epoch: Record, dataset: Dataset) -> float | None:
        """The start-up of a cold ``epoch``'s twin timed warm (the same loader, store, pattern, workers
        and stack, the run's latest), as the model tells it apart: starting the workers costs the
        same whatever the page cache holds. None for an epoch not timed cold, or without a twin."""
        if epoch.cache != "cold":
            return None
        twins = [r for r in self.epochs if r.cache == "warm" and (r.stack, r.loader, r.store, r.pattern, r.workers)
                 == (epoch.stack, epoch.loader, epoch.store, epoch.pattern, epoch.workers)]
        return self.project(twins[-1], dataset).startup if twins else None

    def project(self, epoch: Record, dataset: Dataset, alone: bool = True) -> epochs_model.Projection:
        self._startups_over(dataset)
        key = (id(epoch), alone)  # the twins and patterns :meth:`speedup` compares are projected once
        held = self._projected.get(key)
        if held is None or held[0] is not epoch:  # (the record is kept with it: its id is not reused)
            held = self._projected[key] = (epoch, self._project(epoch, dataset, alone))
        return held[1]

    def _project(self, epoch: Record, dataset: Dataset, alone: bool) -> epochs_model.Projection:
        store = epoch.store
        elsewhere = (self.startups.get((epoch.stack, epoch.loader, epoch.workers))
                     or self.startups.get((epoch.workers,)))
        main, speedup = self.alone(epoch, dataset) if alone else (None, None)
        return epochs_model.project(epoch, self.per_frame.get((epoch.stack, epoch.loader, store, epoch.pattern), []),
                                    self.opens.get((epoch.stack, epoch.loader, store), []), dataset,
                                    store.store_size if store else None,
                                    statistics.median(elsewhere) if elsewhere else None,
                                    store.gop if store else None,
                                    self.startups.get((epoch.stack, epoch.loader, epoch.workers), []),
                                    self.drift.get(epoch.stack, 1.0), self.floor(epoch.stack, epoch.workers, dataset),
                                    main, speedup, self.returned(epoch, dataset), self.stored(epoch, dataset),
                                    self.warm_startup(epoch, dataset))


def epoch_key(record: Record) -> tuple[Any, ...]:
    """What tells one epoch case from another: pattern, loader, store, workers, page cache, stack."""
    return record.pattern or "", record.loader, record.store, record.workers, record.cache, record.stack


def epoch_cases(records: Iterable[Record], dataset: Dataset) -> dict[tuple[Any, ...], tuple[Record,
                                                                                      epochs_model.Projection]]:
    """Every epoch case of a run (:func:`epoch_key`; the latest record of each) with its epoch
    projected to ``dataset`` by the epoch model: each workers setting and cache state apart, where
    :func:`project` keeps the fastest of a strategy's."""
    ok = [r for r in records if r.status == "ok" and valid_seconds(r) and r.loader != BASELINE]
    figures = _Figures(ok)
    latest = {epoch_key(r): r for r in ok if r.measure == "epoch" and r.kind in (DECODE, FRAMES)}
    return {key: (r, figures.project(r, dataset)) for key, r in latest.items()}


def busy_workers(records: Iterable[Record], dataset: Dataset) -> list[tuple[Record, tuple[float, float]]]:
    """Every epoch record at workers above 0 with the workers it kept busy on average over
    ``dataset``'s sample, by the work dealt to each and by their samples
    (:func:`benchmarks.analysis.epochs.busy_workers`), a decoder's frames weighed as the epoch model
    weighs them (the run's own figure for a frame returned); records that do not say their
    samples left out."""
    ok = [r for r in records if r.status == "ok" and valid_seconds(r) and r.loader != BASELINE]
    figures = _Figures(ok)
    out = []
    for r in ok:
        if r.measure == "epoch" and r.workers and r.kind in (DECODE, FRAMES):
            got = epochs_model.busy_workers(r, dataset, figures.returned(r, dataset), figures.stored(r, dataset))
            if got is not None:
                out.append((r, got))
    return out


def sample_model(records: Iterable[Record], dataset: Dataset | None) -> crossover_model | None:
    """The epoch model over the measured videos themselves, whole (:func:`crossover.pairs`'s
    ``model``): an epoch record -> (seconds, low, high); None for a run without a dataset summary."""
    if dataset is None or not dataset.measured:
        return None
    ok = [r for r in records if r.status == "ok" and valid_seconds(r) and r.loader != BASELINE]
    figures = _Figures(ok)
    itself = dataclasses.replace(dataset, classes=dataset.measured_classes())

    def model(epoch: Record) -> tuple[float, float, float] | None:
        if epoch.kind not in (DECODE, FRAMES) or not valid_seconds(epoch):
            return None
        got = figures.project(epoch, itself)
        return got.seconds, got.low, got.high

    return model


def project(records: Iterable[Record], dataset: Dataset | None, epochs: int = DEFAULT_EPOCHS,
            disk_budget: int | None = None) -> list[Strategy]:
    """Every strategy measured in the run, per pattern, projected to ``dataset`` for ``epochs``
    epochs by the epoch model (:mod:`benchmarks.analysis.epochs`); ranked per pattern by total
    seconds, those that fit the disk first. A loader measured by two dependency stacks is two
    strategies (:attr:`Strategy.stack`): the verdict ranks strategies of different stacks only beyond
    the machine's drift between them (:mod:`benchmarks.analysis.drift`).

    ``disk_budget`` (bytes) defaults to the free disk where the run's stores went. A run with
    no dataset summary projects to the measured videos themselves: its epochs as timed."""
    ok = [r for r in records if r.status == "ok" and valid_seconds(r) and r.loader != BASELINE]
    extractions = [r for r in ok if r.measure == "extraction"]
    epoch = [r for r in ok if r.measure == "epoch" and r.kind in (DECODE, FRAMES)]
    figures = _Figures(ok)
    budget = disk_budget if disk_budget is not None else (dataset.disk_free_bytes if dataset else None)
    ram = dataset.ram_available_bytes if dataset else None
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for r in epoch:
        groups.setdefault((r.pattern or "", r.loader, r.kind, r.store, r.stack), []).append(r)
    out = []
    for (pattern, loader, kind, store, stack), group in groups.items():
        made = None if store is None else _extraction(store, extractions)
        if store is not None and made is None:
            continue  # a store whose making was not measured: its strategy has no cost to plan with
        size = store.store_size if store else None
        extract, disk = project_store(made, dataset, size) if made is not None else (0.0, 0)
        source = dataset.bytes if dataset else sum(r.source_bytes or 0 for r in extractions[-1:])
        read = disk if store is not None else source
        needed = "cold" if ram is not None and read > ram else "warm"
        chosen, cache = _cache_choice(group, needed)
        best = min(chosen, key=lambda r: statistics.median(valid_seconds(r)))
        seconds = valid_seconds(best)
        timed = f"epoch timings of the sample ({CACHE_WORDS.get(cache, cache)})"
        if dataset is None or not dataset.measured:
            low, high = min(seconds), max(seconds)
            terms = None
            epoch_seconds, epoch_from = statistics.median(seconds), timed
        else:
            terms = figures.project(best, dataset)
            epoch_seconds, low, high = terms.seconds, terms.low, terms.high
            epoch_from = (f"{timed}, modelled as start-up {terms.startup:.2f} s + {terms.open_count:,.0f} opens "
                          f"{terms.opens:.2f} s + frames {terms.frames:.2f} s"
                          + "".join(f"; {n}" for n in terms.notes))
        out.append(Strategy(
            pattern=pattern, workers=best.workers, decode_loader=loader if kind == DECODE else None,
            frame_loader=loader if kind == FRAMES else None, store=store,
            dataset_videos=dataset.videos if dataset else None,
            dataset_frames=dataset.frames if dataset else (made.frames if made else None),
            extraction_seconds=extract, epoch_seconds=epoch_seconds,
            epoch_seconds_low=low, epoch_seconds_high=high, epochs=epochs,
            disk_bytes=disk, read_bytes=read, fits_disk=budget is None or disk <= budget,
            fits_ram=ram is None or read <= ram, cache=cache, epoch_from=epoch_from,
            startup_seconds=terms.startup if terms else None, open_seconds=terms.opens if terms else None,
            frame_seconds=terms.frames if terms else None,
            startup_share=terms.startup_share if terms else None,
            mostly_startup=bool(terms and terms.mostly_startup),
            not_sampled=list(terms.not_sampled) if terms else [], stack=stack))
    return rank(out)


def project_store(made: Record, dataset: Dataset | None, size: int | None) -> tuple[float, int]:
    """(extraction seconds, disk bytes) of a store for the whole dataset, from the extraction of the
    sample: seconds scale with what the videos cost to decode and write, as the extraction's jobs
    share the videos out (:func:`extraction_scale`); bytes with the pixels stored (at ``size``), and for a
    compressed store (JPEG, PNG, tar, a transcode) with what those pixels hold, as the videos'
    bytes a pixel show it (:meth:`_Scale.content`), as far as the sample's own store follows them
    (:func:`store_elasticity`): a sample of the quieter videos of a class would otherwise stand for
    its noisier ones."""
    scale = _Scale(dataset)
    options = made.options if isinstance(made.options, dict) else {}
    jobs = options.get("jobs")
    compressed = made.store is not None and made.store.format in COMPRESSED
    stored = stored_bytes(made, dataset, size) if compressed else None
    if stored is not None:
        disk = sum(c.pixels(size) * stored.classes[name] for name, c in scale.whole.items())
    else:
        elasticity = store_elasticity(made, dataset, size) if compressed else 1.0
        disk = (made.bytes or 0) * scale.pixels(size, content=compressed, elasticity=elasticity)
    return (statistics.median(valid_seconds(made)) * extraction_scale(dataset, jobs if isinstance(jobs, int) else 1,
                                                                         made.store), int(disk))


def stored_bytes(made: Record, dataset: Dataset | None, size: int | None) -> epochs_model.Stored | None:
    """A compressed store's bytes a stored pixel (at ``size``), each sampled video's as its
    extraction wrote it and each class's over the dataset: a sampled class at its sampled videos',
    with what the dataset's videos hold a pixel against them (:meth:`_Scale.content`, as far as the
    store follows the videos: :func:`store_elasticity`), a class the sample missed at the sampled
    classes' mean. None where the extraction record does not say each video's bytes."""
    by_class = _class_store_bytes(made, dataset, size)
    stored = _video_bytes(made)
    if not by_class or dataset is None or stored is None:
        return None
    scale = _Scale(dataset)
    elasticity = store_elasticity(made, dataset, size)
    weights = {c: scale.whole[c].pixels(size) for c in by_class if c in scale.whole}
    adjusted = {c: b * scale.content(c, elasticity) for c, b in by_class.items()}
    mean = (sum(adjusted[c] * w for c, w in weights.items()) / sum(weights.values())
            if sum(weights.values()) > 0 else statistics.fmean(adjusted.values()))
    videos = {v.path: stored[v.path] / (v.frames * epochs_model.megapixels(v.width, v.height, size) * 1e6)
              for v in dataset.measured.values() if v.error is None and v.frames and v.path in stored}
    return epochs_model.Stored(videos, {name: adjusted.get(name, mean) for name in scale.whole})


def _class_store_bytes(made: Record, dataset: Dataset | None, size: int | None) -> dict[str, float] | None:
    """Video class -> the store's bytes a stored pixel over the class's sampled videos, from each
    video's store bytes (``made.options["video_bytes"]``); None where they do not cover every
    sampled video (a run made before they were kept): codecs and sizes store differently (a
    noisy 360p H.264 clip's JPEG frames held 29 kB, a 720p HEVC one's 12 kB), so one class's bytes
    do not stand for another's."""
    stored = _video_bytes(made)
    if dataset is None or not dataset.classes or stored is None:
        return None
    videos = [v for v in dataset.measured.values() if v.error is None and v.frames]
    if not videos or any(not isinstance(stored.get(v.path), int) for v in videos):
        return None
    got: dict[str, list[float]] = {}
    for v in videos:
        pixels = v.frames * epochs_model.megapixels(v.width, v.height, size) * 1e6
        got.setdefault(v.video_class, [0.0, 0.0])
        got[v.video_class][0] += stored[v.path]
        got[v.video_class][1] += pixels
    return {c: b / p for c, (b, p) in got.items() if p > 0}


COMPRESSED = ("jpeg", "png", "tar", TRANSCODED)  # store formats whose bytes follow the content, not only the pixels
EXACT_SCHEDULE = 4096  # videos whose schedule is worked out one by one; more: their pixels over the jobs


def makespan(costs: Sequence[tuple[int, float]], jobs: int) -> float:
    """The wall time of videos done ``jobs`` at a time (``costs``: (videos, cost of each)), each by
    the first worker free, the largest first, as if one extraction used one core: 3 like videos on
    2 jobs take two of them in a row, not one and a half. Past :data:`EXACT_SCHEDULE` videos: their
    total over the jobs, or the largest video if longer."""
    videos = sum(n for n, _ in costs)
    if not videos:
        return 0.0
    if videos > EXACT_SCHEDULE:
        return max(sum(n * c for n, c in costs) / max(1, jobs), max(c for n, c in costs if n))
    free = [0.0] * max(1, min(jobs, videos))
    for cost in sorted((c for n, c in costs for _ in range(n)), reverse=True):
        heapq.heappush(free, heapq.heappop(free) + cost)
    return max(free)


def _video_costs(classes: dict[str, ClassSummary], store: Store | None) -> list[tuple[int, float]]:
    """(videos, extraction cost of each) of ``classes``, each length of a class: starting it (a
    process, opening and probing the video), and its frames decoded at the class's pixels and bytes
    a frame, converted, and written to ``store`` at its size, as the run's estimate costs them
    (:class:`benchmarks.budget.Guess`; the sum is what matters, its unit is not). A 2 s 320x240
    clip's start is a third of its extraction to JPEG."""
    size = store.store_size if store is not None else None
    out = []
    for c in classes.values():
        if not (c.videos and c.frames):
            continue
        source, stream = epochs_model.class_megapixels(c, None), epochs_model.class_megabytes(c, None)
        frame = epochs_model.GUESS.extracted(source, stream, epochs_model.class_megapixels(c, size),
                                             store.format if store else None)
        out += [(n, epochs_model.GUESS.extract_video + frames * frame) for n, frames in epochs_model.lengths_of(c)]
    return out


def extraction_scale(dataset: Dataset | None, jobs: int, store: Store | None = None) -> float:
    """The dataset's extraction time over the sample's, each video costed by its frames, pixels and
    bytes (decoding follows the stream's bytes) and the pixels it writes (:func:`_video_costs`).
    Two bounds: by that cost alone (one extraction already keeps every core busy, as FFmpeg's
    threads do on large frames), and by the wall time of the videos on ``jobs`` parallel
    extractions of one core each (:func:`makespan`: a sample of fewer videos than jobs left jobs
    idle that the dataset's many videos will use; a lone 320x180 extraction took 0.245 s, two side
    by side 0.27 s). Which holds depends on how many cores one extraction uses, which the run does
    not see: the plan takes their geometric mean. Both are counted the same way from the class
    summaries, so a run projected to the videos it measured scales by exactly 1."""
    if dataset is None or not dataset.classes or not dataset.measured:
        return 1.0
    sample, whole = _video_costs(dataset.measured_classes(), store), _video_costs(dataset.classes, store)
    first_total = sum(n * c for n, c in sample)
    total = sum(n * c for n, c in whole) / first_total if first_total > 0 else _Scale(dataset).pixels(None)
    first = makespan(sample, jobs)
    scheduled = makespan(whole, jobs) / first if first > 0 else total
    return math.sqrt(total * scheduled) if total > 0 and scheduled > 0 else total


def rank(strategies: Iterable[Strategy]) -> list[Strategy]:
    """Per pattern, those that fit the disk first, then by total seconds."""
    return sorted(strategies, key=lambda s: (s.pattern, not s.fits_disk, s.total_seconds, s.name))


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

