"""The answer in one sentence: per access pattern, the strategy with the least total time for the
dataset and its epochs, the other side of the question beside it (the best decoder when the
answer is to extract, the best store when it is to decode), and when extracting pays.

One function decides (:func:`decide`) and one writes the words (:meth:`Verdict.sentence`,
:func:`table`): the terminal's closing lines and the report print the same winner, the same
crossover and the same advice. The advice follows from the totals: "extract if you train for n
epochs or more" holds at every whole epoch count, because n is read off the totals themselves.

Strategies measured by different dependency stacks (run one after another, minutes apart) are
ranked only beyond the machine's drift between those stacks (:mod:`benchmarks.analysis.drift`):
closer than that, the verdict says they are within the drift instead of calling one faster.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from benchmarks.analysis import drift as drift_
from benchmarks.analysis import training
from benchmarks.analysis.crossover import crossover_epochs
from benchmarks.analysis.plan import Strategy, rank
from benchmarks.analysis.refusals import Refusal
from loaders.units import duration, size


class UnknownPattern(ValueError):
    """``--pattern`` names a pattern the run has no strategy for."""


@dataclasses.dataclass(frozen=True)
class Crossover:
    """When a store (made once) pays for itself against decoding on the fly, from projected epochs."""

    store: Strategy  # the side that writes a store once: extract, or transcode
    decode: Strategy  # decoding the original videos
    epochs: float | None  # k*: extracting costs the same as decoding after k* epochs; None: never
    low: float | None  # from the epochs' ranges: decoding slow and the store fast
    high: float | None  # and the other way round; None: may never pay
    # The epochs compared: the strategies' loading epochs, or with a training step the epochs of
    # training (the longer of the GPUs' time and loading's), where a loader that keeps up costs no more.
    decode_epoch: float | None = None
    store_epoch: float | None = None

    @property
    def pays_from(self) -> int | None:
        """The fewest whole epochs at which the store's total is no more than decoding's; None: never."""
        decode = self.decode.epoch_seconds if self.decode_epoch is None else self.decode_epoch
        store = self.store.epoch_seconds if self.store_epoch is None else self.store_epoch
        return pays_from(self.store.extraction_seconds, decode, store)

    def phrase(self) -> str:
        return phrase(self.epochs, self.low, self.high, self.pays_from, str(self.decode.decode_loader),
                      self.store.kind == "transcode")

    @property
    def pair(self) -> str:
        """``simplejpeg on ffmpeg-jpeg-q90 against torchcodec``."""
        s = self.store
        reader = s.frame_loader or s.decode_loader
        return f"{reader} on {s.store.title if s.store else ''} against {self.decode.decode_loader}"


def pays_from(extract_seconds: float, epoch_decode: float, epoch_store: float) -> int | None:
    """The fewest whole epochs (at least 1) after which making the store once and reading it costs no
    more in all than decoding every epoch; None: never. Read off the totals themselves, so that
    "from n epochs" holds at every epoch count (k* is a quotient: near a whole number its rounding
    could disagree with them); totals within a part in a billion are a tie, and a tie counts."""
    k = crossover_epochs(extract_seconds, epoch_decode, epoch_store)
    if k is None:
        return None

    def store_wins(n: int) -> bool:
        store, decode = extract_seconds + n * epoch_store, n * epoch_decode
        return store <= decode * (1 + 1e-9)

    n = max(1, math.ceil(k))
    while n > 1 and store_wins(n - 1):
        n -= 1
    while not store_wins(n):
        n += 1
    return n


def phrase(k: float | None, low: float | None, high: float | None, n: int | None, decoder: str,
           transcode: bool = False) -> str:
    """``extraction pays for itself after 2.4 epochs (2.1-2.9): extract if you train for 3 epochs or
    more`` (``n`` from :func:`pays_from`); a range that reads as one figure is written once."""
    noun, verb = ("transcoding", "transcode") if transcode else ("extraction", "extract")
    if k is None or n is None:
        return f"{noun} never pays for itself here: decode with {decoder}"
    return (f"{noun} pays for itself after {k:.1f} epochs{epoch_range(low, high)}: "
            f"{verb} if you train for {n} epoch{'s' if n != 1 else ''} or more")


def epoch_range(low: float | None, high: float | None) -> str:
    """`` (1.5-2.3)``, `` (1.5-never)``, `` (one epoch timed)`` where both ends are one figure, or
    nothing without a range or where its ends only round to the same figure."""
    if low is None or math.isnan(low):
        return ""
    if high is None or math.isnan(high):
        return f" ({low:.1f}-never)"
    if low == high:  # no spread at all: each side's epochs were timed once
        return " (one epoch timed)"
    # Ends that round to one figure: the figure stands alone (several epochs may have been timed).
    return "" if f"{low:.1f}" == f"{high:.1f}" else f" ({low:.1f}-{high:.1f})"


def crossover(store: Strategy, decode: Strategy, epochs: Mapping[int, float] | None = None) -> Crossover:
    """``store`` against ``decode`` for the dataset: k* and its range from the epochs' ranges; with
    ``epochs`` (id of a strategy -> its epoch of training with the step), k* from those epochs,
    without a range (the step is given, not measured)."""
    x = store.extraction_seconds
    if epochs and id(store) in epochs and id(decode) in epochs:
        d, f = epochs[id(decode)], epochs[id(store)]
        return Crossover(store, decode, crossover_epochs(x, d, f), None, None, d, f)
    low = crossover_epochs(x, decode.epoch_seconds_high, store.epoch_seconds_low)
    high = crossover_epochs(x, decode.epoch_seconds_low, store.epoch_seconds_high)
    return Crossover(store, decode, crossover_epochs(x, decode.epoch_seconds, store.epoch_seconds), low, high)


@dataclasses.dataclass(frozen=True)
class Unranked:
    """A strategy from another dependency stack than the best's that the run cannot rank against it:
    their totals differ by less than the machine's drift between the two stacks, or (said of the
    runner-up alone) no drift was measured between them."""

    strategy: Strategy
    drift: float | None  # the drift between the two stacks (a factor of at least 1); None: not measured

    @property
    def percent(self) -> str:
        return f"{100 * ((self.drift or 1.0) - 1):.0f}%"

    @property
    def short(self) -> str:
        """The verdict table's mark."""
        return "within drift" if self.drift is not None else "other stack, no drift measured"

    @property
    def words(self) -> str:
        """The plan table's mark, beside the strategy's name."""
        if self.drift is not None:
            return f"within the machine's drift of the best ({self.percent} between the stacks)"
        return "measured by another stack than the best, with no drift measured between them"


def unranked(best: Strategy, others: Sequence[Strategy], total: Mapping[int, float],
             drifts: Sequence[drift_.StackDrift]) -> tuple[Unranked, ...]:
    """The strategies of ``others`` (those that fit and were not refused, ranked) from another stack
    than ``best`` whose ``total`` (id -> seconds) differs from the best's by less than the drift
    between the two stacks; and the runner-up, when it is from another stack and no drift was
    measured between them. Equal totals are not a ranking, and need no word."""
    runner = next((s for s in others if s is not best), None)
    out = []
    for s in others:
        if s is best or s.stack is None or best.stack is None or s.stack == best.stack:
            continue
        factor = drift_.between(drifts, best.stack, s.stack)
        if factor is None:
            if s is runner:
                out.append(Unranked(s, None))
        elif total[id(s)] != total[id(best)] and drift_.within_drift(total[id(s)], total[id(best)], factor):
            out.append(Unranked(s, factor))
    return tuple(out)


def _names(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@dataclasses.dataclass(frozen=True)
class Verdict:
    pattern: str
    epochs: int
    best: Strategy | None  # least total time within the disk budget; None: nothing fits
    contrast: Strategy | None  # the best decoder when best keeps a store, else the best store that fits
    crossover: Crossover | None
    left_out: tuple[Strategy, ...]  # strategies that would have been faster but do not fit the disk
    refused: tuple[Refusal, ...] = ()  # loaders that refused sampled videos: never recommended
    # With a training step: id of a strategy -> its training seconds (extraction + E epochs of
    # training), which rank the strategies and are the totals said; empty: loading alone.
    trained: Mapping[int, float] = dataclasses.field(default_factory=dict)
    # Strategies from other stacks than the best's that the run cannot rank against it (:func:`unranked`).
    unranked: tuple[Unranked, ...] = ()

    def unranked_of(self, s: Strategy | None) -> Unranked | None:
        """What keeps ``s`` from being ranked against the best, if anything."""
        return next((u for u in self.unranked if u.strategy is s), None)

    def _within_drift(self) -> str:
        """``; X (torchvision stack, 12.0 min) is within the machine's drift of it: ...``, or nothing."""
        within = [u for u in self.unranked if u.drift is not None]
        if not within or self.best is None:
            return ""
        one = len(within) == 1
        names = _names([f"{u.strategy.name} ({u.strategy.stack} stack, {duration(self.total(u.strategy))})"
                        for u in within])
        stacks = _names(sorted({str(self.best.stack)} | {str(u.strategy.stack) for u in within}))
        largest = max(within, key=lambda u: u.drift or 1.0)
        return (f"; {names} {'is' if one else 'are'} within the machine's drift of it: the {stacks} stacks "
                f"measured one after another, minutes apart, and the same anchor case moved by "
                f"{'' if one else 'up to '}{largest.percent} between them, more than {'the two' if one else 'these'} "
                "differ, so the run cannot rank them")

    def _no_drift(self, s: Strategy) -> str:
        """Of the runner-up from another stack, where no drift was measured between the stacks."""
        b = self.best
        return (f"measured by the {s.stack} stack minutes apart from the {b.stack if b else ''} stack's, and this "
                "run measured no drift between them: part of the difference may be the machine's")

    def crossover_phrase(self) -> str:
        """When the store pays (:meth:`Crossover.phrase`), qualified where its two sides are of different
        stacks within the machine's drift of each other."""
        if self.crossover is None:
            return ""
        apart = self.unranked_of(self.contrast)
        said = self.crossover.phrase()
        if apart is not None and apart.drift is not None:
            said += f", as measured: the drift between the stacks ({apart.percent}) could move it"
        return said

    def total(self, s: Strategy) -> float:
        """The total said for ``s``: its training seconds with a step, else extraction + E loading epochs."""
        return self.trained.get(id(s), s.total_seconds)

    def sentence(self, dataset: str | None = None) -> str:
        """The answer for this pattern, with its total, disk and crossover, in one sentence."""
        whole = f" over {dataset}" if dataset else ""
        where = f"For {self.pattern}, {self.epochs} epochs{whole}"
        where += " of training with the step given" if self.trained else ""
        if self.best is None:
            return f"{where}: no strategy measured fits the disk budget: decode on the fly, or allow more disk."
        b = self.best
        disk = f"{size(b.disk_bytes)} on disk" if b.disk_bytes else "no disk beyond the videos"
        made = f", {duration(b.extraction_seconds)} of it making the store once" if b.store is not None else ""
        text = f"{where}: {b.name}, {duration(self.total(b))} in all ({disk}{made})"
        apart = self.unranked_of(self.contrast)
        if self.contrast is not None and (apart is None or apart.drift is None):  # within the drift: said below
            more = self.total(self.contrast) - self.total(b)
            text += (f"; {self.contrast.name} would take {duration(more)} more" if more > 0 else
                     f"; {self.contrast.name} would take as long, with {'more' if b.store is None else 'less'} disk")
            text += f", but it was {self._no_drift(self.contrast)}" if apart is not None else ""
        text += self._within_drift()
        runner = next((u.strategy for u in self.unranked if u.drift is None and u.strategy is not self.contrast), None)
        if runner is not None:
            text += (f"; next is {runner.name}, {duration(self.total(runner))}, {self._no_drift(runner)}")
        if self.crossover is not None:
            text += f"; {self.crossover_phrase()}"
        text += "."
        if self.left_out:  # faster, but over the disk: say so, so the answer is not mistaken for the fastest
            s = self.left_out[0]
            text += (f" {s.name[0].upper()}{s.name[1:]} would take {duration(self.total(s))}, but its store "
                     f"({size(s.disk_bytes)}) does not fit the disk budget.")
        if self.refused:
            text += " Not recommended: " + "; ".join(f"{r.loader} {r.words()}" for r in self.refused) + "."
        return text


def refused_by(s: Strategy, refused: Mapping[str, Refusal]) -> Refusal | None:
    """What the strategy's loader refused of the sample, if anything."""
    return refused.get(s.decode_loader or "") or refused.get(s.frame_loader or "")


def decide(strategies: Sequence[Strategy], pattern: str | None = None,
           refused: Mapping[str, Refusal] | None = None, trained: Mapping[int, float] | None = None,
           epochs: Mapping[int, float] | None = None, prefer: Mapping[str, Strategy] | None = None,
           drifts: Sequence[drift_.StackDrift] | None = None) -> list[Verdict]:
    """One verdict per pattern (only ``pattern`` when given), from the plan's strategies; a
    strategy whose loader ``refused`` sampled videos is never the answer nor its contrast.

    With the run's ``drifts`` (:func:`benchmarks.analysis.drift.drift`; None: not assessed), a
    strategy from another stack than the best's whose total is within the machine's drift of the
    best's is not ranked against it (:func:`unranked`).

    With a training step (:mod:`benchmarks.analysis.training`): ``trained`` (id of a strategy ->
    its training seconds) ranks them, ``epochs`` (id -> its epoch of training) gives the
    crossover, and ``prefer`` (pattern -> the training recommendation, which among strategies
    within a few percent of the fastest takes the least disk and CPU) is the answer, so the
    verdict and the training line name one strategy."""
    refused = refused or {}
    trained = trained or {}
    prefer = prefer or {}
    out = []
    measured = sorted({s.pattern for s in strategies})
    if pattern is not None and pattern not in measured:
        raise UnknownPattern(f"no strategy was measured for the pattern {pattern!r}; "
                             f"this run has {', '.join(measured)}")
    patterns = measured if pattern is None else [pattern]
    for p in patterns:
        mine = [s for s in rank(strategies) if s.pattern == p]
        if not mine:
            continue
        if trained:
            mine.sort(key=lambda s: (not s.fits_disk, trained.get(id(s), s.total_seconds)))
        fitting = [s for s in mine if s.fits_disk and refused_by(s, refused) is None]
        best = fitting[0] if fitting else None
        if prefer.get(p) is not None and any(s is prefer[p] for s in fitting):
            best = prefer[p]
        decoders = [s for s in fitting if s.kind == "decode"]
        stores = [s for s in fitting if s.kind != "decode"]
        contrast, cross = None, None
        if best is not None and best.kind == "decode":
            contrast = stores[0] if stores else None
            cross = crossover(contrast, best, epochs) if contrast else None
        elif best is not None:
            contrast = decoders[0] if decoders else None
            cross = crossover(best, contrast, epochs) if contrast else None
        total = {id(s): trained.get(id(s), s.total_seconds) for s in mine}
        faster = tuple(s for s in mine if not s.fits_disk and (best is None or total[id(s)] < total[id(best)]))
        apart = unranked(best, fitting, total, drifts) if best is not None and drifts is not None else ()
        out.append(Verdict(p, mine[0].epochs, best, contrast, cross, faster, tuple(refused.values()),
                           {i: t for i, t in trained.items() if i in total}, apart))
    return out


def with_training(strategies: Sequence[Strategy], trainings: Sequence[training.Training],
                  pattern: str | None = None, refused: Mapping[str, Refusal] | None = None,
                  drifts: Sequence[drift_.StackDrift] | None = None) -> list[Verdict]:
    """:func:`decide` with the training step's figures (``trainings``: each strategy against the
    step, none without one): the verdict and the training line then name the same strategy."""
    chosen = {p: t.strategy for p, (t, _) in training.recommend(trainings).items()}
    return decide(strategies, pattern, refused, {id(t.strategy): t.training_seconds for t in trainings},
                  {id(t.strategy): t.epoch_seconds for t in trainings}, chosen, drifts)


def headline(verdicts: Sequence[Verdict], dataset: str | None = None) -> str:
    """The one sentence above the verdict's table: the answer for one pattern, or what the table
    of several holds."""
    if len(verdicts) == 1:
        return verdicts[0].sentence(dataset)
    if not verdicts:
        return "No strategy could be projected: the run has no epoch timing to plan with."
    whole = f" over {dataset}" if dataset else ""
    return (f"The best strategy per access pattern for {verdicts[0].epochs} epochs{whole}, by total time "
            "within the disk budget (--pattern picks yours):")


TABLE_ONE = ("", "strategy", "total", "disk", "making the store", "the store pays after", "store if you train for")
TABLE_EACH = ("pattern", "best strategy", "total", "disk", "against", "the store pays after", "store if you train for")


def _pays(c: Crossover | None) -> list[str]:
    """The crossover's two cells: after how many epochs (with its range), and the advice."""
    if c is None:
        return ["", ""]
    if c.epochs is None or c.pays_from is None:
        return ["never", "never"]
    n = c.pays_from
    return [f"{c.epochs:.1f} epochs{epoch_range(c.low, c.high)}", f"{n} epoch{'s' if n != 1 else ''} or more"]


def table(verdicts: Sequence[Verdict]) -> tuple[tuple[str, ...], list[list[str]]]:
    """The verdict's small table, as text: for one pattern, the best strategy and its contrast (and
    strategies of other stacks within the machine's drift of the best); for several, one row per
    pattern. A strategy the verdict cannot rank against the best is marked (:attr:`Unranked.short`)."""
    if len(verdicts) == 1:
        v = verdicts[0]
        rows = []
        within = [u.strategy for u in v.unranked if u.drift is not None and u.strategy is not v.contrast]
        for what, s in (("best", v.best), ("against", v.contrast), *(("within drift", s) for s in within)):
            if s is not None:
                apart = v.unranked_of(s) if what == "against" else None
                rows.append([f"{what} ({apart.short})" if apart else what, s.name, duration(v.total(s)),
                             size(s.disk_bytes) if s.disk_bytes else "none",
                             duration(s.extraction_seconds) if s.store is not None else "none",
                             # the crossover on the store's row: when that store pays against decoding
                             *(_pays(v.crossover) if v.crossover and s is v.crossover.store else ["", ""])])
        return TABLE_ONE, rows
    rows = []
    for v in verdicts:
        against = f"{v.contrast.name}: {duration(v.total(v.contrast))}" if v.contrast else ""
        if (apart := v.unranked_of(v.contrast)) is not None:
            against += f" ({apart.short})"
        if v.best is None:
            rows.append([v.pattern, "nothing fits the disk", "", "", against, "", ""])
            continue
        near = [u.strategy.loader_label for u in v.unranked if u.drift is not None and u.strategy is not v.contrast]
        best = v.best.name + (f" (within drift: {', '.join(near)})" if near else "")
        rows.append([v.pattern, best, duration(v.total(v.best)),
                     size(v.best.disk_bytes) if v.best.disk_bytes else "none", against, *_pays(v.crossover)])
    return TABLE_EACH, rows
