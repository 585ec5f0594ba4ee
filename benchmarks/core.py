"""The measurement core: which cases a run has, what each is called, and how one is measured.

Both front doors stand on it: ``python -m benchmarks`` (:mod:`benchmarks.cli`) and
``pytest --benchmark-only`` (:mod:`benchmarks.conftest`, :mod:`benchmarks.test_perframe`). They
share the defaults (:data:`SETTINGS`), the loaders a stack runs (:func:`loader_names`), video
discovery (:func:`find_videos`), the cases (:func:`cases`), their cell keys (:attr:`Case.cell`)
and the records (:meth:`Workspace.measure`); only the timer differs (pytest-benchmark's
``pedantic`` over the rounds :meth:`Calibration.plan` gives, one benchmark at a time; the command
line takes the rounds of every loader and pattern on one video in turns,
:meth:`Workspace.measure_interleaved`, with the same calibration rule per case).

Epochs of every loader of one pattern and workers setting are interleaved epoch by epoch
(:meth:`Workspace.epochs`), so load drift on a shared machine hits both sides of a crossover
pair alike. An epoch case is warm (its files read into the page cache first) or cold (its files
evicted from it first, :mod:`benchmarks.cache`); both kinds of one group are interleaved alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import loaders
from benchmarks import cache, corpus, env, patterns, perframe, runner, stores, verify, videos
from benchmarks.budget import QUICK_FRAMES_PER_VIDEO
from benchmarks.calibration import Calibration, time_round
from benchmarks.patterns import Pattern, Sample
from benchmarks.records import Record
from benchmarks.spec import RunSpec, Store, Target, Video
from loaders.registry import gpu_names
from loaders.vocabulary import BASELINE, FORMATS, FRAMES

log = logging.getLogger(__name__)

QUICK_PROFILES = ["h264-360p-gop1s-bf"]
# random-clip's strides in a default run: one, so that random-batch's cases fit the time a full
# run had (``--strides 1,2`` adds stride 2 back).
DEFAULT_STRIDES = (1,)
DEFAULT_FORMATS = FORMATS
QUICK_FORMATS = ("jpeg",)  # one store format: npy of two 8 s 1080p clips is 3 GB, their png took over 10 minutes here


@dataclasses.dataclass(frozen=True)
class Settings:
    """How much each case is measured: the defaults both front doors start from."""

    # Frames per per-frame case (whole samples: at least this many; a clip pattern reads one clip
    # of 16). Fast loaders reach the minimum time with many rounds; slow ones (random access on
    # long GOPs) stop at the minimum count, so this sets their cost: 8 and a minimum of 0.5 s keep
    # a full run within 20 minutes (see the README on what the defaults trade).
    frames: int = 8
    calibration: Calibration = Calibration(min_time=0.5)
    epochs: int = 3  # timed epochs per epoch cell; the first is kept and also reported alone
    batch_size: int = 8
    resize: int = 224  # an epoch's frames are resized to resize x resize (--size), so batches stack
    # Epochs read the first this many frames of each video (None: all): how --quick and --budget
    # bound the epochs on long or large videos. Records carry it in options["frames_per_video"].
    frames_per_video: int | None = None


SETTINGS = {"default": Settings(), "quick": Settings(calibration=Calibration(min_time=0.2))}
# An epoch cell's epochs go on until they add up to this many times the per-frame cases' minimum
# time (2 s by default, 0.8 s under --quick, none with --min-time 0; RunSpec.epoch_count).
EPOCH_TIME = 4

# A timer runs ``fn`` (with the untimed ``setup`` before each round) and returns every round's seconds.
Timer = Callable[[Callable[[], object], Callable[[], object] | None], list[float]]


def default_workers() -> list[int]:
    """DataLoader workers of an epoch cell by default: one per core, as a tuned training script
    runs. Three interleaved epochs at two settings would not fit a full run in 20 minutes."""
    return [env.cores()]


CACHES = ("cold", "warm")
# --cold-sizes' words for what decoders read: the original videos and the transcoded stores
# (decoding them is bound by the CPU, not the disk: cold epochs only on request).
VIDEOS, TRANSCODES = "videos", "transcodes"
# Timed per frame but not in epochs by default: the two that pay a seek or an open per call, the
# worst cases, whose epochs took longer than those of all the other decoders of their stacks.
PER_FRAME_ONLY = ("cv2-seek", "torchvision-read_video")


def cache_states(target: Target, states: Sequence[str], cold_sizes: Sequence[int | str | None]) -> list[str]:
    """The page-cache states ``target``'s epochs are measured in, of ``states`` (``--cache``): cold
    only for what ``cold_sizes`` (``--cold-sizes``) names; the baseline reads nothing: warm."""
    if target.loader == BASELINE:
        return ["warm"]
    store = target.store
    if store is None:
        cold = VIDEOS in cold_sizes
    else:
        cold = (TRANSCODES in cold_sizes and store.store_size in cold_sizes) if store.transcoded \
            else store.store_size in cold_sizes
    return [c for c in states if c == "warm" or cold] or ["warm"]


def run_spec(values: Any, videos: Mapping[str, Video], stack: str) -> RunSpec:
    """The run both front doors measure, from the options of ``python -m benchmarks``
    (:func:`benchmarks.cli.parser`; the pytest front door's ``--vidbench-*`` are the same options,
    the others at their defaults): its targets, patterns, stores, rounds, epochs and workers, the
    page-cache states of its epochs and the videos it reads. The one place an option becomes a run."""
    base = SETTINGS["quick" if values.quick else "default"]
    calibration = Calibration(
        min_time=base.calibration.min_time if values.min_time is None else values.min_time,
        min_rounds=values.min_rounds or base.calibration.min_rounds,
        warmup=base.calibration.warmup if values.warmup is None else values.warmup)
    formats = values.formats or list(QUICK_FORMATS if values.quick else DEFAULT_FORMATS)
    store_list = stores.specs(values.extractors, formats, values.quality, values.store_sizes, values.full_size) + \
        stores.transcodes(values.gops, values.crf, values.transcode_sizes)
    targets = perframe.targets(loader_names(values.loaders, stack, values.device), store_list, values.transcode_loaders)
    available = loaders.available()
    live = [t for t in targets if available[t.loader] is None]
    states = values.cache or list(CACHES)
    batch_size = values.batch_size or base.batch_size
    return RunSpec(
        videos=dict(videos), targets=targets,
        patterns=patterns.parse(values.patterns, values.clip_len, values.strides, values.k, values.seed, batch_size),
        decoders=[t.key for t in live if t.kind != FRAMES], readers=[t.key for t in live if t.kind == FRAMES],
        stores=[s for s in store_list if any(t.store == s for t in live)], frames=values.frames or base.frames,
        calibration=calibration, epochs=values.epochs or base.epochs,
        workers=values.workers if values.workers is not None else default_workers(), cores=env.cores(),
        measures=frozenset(values.measures),
        frames_per_video=QUICK_FRAMES_PER_VIDEO if values.quick else None,
        sizes={t.key: t.store.store_size for t in live if t.store is not None},
        gops={t.key: t.store.gop for t in live if t.store is not None and t.store.gop is not None},
        formats={t.key: t.store.format for t in live if t.store is not None},
        caches={t.key: 0 if t.loader in values.per_frame_only else len(cache_states(t, states, values.cold_sizes))
                for t in live},
        first_video_only=frozenset(t.key for t in live if values.store_videos == "one" and fixed_size(t)),
        batch_size=batch_size, resize=values.size, epoch_min_time=EPOCH_TIME * calibration.min_time,
        device=values.device)


def spec_for(videos: Mapping[str, str], settings: Settings = SETTINGS["default"]) -> RunSpec:
    """A run of ``videos`` (name -> path, frames probed when first needed) measured as ``settings``
    says, with no targets of its own: for a :class:`Workspace` that is handed its cases."""
    return RunSpec(videos={n: Video(path=p) for n, p in videos.items()}, patterns=(), decoders=(), readers=(),
                   stores=(), frames=settings.frames, calibration=settings.calibration, epochs=settings.epochs,
                   workers=(), cores=env.cores(), frames_per_video=settings.frames_per_video,
                   batch_size=settings.batch_size, resize=settings.resize)


def find_videos(folder: Path) -> dict[str, str]:
    """Videos of a folder by name: the stem, or the file name where two share a stem (a.mp4, a.mkv).

    :class:`benchmarks.videos.NothingToMeasure` says what a folder without videos lacks."""
    found = videos.find(folder)
    stems = [p.stem for p in found]
    return {p.stem if stems.count(p.stem) == 1 else p.name: str(p) for p in found}


def loader_names(requested: Sequence[str] | None, stack: str, device: str = "cpu") -> list[str]:
    """The loaders a run measures: those asked for, else the stack's own (and, in the main
    stack, the baseline, once per run), and with a CUDA ``device`` the GPU loaders besides."""
    if requested:
        unknown = [n for n in requested if n not in loaders.REGISTRY]
        if unknown:
            raise SystemExit(f"unknown loader(s) {unknown}; known: {', '.join(loaders.REGISTRY)}")
        return list(dict.fromkeys(requested))
    own = loaders.STACKS.get(stack, list(loaders.REGISTRY))
    own = [*own, BASELINE] if stack == "main" and BASELINE not in own else list(own)
    if device.startswith("cuda"):
        own += [n for n in gpu_names() if n not in own]
    return own


def cell(*parts: object) -> str:
    return "|".join(str(p) for p in parts)


def params(pattern: Pattern) -> str:
    return ",".join(f"{k}={v}" for k, v in pattern.params().items())


def reason(exc: BaseException) -> str:
    """One line for a record: the error's type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


@dataclasses.dataclass(frozen=True)
class Case:
    """One per-frame measurement: opening a source, or reading a pattern's samples from one."""

    measure: Literal["open", "per_frame"]
    target: Target
    profile: str  # the video's name in the run
    pattern: Pattern | None = None  # None for "open"
    frames: int = 0  # frames per case ("per_frame")

    @property
    def cell(self) -> str:
        stack = loaders.current_stack()
        if self.pattern is None:
            return cell("open", stack, self.target.key, self.profile)
        return cell("per_frame", stack, self.target.key, self.profile, self.pattern.name, params(self.pattern),
                    self.frames)

    @property
    def id(self) -> str:  # noqa: A003 - pytest's word
        return "-".join(x for x in (self.target.key, self.profile, self.pattern.name if self.pattern else "") if x)


STORE_VIDEOS = ("one", "all")
# Per-frame rounds in turns (Workspace.measure_interleaved): seconds of rounds a case gets per turn,
# and the round length below which a turn starts with an untimed round. Measured here, rounds of
# 7 ms (a 256 px JPEG store read by PIL) took 8.5 ms right after another loader's round.
TURN = 0.05
REWARM = 0.02


def cases(targets: Sequence[Target], profiles: Iterable[str], pattern_list: Sequence[Pattern],
          frames: int, store_videos: str = "one") -> list[Case]:
    """Per video: every target's open, then per pattern every target (a pattern's reference frames
    are decoded once for all of them).

    A store at a fixed short side (a frame store or a transcode at 256) holds frames of the same
    size whatever the video's resolution and keyframe interval, so with ``store_videos="one"`` its
    cases run on the first video only ("all": on every video). Its epochs still read every video."""
    if store_videos not in STORE_VIDEOS:
        raise ValueError(f"store_videos must be one of {', '.join(STORE_VIDEOS)}, got {store_videos!r}")
    out: list[Case] = []
    for n, profile in enumerate(profiles):
        mine = [t for t in targets if n == 0 or store_videos == "all" or not fixed_size(t)]
        out += [Case("open", t, profile) for t in mine]
        out += [Case("per_frame", t, profile, p, frames) for p in pattern_list for t in mine]
    return out


def fixed_size(target: Target) -> bool:
    """Whether ``target`` reads a store at a fixed short side (its frames the same size whatever the video)."""
    return target.store is not None and target.store.store_size is not None


def groups(case_list: Sequence[Case]) -> list[list[Case]]:
    """``case_list`` in order, cut into the groups a run times together: each open case alone, and
    the consecutive per-frame cases of one video (see :meth:`Workspace.measure_interleaved`)."""
    out: list[list[Case]] = []
    for case in case_list:
        last = out[-1][-1] if out else None
        if (case.measure == "per_frame" and last is not None and last.measure == "per_frame"
                and last.profile == case.profile):
            out[-1].append(case)
        else:
            out.append([case])
    return out


@dataclasses.dataclass(frozen=True)
class EpochCase:
    """Whole epochs of one pattern over the video set through a DataLoader."""

    target: Target
    pattern: Pattern
    workers: int
    corpus: str  # the name of the video set
    batch_size: int
    resize: int  # the epoch's square output, pixels a side
    cache: str | None = None  # "cold", "warm" (see benchmarks.cache); None: the page cache left as it is
    device: str = "cpu"  # where the epoch delivers its batches: "cpu", or "cuda" (see benchmarks.runner)

    @property
    def cell(self) -> str:
        return cell("epoch", loaders.current_stack(), self.target.key, self.corpus, self.pattern.name,
                    params(self.pattern), f"w{self.workers}", f"b{self.batch_size}", f"s{self.resize}",
                    *([self.cache] if self.cache else []), *([self.device] if self.device != "cpu" else []))

    @property
    def workers_run(self) -> int:
        """The DataLoader workers that run: a GPU loader decodes in the main process."""
        return 0 if loaders.REGISTRY[self.target.loader].gpu else self.workers

    def identity(self) -> Record:
        return perframe.record(self.target, "epoch", self.corpus, pattern=self.pattern.name,
                               workers=self.workers_run, batch_size=self.batch_size, cache=self.cache,
                               options={"device": self.device})


def stamp(record: Record, cell_key: str, run_id: str) -> Record:
    """Fill in what every record of a run carries: its cell, run, time and environment."""
    record.cell = cell_key
    record.run_id = run_id
    record.time = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    record.env = {**env.capture(), "threads": record.threads}
    return record


class Workspace:
    """Videos, stores, samples, reference frames and verdicts, each made once, and the
    measurement of one case into a record."""

    def __init__(self, spec: RunSpec, store_root: Path) -> None:
        self.spec = spec  # the run's videos (path and frames) and how much each case is measured
        self.store_root = store_root
        self.store_of: dict[tuple[str, Store], Path] = {}
        self.store_error: dict[tuple[str, Store], str] = {}
        self.verdicts: dict[tuple[str, str, str], verify.Verdict] = {}
        # (video, pattern) -> store size -> reference frames
        self.refs: dict[tuple[str, str], dict[int | None, dict[int, Any]]] = {}

    # -- inputs -------------------------------------------------------------------------------------
    def video(self, profile: str) -> str:
        """The path of the run's video ``profile``; a built-in profile without one is made now."""
        video = self.spec.videos[profile]
        if not video.path:
            self._replace(profile, Video(path=str(corpus.make(profile))))
        return self.spec.videos[profile].path

    def num_frames(self, video: str) -> int:
        """The frames of the run's video at path ``video`` (probed now where the run has no count)."""
        profile = next((p for p, v in self.spec.videos.items() if v.path == video), None)
        if profile is None:
            raise KeyError(f"{video} is not among the run's videos")
        known = self.spec.videos[profile]
        if not known.frames:
            from loaders.probe import probe

            self._replace(profile, dataclasses.replace(known, frames=probe(video).num_frames))
        return self.spec.videos[profile].frames

    def _replace(self, profile: str, video: Video) -> None:
        self.spec = dataclasses.replace(self.spec, videos={**self.spec.videos, profile: video})

    def ensure_store(self, video: str, spec: Store) -> None:
        """Extract ``video`` for ``spec`` unless done; a failure is kept and fails its cells only."""
        if (video, spec) in self.store_of or (video, spec) in self.store_error:
            return
        try:
            self.store_of[video, spec] = stores.ensure(self.store_root, video, spec)
        except Exception as exc:  # noqa: BLE001 - a store that cannot be made fails its cells only
            self.store_error[video, spec] = reason(exc)

    def path_for(self, target: Target, video: str) -> str:
        """What ``target`` opens for ``video``: the video, a frame store, or a transcoded store's video."""
        if target.store is None:
            return video
        self.ensure_store(video, target.store)
        if (video, target.store) in self.store_error:
            raise loaders.LoaderError(video, f"no {target.store.label} store: {self.store_error[video, target.store]}")
        return str(stores.opened_path(self.store_of[video, target.store], target.store))

    def samples(self, video: str, pattern: Pattern) -> list[Sample]:
        """The samples a per-frame case reads: the pattern's first, ``frames`` frames at least."""
        return patterns.head(pattern.samples({video: self.num_frames(video)}), self.spec.frames)

    def verdict(self, target: Target, video: str, pattern: Pattern,
                src: loaders.Source | None = None) -> verify.Verdict:
        """Whether ``target`` reads the right frames for the per-frame samples of ``video`` (cached)."""
        key = (target.key, video, pattern.name)
        if key not in self.verdicts:
            samples = self.samples(video, pattern)
            size = target.store.store_size if target.store else None
            if (video, pattern.name) not in self.refs:
                self.refs.clear()  # reference frames can be large: one video and pattern at a time
                self.refs[video, pattern.name] = {}
            at_sizes = self.refs[video, pattern.name]
            if size not in at_sizes:  # one decode of the video for every size the run's targets read
                sizes = {size} | {t.store.store_size if t.store else None for t in self.spec.targets}
                at_sizes.update(verify.reference_sets(video, samples, self.num_frames(video),
                                                      sorted(sizes - at_sizes.keys(), key=lambda s: s or 0)))
            ref = at_sizes[size]
            calls = patterns.calls(pattern, samples)
            if src is None:
                with loaders.open(target.loader, self.path_for(target, video)) as opened:
                    self.verdicts[key] = perframe.check(target, opened, calls, ref)
            else:
                self.verdicts[key] = perframe.check(target, src, calls, ref)
        return self.verdicts[key]

    # -- one case -----------------------------------------------------------------------------------
    def identity(self, case: Case) -> Record:
        """The record a case writes when it fails before measuring anything."""
        return perframe.record(case.target, case.measure, case.profile,
                               pattern=case.pattern.name if case.pattern else None)

    def measure(self, case: Case, timer: Timer | None = None) -> Record:
        """Verify and time one case; ``timer`` defaults to the calibrated rounds of the run."""
        calibration = self.spec.calibration
        timer = timer or calibration.time
        target, video = case.target, self.video(case.profile)
        path = self.path_for(target, video)
        if case.pattern is None:
            seconds = timer(lambda: perframe.open_close(target, path), None)
            return perframe.record(target, "open", case.profile, seconds=seconds,
                                 options={**calibration.options(), "rounds": len(seconds)})
        with loaders.open(target.loader, path) as src:
            read = self._reading(case, src)
            if isinstance(read, Record):
                return read
            seconds = timer(read.round, read.setup)
        return read.record(seconds, calibration, interleaved=False)

    def measure_interleaved(self, group: Sequence[Case], turn: float = TURN,
                            rewarm: float = REWARM) -> Iterator[tuple[Case, Record]]:
        """Verify and time the per-frame cases of ``group`` (those of one video, every pattern) with
        their rounds taken in turns: each case not yet done gets ``turn`` seconds of rounds (at
        least one; its warm-up rounds first on its first turn), in order, again and again, until
        every case has its minimum time and count. A case's rounds are then spread over
        the whole group's seconds, not bunched into its own fraction of one, so a moment of load on
        a shared machine hits every loader alike and no case's median rests on one such moment.
        A target opens one source for all its patterns (each round starts from frame 0 anyway).
        Yields each case with its record; a case that cannot open or reads a wrong frame fails alone.
        """
        calibration = self.spec.calibration
        live: dict[Case, _Reading] = {}
        with contextlib.ExitStack() as stack:
            opened: dict[tuple[Target, str], loaders.Source] = {}  # one source per target and video
            for case in group:
                if case.pattern is None:
                    raise ValueError(f"{case.id}: only per-frame cases are interleaved, not opens")
                try:
                    key = (case.target, case.profile)
                    if key not in opened:
                        opened[key] = stack.enter_context(
                            loaders.open(case.target.loader, self.path_for(case.target, self.video(case.profile))))
                    read = self._reading(case, opened[key])
                except Exception as exc:  # noqa: BLE001 - one failing case must not lose the group
                    yield case, dataclasses.replace(self.identity(case), status="error", reason=reason(exc))
                    continue
                if isinstance(read, Record):
                    yield case, read
                else:
                    live[case] = read
            seconds: dict[Case, list[float]] = {case: [] for case in live}
            failed: dict[Case, Record] = {}
            while live:
                for case, read in list(live.items()):
                    mine = seconds[case]
                    # Untimed first: the warm-up rounds on the first turn, later one round when
                    # rounds are short, so a round does not pay for the CPU caches the other
                    # loaders' rounds took (a training worker runs its own loader alone).
                    for _ in range(calibration.warmup if not mine else int(mine[-1] < rewarm)):
                        self._round(case, read, failed)
                    spent = 0.0
                    while case not in failed and not calibration.done(mine) and (spent < turn or not spent):
                        took = self._round(case, read, failed)
                        if took is not None:
                            mine.append(took)
                            spent += took
                    if case in failed or calibration.done(mine):  # said as soon as it is over
                        del live[case]
                        yield case, failed.get(case) or read.record(mine, calibration, interleaved=True)

    def _round(self, case: Case, read: _Reading, failed: dict[Case, Record]) -> float | None:
        """Seconds of one round of ``case``; None when it failed (the case is then in ``failed``)."""
        if case in failed:
            return None
        try:
            return time_round(read.round, read.setup)
        except Exception as exc:  # noqa: BLE001 - one failing case must not lose the group
            failed[case] = dataclasses.replace(self.identity(case), status="error", reason=reason(exc))
            return None

    def _reading(self, case: Case, src: loaders.Source) -> _Reading | Record:
        """What a per-frame case reads from the open ``src``, once verified; a "wrong" record if not right."""
        target, video, pattern = case.target, self.video(case.profile), case.pattern
        assert pattern is not None
        samples = self.samples(video, pattern)
        calls = patterns.calls(pattern, samples)
        fields: dict[str, Any] = {
            "pattern": pattern.name, "frames": perframe.frames_in(samples),
            "options": {"pattern": pattern.params(), "samples": len(samples), "calls": len(calls)}}
        verdict = self.verdict(target, video, pattern, src)
        if verdict.wrong is not None:
            return perframe.record(target, "per_frame", case.profile, status="wrong", exact=False, reason=verdict.wrong,
                                 **fields)
        return _Reading(case, src, calls, fields, verdict)

    # -- epochs -------------------------------------------------------------------------------------
    def epochs(self, group: Sequence[EpochCase], videos: Sequence[str],
               annotations: runner.Annotations | None = None) -> Iterator[tuple[EpochCase, Record]]:
        """Time ``spec.epochs`` epochs of every case, interleaved: epoch 1 of each case (in an
        order that rotates from one epoch to the next), then epoch 2, and so on; a case whose
        epochs add up to less than ``spec.epoch_min_time`` goes on among the others still short
        (:meth:`RunSpec.epochs_done`). Yields each case with its record when its last epoch is
        done, or as soon as it fails."""
        failed: dict[EpochCase, str] = {}
        for video in videos:  # video first: its reference frames are decoded once for every case
            for case in group:
                try:
                    if case not in failed:
                        self.verdict(case.target, video, case.pattern)
                except Exception as exc:  # noqa: BLE001 - one failing cell must not lose the run
                    failed[case] = reason(exc)
        live: dict[EpochCase, _Epochs] = {}
        for case in group:
            try:
                if case not in failed:
                    live[case] = self._prepare_epochs(case, videos, annotations)
            except Exception as exc:  # noqa: BLE001
                failed[case] = reason(exc)
            if case in failed:
                yield case, dataclasses.replace(case.identity(), status="error", reason=failed[case])
        for case, state in list(live.items()):
            if state.record is not None:  # wrong frames: never timed
                del live[case]
                yield case, state.record
        epoch = 0
        with runner.frozen():  # one pass of the collector over the run's objects, not one an epoch
            while live:
                order = list(live)
                order = order[epoch % len(order):] + order[:epoch % len(order)]
                epoch += 1
                for case in order:
                    state = live[case]
                    try:
                        self._set_cache(case, state)
                        result = runner.run(state.dataset, case.workers, case.batch_size, 1, state.threads)
                    except Exception as exc:  # noqa: BLE001 - one failing cell must not lose the run
                        del live[case]
                        yield case, dataclasses.replace(case.identity(), status="error", reason=reason(exc))
                        continue
                    state.seconds += result.seconds
                    state.first_batch += result.first_batch
                    state.last_batch += result.last_batch
                    state.cpu += result.cpu_seconds
                    state.peak = max(state.peak, result.peak_rss_bytes)
                    state.threads_used = result.threads
                    if self.spec.epochs_done(state.seconds):
                        del live[case]
                        yield case, self._epoch_record(case, state, bool(annotations))

    def epoch_lengths(self, videos: Iterable[str]) -> dict[str, int]:
        """Frames of each video an epoch covers: all, or the first ``spec.frames_per_video``."""
        cap = self.spec.frames_per_video
        return {v: self.num_frames(v) if cap is None else min(cap, self.num_frames(v)) for v in videos}

    @staticmethod
    def _set_cache(case: EpochCase, state: _Epochs) -> None:
        """Before an epoch (untimed): its files evicted from the page cache (cold) or read into it (warm)."""
        if case.cache is None:
            return
        after = cache.evict(state.files) if case.cache == "cold" else cache.load(state.files)
        state.files_bytes = after.bytes
        # Cold: the most that stayed resident over the epochs; warm: the least that was loaded.
        if case.cache == "cold":
            state.resident = max(state.resident or 0, after.resident_bytes)
            if after.fraction > 0.01:  # recorded in the record's options too; said now, while it matters
                log.warning("%s: %.0f%% of its %d files stayed in the page cache after eviction (mapped by a "
                            "live process, or a file system that ignores the advice): this epoch is not cold",
                            case.cell, 100 * after.fraction, after.files)
        else:
            state.resident = min(state.resident if state.resident is not None else after.bytes,
                                 after.resident_bytes)

    def _prepare_epochs(self, case: EpochCase, videos: Sequence[str],
                        annotations: runner.Annotations | None) -> _Epochs:
        target, pattern = case.target, case.pattern
        samples = pattern.samples(self.epoch_lengths(videos))
        state = _Epochs(samples=samples, exact=True)
        for video in videos:
            verdict = self.verdict(target, video, pattern)
            if verdict.wrong is not None:
                state.record = perframe.record(target, "epoch", case.corpus, status="wrong", exact=False,
                                               cache=case.cache, reason=f"{video}: {verdict.wrong}",
                                               **self._epoch_fields(case, samples))
                return state
            state.exact = state.exact and verdict.exact
        paths = {v: self.path_for(target, v) for v in videos}
        state.dataset = runner.SampleDataset(target.loader, samples, paths, size=case.resize, annotations=annotations,
                                             batched=pattern.batched, device=case.device)
        # The files an epoch reads: the videos, the stores' folders, a transcoded store's video.
        state.files = list(paths.values()) if target.loader != BASELINE else []
        state.threads = runner.threads_per_worker(case.workers_run, env.cores())
        return state

    @staticmethod
    def _epoch_fields(case: EpochCase, samples: Sequence[Sample]) -> dict[str, Any]:
        return {"pattern": case.pattern.name, "workers": case.workers_run, "batch_size": case.batch_size,
                "frames": perframe.frames_in(samples)}

    def _epoch_record(self, case: EpochCase, state: _Epochs, annotated: bool) -> Record:
        options = {"pattern": case.pattern.params(), "size": case.resize, "samples": len(state.samples),
                   "epochs": len(state.seconds), "interleaved": True, "annotations": annotated,
                   "frames_per_video": self.spec.frames_per_video, "device": case.device,
                   "video_frames": sum(self.epoch_lengths({s.video for s in state.samples}).values()),
                   "first_batch_seconds": state.first_batch, "last_batch_seconds": state.last_batch,
                   "cpu_seconds": state.cpu,
                   "opens": runner.opens(state.samples, case.batch_size, case.workers_run)}
        if case.workers_run and case.device == "cpu" and state.samples:
            # What handing this case's batches to the main process costs the workers, a frame: what
            # the epoch model paces the workers of a pattern by against the run's others.
            frames = max(1, round(perframe.frames_in(state.samples) / len(state.samples)))
            try:
                options["handoff_cpu_seconds"] = runner.handoff(frames, case.resize, case.batch_size,
                                                                case.workers_run)
            except Exception as exc:  # noqa: BLE001 - the epochs are timed: a figure short is no case lost
                log.warning("%s: the hand-off of its batches not timed: %s", case.cell, reason(exc))
        if case.cache is not None:
            # What the page cache held of the epoch's files before each epoch: for a cold epoch the
            # most that stayed resident despite the eviction, for a warm one the least that was loaded.
            options.update(files_bytes=state.files_bytes, resident_bytes=state.resident)
        return perframe.record(
            case.target, "epoch", case.corpus, seconds=state.seconds, threads=state.threads_used,
            peak_rss_bytes=state.peak,
            exact=None if case.target.loader == BASELINE else state.exact, cache=case.cache, options=options,
            **self._epoch_fields(case, state.samples)).with_fps()


@dataclasses.dataclass
class _Reading:
    """One verified per-frame case on its open source: what a round reads, and its record."""

    case: Case
    src: loaders.Source
    calls: list[Sample]
    fields: dict[str, Any]
    verdict: verify.Verdict

    def round(self) -> None:  # noqa: A003
        perframe.read_samples(self.src, self.calls)

    def setup(self) -> None:
        perframe.rewind(self.src)

    def record(self, seconds: list[float], calibration: Calibration, interleaved: bool) -> Record:
        target = self.case.target
        options = {**self.fields["options"], **calibration.options(), "rounds": len(seconds)}
        if interleaved:
            options["interleaved"] = True
        exact = None if target.loader == BASELINE else self.verdict.exact
        # A right frame that is not pixel-exact says by how much, and why: a lossy store or another
        # library's colour conversion (the report shows it per loader).
        store = target.store
        lossy = store is not None and store.lossy
        why = self.verdict.label(lossy=lossy, size=store.store_size if store else None) if exact is False else None
        return perframe.record(target, "per_frame", self.case.profile, seconds=seconds, exact=exact, reason=why,
                             **{**self.fields, "options": options}).with_fps()


@dataclasses.dataclass
class _Epochs:
    """One epoch case while its epochs are being interleaved with the others'."""

    samples: list[Sample]
    exact: bool
    dataset: Any = None  # runner.SampleDataset
    threads: int = 1
    seconds: list[float] = dataclasses.field(default_factory=list)
    first_batch: list[float] = dataclasses.field(default_factory=list)  # each epoch's seconds to its first batch
    last_batch: list[float] = dataclasses.field(default_factory=list)  # ... and to its last
    cpu: list[float] = dataclasses.field(default_factory=list)  # each epoch's CPU seconds, process and workers
    peak: int = 0
    threads_used: dict[str, int] = dataclasses.field(default_factory=dict)
    record: Record | None = None  # set when the case ends before its first epoch
    files: list[str] = dataclasses.field(default_factory=list)  # what an epoch reads, for the page cache
    files_bytes: int = 0
    resident: int | None = None  # bytes in the page cache before the epochs (see Workspace._set_cache)

