"""Training: will the GPU wait? The plan's strategies against the rate a training step consumes.

Pure functions over a run's records, its dataset summary and the plan's strategies
(:mod:`benchmarks.analysis.plan`); nothing measures here. The model (``docs/training.md``):

- **The target**: the frames per second the GPUs consume. From ``--step-ms`` T (one step of one
  batch on one GPU): ``gpus x batch_size x frames per sample / T``, with the batch size and the
  frames per sample of the run's epochs of that pattern; or ``--target-fps`` F per GPU:
  ``gpus x F``. The GPUs are data-parallel on this machine, each with its own DataLoader, so
  together they share its cores, memory and storage.
- **Delivered**: per workers setting measured (the workers of all the GPUs' DataLoaders
  together), the frames an epoch of the whole dataset returns over its loading time, both from
  the epoch model (:mod:`benchmarks.analysis.epochs`); capped at ``--storage-bandwidth`` over
  the bytes read per frame where one is given.
- **Workers needed**: the fewest measured workers whose delivered rate reaches the target
  (shared among the GPUs: per GPU, rounded up). Where none does: the setting that delivers the
  most, and the shortfall.
- **An epoch of training** is the longer of the GPU's time (frames / target) and loading's time,
  since the DataLoader's workers load while the GPU steps; with workers 0 the main process loads
  between steps, so the two add. **Training** = extraction + E epochs.
- **CPU cores** the loading occupies: the epochs' measured CPU seconds (the main process and its
  workers, ``options.cpu_seconds`` of the epoch records) per frame, times the frames per second
  consumed. A worker that keeps ahead waits for the GPU, so it occupies less than a core.
- **Read bandwidth**: the bytes read per frame (the store's, or the videos' bytes per frame for
  decoding them) times the target rate.
- **Recommendation**, per pattern, among the strategies whose store fits the disk: the least
  training time; among those within :data:`NEAR` of it, the least disk, then the least CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from benchmarks.analysis import plan as plan_model
from benchmarks.dataset import Dataset
from benchmarks.records import Record, valid_seconds
from loaders.units import size as _size
from loaders.vocabulary import BASELINE, DECODE, FRAMES

NEAR = 0.05  # strategies within 5% of the least training time count as as fast
WAITS = 0.005  # a GPU idle less than this share of the time "keeps fed"
COLUMNS = ["target_fps", "delivered_fps", "workers_needed", "cpu_cores", "read_bytes_per_second",
           "gpu_wait_fraction", "training_seconds"]


@dataclasses.dataclass(frozen=True)
class Step:
    """What the GPUs consume: ``step_ms`` for one batch on one GPU, or ``target_fps`` per GPU;
    ``gpus`` data-parallel on this machine; ``storage_bandwidth`` in bytes per second (None:
    not given)."""

    step_ms: float | None = None
    target_fps: float | None = None
    gpus: int = 1
    storage_bandwidth: int | None = None

    def __post_init__(self) -> None:
        check(self)

    @property
    def given(self) -> bool:
        """Whether there is a step to plan against (else the plan covers loading alone)."""
        return self.step_ms is not None or self.target_fps is not None

    def target(self, batch_size: int, frames_per_sample: float) -> float | None:
        """Frames per second all the GPUs together consume; None without a step."""
        if self.target_fps is not None:
            return self.gpus * self.target_fps
        if self.step_ms is None:
            return None
        return self.gpus * max(1, batch_size) * frames_per_sample / (self.step_ms / 1000)

    def line(self) -> str:
        what = (f"{self.target_fps:,.0f} frames/s per GPU" if self.target_fps is not None
                else f"a {self.step_ms:g} ms step" if self.step_ms is not None else "no step")
        return f"{what} on {self.gpus} GPU{'s' if self.gpus != 1 else ''}"


def check(step: Step) -> None:
    """ValueError, saying which, for a step that cannot be planned with."""
    for name in ("step_ms", "target_fps"):
        value = getattr(step, name)
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name.replace('_', '-')} must be a positive number, got {value!r}")
    if step.step_ms is not None and step.target_fps is not None:
        raise ValueError("give --step-ms or --target-fps, not both")
    if not isinstance(step.gpus, int) or isinstance(step.gpus, bool) or step.gpus < 1:
        raise ValueError(f"gpus must be a whole number of at least 1, got {step.gpus!r}")
    if step.storage_bandwidth is not None and step.storage_bandwidth <= 0:
        raise ValueError(f"storage bandwidth must be positive, got {step.storage_bandwidth!r}")


def step_of(dataset: Dataset | None, step_ms: float | None = None, target_fps: float | None = None,
            gpus: int | None = None, storage_bandwidth: int | None = None) -> Step:
    """The step a plan is for: what the run stored with its dataset summary, each part replaced by
    what is given here (None: not given); a step given here (``step_ms`` or ``target_fps``)
    replaces the stored one whole. ValueError for a step that cannot be planned with."""
    stored = (dataset.step_ms, dataset.target_fps, dataset.gpus, dataset.storage_bandwidth) if dataset else \
        (None, None, 1, None)
    if step_ms is None and target_fps is None:
        step_ms, target_fps = stored[0], stored[1]
    return Step(step_ms, target_fps, gpus if gpus is not None else (stored[2] or 1),
                storage_bandwidth if storage_bandwidth is not None else stored[3])


def parse_bandwidth(text: str) -> int:
    """``500MB/s``, ``1.2G``, ``800000000``: bytes per second (K, M, G, T are powers of 1024,
    as for ``--disk-budget``)."""
    body = text.strip()
    for suffix in ("/s", "ps", "/S"):
        body = body.removesuffix(suffix)
    value = plan_model.parse_bytes(body)
    if value <= 0:
        raise ValueError(f"not a bandwidth: {text!r} (say 500MB/s or 1G/s)")
    return value


@dataclasses.dataclass(frozen=True)
class Rate:
    """One workers setting of a strategy, over the whole dataset."""

    workers: int  # DataLoader workers of all the GPUs together
    loading_seconds: float  # an epoch's loading alone
    returned: float  # frames an epoch returns
    cpu_per_frame: float | None  # CPU seconds per frame returned (None: the records carry no CPU time)
    cores: int | None  # of the machine that measured it

    @property
    def delivered(self) -> float:
        return self.returned / self.loading_seconds if self.loading_seconds > 0 else math.inf


@dataclasses.dataclass
class Training:
    """One strategy of the plan against the step."""

    strategy: plan_model.Strategy
    step: Step
    target_fps: float
    rates: list[Rate]  # every workers setting measured that the GPUs can share, fewest workers first
    chosen: Rate
    bytes_per_frame: float | None

    @property
    def pattern(self) -> str:
        return self.strategy.pattern

    def delivered(self, rate: Rate | None = None) -> float:
        """Frames per second a setting delivers, capped by the storage bandwidth where one is given."""
        rate = rate or self.chosen
        got = rate.delivered
        if self.step.storage_bandwidth and self.bytes_per_frame:
            got = min(got, self.step.storage_bandwidth / self.bytes_per_frame)
        return got

    @property
    def delivered_fps(self) -> float:
        return self.delivered()

    @property
    def most_fps(self) -> float:
        """The most any measured setting delivers."""
        return max(self.delivered(r) for r in self.rates)

    @property
    def gpu_seconds(self) -> float:
        """An epoch of the GPUs' own time: the frames it consumes at the target rate."""
        return self.chosen.returned / self.target_fps

    def epoch_seconds_for(self, rate: Rate) -> float:
        loading = rate.returned / self.delivered(rate) if self.delivered(rate) > 0 else math.inf
        if rate.workers == 0:  # the main process loads between steps: nothing overlaps
            return self.gpu_seconds + loading
        return max(self.gpu_seconds, loading)

    @property
    def epoch_seconds(self) -> float:
        """An epoch of training: the longer of the GPU's time and loading's (their sum with workers 0)."""
        return self.epoch_seconds_for(self.chosen)

    @property
    def keeps_up(self) -> bool:
        return self.gpu_wait_fraction < WAITS

    @property
    def gpu_wait_fraction(self) -> float:
        """The share of training the GPUs wait for data."""
        epoch = self.epoch_seconds
        return max(0.0, 1 - self.gpu_seconds / epoch) if epoch > 0 else 0.0

    @property
    def training_seconds(self) -> float:
        return self.strategy.extraction_seconds + self.strategy.epochs * self.epoch_seconds

    @property
    def workers_per_gpu(self) -> int:
        return math.ceil(self.chosen.workers / self.step.gpus)

    @property
    def consumed_fps(self) -> float:
        """Frames per second actually read: the target, or what loading delivers where it falls short."""
        return self.chosen.returned / self.epoch_seconds if self.epoch_seconds > 0 else 0.0

    @property
    def cpu_cores(self) -> float | None:
        c = self.chosen.cpu_per_frame
        return None if c is None else c * self.consumed_fps

    @property
    def read_bytes_per_second(self) -> float | None:
        """Bytes read per second to keep up with the target."""
        return None if self.bytes_per_frame is None else self.bytes_per_frame * self.target_fps

    def exceeds(self, bandwidth: float | None) -> bool:
        """Whether keeping up with the target needs more than ``bandwidth`` bytes per second."""
        need = self.read_bytes_per_second
        return bandwidth is not None and need is not None and need > bandwidth * (1 + 1e-9)

    def row(self) -> dict[str, Any]:
        """The strategy's training columns of ``plan.csv``."""
        return {"target_fps": self.target_fps, "delivered_fps": self.delivered_fps,
                "workers_needed": self.chosen.workers if self.keeps_up else None, "cpu_cores": self.cpu_cores,
                "read_bytes_per_second": self.read_bytes_per_second, "gpu_wait_fraction": self.gpu_wait_fraction,
                "training_seconds": self.training_seconds}

    def doing(self) -> str:
        """The strategy as the subject of a sentence: "decoding with torchcodec"."""
        s = self.strategy
        if s.kind == "decode":
            return f"decoding with {s.decode_loader}"
        label = s.store.title if s.store else ""
        if s.kind == "transcode":
            return f"transcoding to {label} and decoding with {s.decode_loader}"
        return f"extracting to {label} and reading with {s.frame_loader}"

    def workers_words(self) -> str:
        n, gpus = self.chosen.workers, self.step.gpus
        each = f" ({self.workers_per_gpu} per GPU)" if gpus > 1 and n else ""
        cores = self.cpu_cores
        of = f" of {self.chosen.cores}" if self.chosen.cores else ""
        cpu = f", {cores:.1f}{of} cores" if cores is not None else ""
        return f"{n} worker{'s' if n != 1 else ''}{each}{cpu}"


def _cache_state(label: str) -> str | None:
    """The records' cache state behind a strategy's cache label ("warm (no cold timing)" -> "warm")."""
    word = label.split()[0] if label else ""
    return word if word in ("cold", "warm") else None


def _cpu_per_frame(record: Record) -> float | None:
    options = record.options if isinstance(record.options, dict) else {}
    cpu = options.get("cpu_seconds")
    seconds = valid_seconds(record)
    if not isinstance(cpu, list) or not cpu or record.frames <= 0 or not seconds:
        return None
    values = [float(c) for c in cpu if isinstance(c, int | float) and math.isfinite(c) and c >= 0]
    return statistics.median(values) / record.frames if values else None


def _frames_per_sample(record: Record) -> float:
    options = record.options if isinstance(record.options, dict) else {}
    samples = options.get("samples")
    return record.frames / samples if isinstance(samples, int) and samples > 0 and record.frames else 1.0


def _cores(record: Record) -> int | None:
    cores = record.env.get("cores") if isinstance(record.env, dict) else None
    return cores if isinstance(cores, int) and cores > 0 else None


def rates(strategy: plan_model.Strategy, records: Sequence[Record], dataset: Dataset | None) -> list[tuple[Record,
                                                                                                          Rate]]:
    """Every workers setting measured of ``strategy`` (its pattern, loader, store, stack and the
    page-cache state the plan chose), fewest workers first: the whole dataset's epoch through the epoch model,
    or, without a dataset summary, the sample's epochs as timed."""
    loader = strategy.decode_loader or strategy.frame_loader
    state = _cache_state(strategy.cache)
    ok = [r for r in records if r.status == "ok" and valid_seconds(r) and r.loader != BASELINE]
    mine = {r.workers or 0: r for r in ok
            if r.measure == "epoch" and r.kind in (DECODE, FRAMES) and (r.pattern or "") == strategy.pattern
            and r.loader == loader and r.store == strategy.store and r.cache == state
            and (strategy.stack is None or r.stack == strategy.stack)}
    modelled = dataset is not None and bool(dataset.measured)
    cases = plan_model.epoch_cases(ok, dataset) if modelled and dataset is not None else {}
    out = []
    for workers, record in sorted(mine.items()):
        got = cases.get(plan_model.epoch_key(record))
        if got is not None and got[1].returned > 0:
            seconds, returned = got[1].seconds, got[1].returned
        else:
            seconds, returned = statistics.median(valid_seconds(record)), float(record.frames)
        out.append((record, Rate(workers, seconds, returned, _cpu_per_frame(record), _cores(record))))
    return out


def assess(strategies: Iterable[plan_model.Strategy], records: Iterable[Record], dataset: Dataset | None,
           step: Step) -> list[Training]:
    """Every strategy of the plan against ``step``; empty without one."""
    if not step.given:
        return []
    records = list(records)
    out = []
    for s in strategies:
        got = rates(s, records, dataset)
        if not got:
            continue
        first = got[0][0]
        target = step.target(first.batch_size or 1, _frames_per_sample(first))
        if target is None or target <= 0:
            continue
        usable = [r for _, r in got if (r.workers == 0 and step.gpus == 1) or r.workers >= step.gpus]
        if not usable:  # fewer workers measured than GPUs: the most measured, shared as it can be
            usable = [max((r for _, r in got), key=lambda r: r.workers)]
        bpf = s.read_bytes / s.dataset_frames if s.dataset_frames and s.read_bytes else None
        t = Training(s, step, target, usable, usable[0], bpf)
        t.chosen = choose(t, usable)
        out.append(t)
    return out


def choose(t: Training, usable: Sequence[Rate]) -> Rate:
    """The fewest workers that keep the GPUs fed; where none does, the setting whose epoch of
    training is shortest (then the fewest workers)."""
    for rate in sorted(usable, key=lambda r: r.workers):
        if rate.workers > 0 and t.delivered(rate) >= t.target_fps:
            return rate
    return min(usable, key=lambda r: (t.epoch_seconds_for(r), r.workers))


def recommend(trainings: Sequence[Training]) -> dict[str, tuple[Training, str]]:
    """Pattern -> the recommended strategy and a sentence saying why: the least training time among
    the strategies whose store fits the disk; among those within :data:`NEAR` of it, the least
    disk, then the least CPU (then the least time, then the most frames/s to spare)."""
    out: dict[str, tuple[Training, str]] = {}
    for pattern in sorted({t.pattern for t in trainings}):
        mine = [t for t in trainings if t.pattern == pattern and t.strategy.fits_disk]
        if not mine:
            continue
        fastest = min(mine, key=lambda t: (t.training_seconds, t.strategy.name))
        near = [t for t in mine if t.training_seconds <= fastest.training_seconds * (1 + NEAR)]
        best = min(near, key=lambda t: (t.strategy.disk_bytes, math.inf if t.cpu_cores is None else t.cpu_cores,
                                        t.training_seconds, -t.most_fps, t.strategy.name))
        out[pattern] = best, sentence(best, fastest)
    return out


def sentence(best: Training, fastest: Training) -> str:
    """Why ``best`` is recommended, in one sentence."""
    gpus = best.step.gpus
    subject = best.doing()
    subject = subject[0].upper() + subject[1:]
    if best.keeps_up:
        text = f"{subject} keeps {gpus} GPU{'s' if gpus != 1 else ''} fed with {best.workers_words()}"
    else:
        text = (f"{subject} delivers {best.delivered_fps:,.0f} of the {best.target_fps:,.0f} frames/s "
                f"{gpus} GPU{'s' if gpus != 1 else ''} consume with {best.workers_words()}: "
                f"GPU waits {100 * best.gpu_wait_fraction:.0f}% of the time")
    if best.strategy.kind == "decode":
        text += ": no extraction needed"
    else:
        text += f", {_size(best.strategy.disk_bytes)} on disk"
    less = ("disk" if best.strategy.disk_bytes < fastest.strategy.disk_bytes else
            "CPU" if best.cpu_cores is not None and fastest.cpu_cores is not None
            and best.cpu_cores < fastest.cpu_cores else None)
    if best.training_seconds > fastest.training_seconds and less:
        text += (f" (within {100 * NEAR:.0f}% of the fastest, {fastest.doing()}, "
                 f"with less {less})")
    need = best.read_bytes_per_second
    if need is not None:
        text += f"; it reads {_size(int(need))}/s"
    return text + "."


def bound(best: Training) -> str:
    """Whether loading or the model bounds training with ``best``, and by how much."""
    if best.keeps_up:
        headroom = best.most_fps / best.target_fps
        return (f"The model bounds training: {best.doing()} delivers up to {best.most_fps:,.0f} frames/s, "
                f"{headroom:.1f}x the {best.target_fps:,.0f} the GPUs consume, so they never wait for data.")
    short = best.target_fps / best.delivered_fps if best.delivered_fps > 0 else math.inf
    return (f"Loading bounds training: {best.doing()} delivers at most {best.delivered_fps:,.0f} of the "
            f"{best.target_fps:,.0f} frames/s the GPUs consume ({short:.1f}x short), so they wait "
            f"{100 * best.gpu_wait_fraction:.0f}% of the time.")


def measured_read_rate(records: Iterable[Record]) -> float | None:
    """The fastest cold read measured here, bytes per second: a cold epoch's files (evicted from the
    page cache first) over its shortest epoch; a lower bound of the storage's rate, since the
    epoch also decoded. None when the run timed no cold epoch."""
    best = None
    for r in records:
        options = r.options if isinstance(r.options, dict) else {}
        files, seconds = options.get("files_bytes"), valid_seconds(r)
        if r.measure == "epoch" and r.cache == "cold" and r.status == "ok" and isinstance(files, int) and files > 0 \
                and seconds:
            rate = files / min(seconds)
            best = rate if best is None else max(best, rate)
    return best


def bandwidth_words(trainings: Sequence[Training], step: Step, records: Iterable[Record]) -> str:
    """What the read rates are compared against: the bandwidth given, else the fastest cold read
    measured here, else that none was given; with the strategies that need more."""
    if step.storage_bandwidth is not None:
        limit, what = float(step.storage_bandwidth), f"the storage bandwidth given ({_size(step.storage_bandwidth)}/s)"
    else:
        measured = measured_read_rate(records)
        if measured is None:
            return "No storage bandwidth given (--storage-bandwidth) and no cold epoch timed: read rates not compared."
        limit, what = measured, f"the fastest cold read measured here ({_size(int(measured))}/s, a lower bound)"
    over = sorted({t.strategy.name for t in trainings if t.exceeds(limit)})
    if not over:
        return f"Every strategy reads within {what}."
    return f"Need more than {what}: {'; '.join(over)}."


# -- the options of both front doors (python -m benchmarks, python -m reports) ---------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The training step's options; a bad value is a usage error (exit 2)."""
    step = parser.add_mutually_exclusive_group()
    step.add_argument("--step-ms", type=_positive, metavar="T",
                      help="milliseconds of one training step of one batch (--batch-size samples) on one GPU: the "
                           "plan says whether loading keeps the GPUs fed (default: the plan covers loading alone)")
    step.add_argument("--target-fps", type=_positive, metavar="F",
                      help="instead of --step-ms: the frames per second one GPU consumes")
    parser.add_argument("--gpus", type=_gpus, metavar="G",
                        help="data-parallel GPUs on this machine, each with its own DataLoader (default: 1)")
    parser.add_argument("--storage-bandwidth", type=_bandwidth, metavar="RATE",
                        help="what your storage reads, e.g. 500MB/s: strategies that need more are marked, and none "
                             "is credited with more (default: compared with the fastest cold read measured here)")


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The step's options as given on a command line (None: not given), for :func:`step_of`."""
    return {"step_ms": args.step_ms, "target_fps": args.target_fps, "gpus": args.gpus,
            "storage_bandwidth": args.storage_bandwidth}


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: a positive number")
    return value


def _gpus(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of GPUs, at least 1")
    return int(text)


def _bandwidth(text: str) -> int:
    try:
        return parse_bandwidth(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
