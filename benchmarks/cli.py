"""``python -m benchmarks``: measure every loader of this dependency stack into one run directory.

One run is ``<out>/<run-id>/records.jsonl`` (``<out>/latest`` points at the newest run). Every
measurement appends one record as soon as it is taken, with a ``cell`` naming it, so a run that
stops half-way keeps what it measured and ``--resume`` does only the cells it lacks. Each
dependency stack runs this in its own environment with the same ``--run-id``.

Before measuring, the run prints what it will do and roughly how long it will take
(:mod:`benchmarks.budget`); ``--budget`` and ``--quick`` cut it down to fit, saying what they drop.
Progress is a bar on a terminal and a log line every few seconds elsewhere.

Order of work: unavailable loaders are recorded; stores are extracted for the frame loaders
(timed: the "extraction" records); then the cases of :mod:`benchmarks.core`, per video, per
pattern, every loader verified and timed on a fixed set of samples in calibrated rounds ("open"
and "per_frame"); then, per pattern and workers setting, every loader's whole epochs over the
corpus through a DataLoader, interleaved epoch by epoch ("epoch").
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import loaders
from benchmarks import (
    budget,
    clips,
    core,
    corpus,
    dataset,
    env,
    finished,
    patterns,
    perframe,
    records,
    runner,
    stores,
    videos,
)
from benchmarks.analysis import drift, plan, training, verdict
from benchmarks.analysis.refusals import refusals
from benchmarks.annotations import AnnotationError
from benchmarks.annotations import load as load_annotations
from benchmarks.core import CACHES, PER_FRAME_ONLY, TRANSCODES, VIDEOS
from benchmarks.patterns import Pattern
from benchmarks.records import Record
from benchmarks.spec import CRF, MORE_EPOCHS, RunSpec, Store, Target, Video
from loaders import options
from loaders.progress import Progress
from loaders.units import duration, size


def _seconds(text: str) -> float:
    """An argparse ``type``: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range (seconds, finite and at least 0)")
    return value


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _duration(text: str) -> float:
    try:
        return budget.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    try:
        value = plan.parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be more than 0 bytes")
    return value


def _sizes(text: str) -> list[int | None]:
    try:
        return stores.parse_sizes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _caches(text: str) -> list[str]:
    words = _names(text)
    if not set(words) <= set(CACHES):
        raise argparse.ArgumentTypeError(f"{text!r}: a list of {', '.join(CACHES)}")
    return list(dict.fromkeys(words))


def _cold(text: str) -> list[int | str | None]:
    words = _names(text)
    rest = _sizes(",".join(w for w in words if w not in (VIDEOS, TRANSCODES)))
    return [*rest, *[w for w in (VIDEOS, TRANSCODES) if w in words]]


def parser() -> argparse.ArgumentParser:
    default = core.SETTINGS["default"]
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--videos", type=Path, help="a folder of your videos (default: the built-in corpus)")
    p.add_argument("--profiles", type=_names, help="built-in corpus profiles (default: corpus.DEFAULT, "
                                                   f"or {core.QUICK_PROFILES} with --quick)")
    p.add_argument("--out", type=Path, default=Path("results"), help="where runs are written")
    p.add_argument("--run-id", help="name of the run (default: the UTC time; with --resume: latest)")
    p.add_argument("--resume", action="store_true", help="finish a run, skipping the cells it has")
    p.add_argument("--quick", action="store_true",
                   help=f"a few minutes on any input: one small profile ({core.QUICK_PROFILES[0]}) or your videos, "
                        f"0.2 s per per-frame case, jpeg stores, epochs over the first "
                        f"{budget.QUICK_FRAMES_PER_VIDEO} frames of each video, fitted to "
                        f"{budget.QUICK_BUDGET:.0f} s as --budget does")
    p.add_argument("--budget", type=_duration,
                   help="bound the run's time (90s, 10m, 1h): fewer epochs, frames per video and videos, as said")
    p.add_argument("--loaders", type=_names, help="loaders to run (default: every loader of this stack, and the "
                   "GPU loaders with --device cuda)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="where an epoch delivers its batches: cpu, or cuda (pinned copies of the CPU loaders' "
                   "frames, and the GPU loaders; see docs/gpu.md)")
    p.add_argument("--patterns", type=_names, default=list(patterns.BASES),
                   help="access patterns; random-clip runs once per stride (see benchmarks/patterns.py)")
    p.add_argument("--clip-len", type=options.integer(1, None, "frames per clip"), default=16,
                   help="T: frames per clip")
    p.add_argument("--strides", type=options.integers(1, None, "strides"), default=list(core.DEFAULT_STRIDES),
                   help="s: strides of random-clip")
    p.add_argument("-k", type=options.integer(1, None, "frames per video"), default=8,
                   help="K: frames per video of uniform-k")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=options.integers(0, None, "workers"),
                   help="DataLoader workers per epoch run (default: as many as cores; 0,2 also times the main "
                        "process alone)")
    p.add_argument("--epochs", type=options.integer(1, None, "epochs"),
                   help=f"epochs timed per cell, interleaved across loaders (default: {default.epochs}; more, up "
                        f"to {MORE_EPOCHS}x, where they add up to less than {core.EPOCH_TIME} x --min-time)")
    p.add_argument("--batch-size", type=options.integer(1, None, "frames a batch"), default=default.batch_size,
                   help="DataLoader batch size, and frames per call of random-batch")
    p.add_argument("--size", type=options.integer(1, None, "pixels"), default=default.resize,
                   help="frames are resized to size x size so batches stack")
    p.add_argument("--min-time", type=_seconds, help="seconds of timed rounds per per-frame case, at least "
                                                  f"(default: {default.calibration.min_time}; --quick: "
                                                  f"{core.SETTINGS['quick'].calibration.min_time})")
    p.add_argument("--min-rounds", type=options.integer(1, None, "rounds"),
                   help=f"timed rounds per per-frame case, at least (default: {default.calibration.min_rounds})")
    p.add_argument("--warmup", type=options.integer(0, None, "rounds"),
                   help=f"untimed rounds first (default: {default.calibration.warmup})")
    p.add_argument("--frames", type=options.integer(1, None, "frames"),
                   help=f"frames per per-frame case (default: {default.frames})")
    p.add_argument("--extractors", type=_names, default=["ffmpeg"])
    p.add_argument("--formats", type=_names, help=f"store formats (default: {','.join(core.DEFAULT_FORMATS)}; "
                                                  f"--quick: {','.join(core.QUICK_FORMATS)})")
    p.add_argument("--quality", type=options.integer(*options.QUALITY, "JPEG quality"), default=90,
                   help="JPEG quality of the stores, 1-100")
    p.add_argument("--store-sizes", type=_sizes, default=list(stores.SIZES), metavar="SIZES",
                   help="frame stores at these short sides in pixels ('full': as decoded), e.g. full,256")
    p.add_argument("--full-size", type=_names, default=list(stores.FULL_SIZE_FORMATS), metavar="FORMATS",
                   help="formats also stored at full size, as decoded ('' for none)")
    p.add_argument("--store-videos", choices=core.STORE_VIDEOS, default="one",
                   help="per-frame cases of stores at a fixed short side on the first video only (their frames "
                        "are the same size whatever the source) or on every video; epochs read every video")
    p.add_argument("--gops", type=options.integers(options.GOP_MIN, None, "frames"), default=list(stores.GOPS),
                   help="transcoded stores (H.264 via ffmpeg, read by the decode loaders): keyframe intervals; "
                        "'' for none")
    p.add_argument("--transcode-loaders", type=_names, default=list(stores.TRANSCODE_LOADERS),
                   help="decode loaders timed on the transcoded stores too")
    p.add_argument("--crf", type=options.integer(*options.CRF, "H.264 crf"), default=CRF,
                   help="H.264 constant rate factor of transcoded stores, 0-51")
    p.add_argument("--transcode-sizes", type=_sizes, default=list(stores.TRANSCODE_SIZES), metavar="SIZES",
                   help="short sides the transcoded stores are made at ('full': as decoded)")
    p.add_argument("--cache", type=_caches, default=None,
                   help="epochs with the files evicted from the page cache first (cold), read into it first (warm) "
                        "(default: cold,warm)")
    p.add_argument("--cold-sizes", type=_cold, default=[256], metavar="SIZES",
                   help="cold epochs for the frame stores of these sizes only; add 'videos' for the original "
                        "videos and 'transcodes' for the transcoded stores of these sizes (decoding them is bound "
                        "by the CPU, not the disk), e.g. 256,videos,transcodes")
    p.add_argument("--per-frame-only", type=_names, default=list(PER_FRAME_ONLY), metavar="LOADERS",
                   help="loaders timed per frame but not in epochs ('' for none): cv2-seek and "
                        "torchvision-read_video, which seek or open per call, the worst cases")
    p.add_argument("--stores", type=Path, help="where stores are extracted (default: .corpus/stores for the built-in "
                                                "corpus; $VIDBENCH_CACHE_DIR/stores, ~/.cache/vidbench/stores "
                                                "unless set, for --videos)")
    p.add_argument("--measures", type=_names, default=["extraction", "per_frame", "epoch"],
                   help="what to measure (per_frame includes the open cost)")
    p.add_argument("--annotations", type=Path,
                   help="JSON {video file name: {frame index: [[x1, y1, x2, y2], ...]}} served with the frames")
    p.add_argument("--jobs", type=options.integer(1, None, "videos"), default=env.cores(),
                   help="videos extracted in parallel")
    p.add_argument("--sample", type=options.integer(1, None, "videos"), metavar="N",
                   help="with --videos: probe every video under the folder (cached), measure a seeded sample of N "
                        "stratified by resolution and codec, and plan for all of them (default: measure them all)")
    p.add_argument("--train-epochs", type=options.integer(1, None, "epochs"), default=plan.DEFAULT_EPOCHS, metavar="E",
                   help="the epochs you train for: the plan's totals are for E epochs")
    p.add_argument("--disk-budget", type=_size, metavar="SIZE",
                   help="disk a store may take, e.g. 2T or 500G (default: the free disk where stores go)")
    training.add_arguments(p)
    p.add_argument("--pattern", metavar="NAME",
                   help="the access pattern you train with (one of --patterns): the verdict is for it alone "
                        "(default: the best strategy per pattern)")
    return p


class Run:
    """The run directory: records appended as they are measured, and the cells already done."""

    def __init__(self, out: Path, run_id: str | None, resume: bool) -> None:
        latest = out / "latest"
        if run_id is None and resume:
            if not latest.exists():
                raise SystemExit(f"--resume: no run to resume in {out} (no {latest})")
            run_id = latest.resolve().name
        self.id = run_id or dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        self.dir = out / self.id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "records.jsonl"
        existing = list(records.read(self.path)) if self.path.exists() else []
        self.done = {r.cell for r in existing}
        if self.path.exists():
            _end_torn_line(self.path)
        self.latest = latest
        # latest moves with the first measurement, not at the start: a run that measures nothing
        # (no readable video, every loader unavailable) must not hide the last run that did.
        self.linked = False
        if any(records.measured(r) for r in existing):
            self.link()

    def link(self) -> None:
        """Point ``<out>/latest`` at this run."""
        tmp = self.latest.parent / f".latest-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self.id)
        os.replace(tmp, self.latest)  # atomic: readers see the old run or the new one
        self.linked = True

    def add(self, cell: str, record: Record) -> Record:
        records.append(self.path, core.stamp(record, cell, self.id))
        self.done.add(cell)
        if not self.linked and records.measured(record):
            self.link()
        return record


def _end_torn_line(path: Path) -> None:
    """End a line torn by a killed run, so the next record starts a line of its own."""
    with open(path, "rb+") as f:
        if f.seek(0, os.SEEK_END) and (f.seek(-1, os.SEEK_END), f.read(1))[1] != b"\n":
            f.write(b"\n")


class Bench:
    """The command line's run: the cases of :mod:`benchmarks.core` in order, each written as measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cache_states: list[str] = args.cache or list(CACHES)
        self.planned_cache = "warm"  # the page-cache state the plan uses, once the dataset is known
        self.stack = loaders.current_stack()
        # Checked before the run exists: bad input must stop the run before anything is written.
        self.whole: list[Video] | None = None  # every video under --videos, probed, with --sample
        unknown = sorted(set(args.per_frame_only) - set(loaders.REGISTRY))
        if unknown:
            raise SystemExit(f"--per-frame-only: unknown loader(s) {unknown}; known: {', '.join(loaders.REGISTRY)}")
        if args.sample is not None and args.videos is None:
            raise SystemExit("--sample needs --videos: the folder of videos to sample from")
        self.skipped: dict[str, str] = {}  # file or folder -> why it is left out, found before probing
        # The run: its videos once probed (main), and again as a budget cuts it (announce).
        self.spec = core.run_spec(args, {}, self.stack)
        self.found = None if args.videos is None else self.sampled(args.videos, args.sample)
        self.boxes = None if args.annotations is None else load_annotations(args.annotations)
        self.run = Run(args.out, args.run_id, args.resume)
        self.annotations: runner.Annotations | None = None
        self.unreadable: dict[str, str] = {}  # video path -> why it is skipped
        self.progress: Progress | None = None
        self.following = False  # measuring the videos an earlier stack of the run chose (see follow)
        self.budget_line: str | None = None  # what a time budget dropped, as said before measuring
        # The end of the whole bench, all stacks together (``nox -s bench -- --budget``), and the
        # stacks still to run, this one included: past the deadline no new case starts.
        self.deadline, self.stacks_left = budget.deadline_from_env(os.environ)
        self.not_started: list[str] = []  # cases not started because the deadline had passed
        self._anchor: budget.Anchor | None = None  # the anchor case, once its video is made (anchor_case)
        self._anchor_work: core.Workspace | None = None
        self._no_anchor = False  # its video could not be made or read: said once

    def corpus_videos(self) -> tuple[str, dict[str, str]]:
        """(name of the video set, profile -> path)."""
        if self.args.videos is not None and self.found is not None:
            return self.args.videos.resolve().name, self.found
        names = self.args.profiles or (core.QUICK_PROFILES if self.args.quick else corpus.DEFAULT)
        made = corpus.make_all(names, jobs=self.args.jobs)
        return ("builtin-quick" if self.args.quick and not self.args.profiles else "builtin"), \
            {n: str(p) for n, p in made.items()}

    def sampled(self, folder: Path, n: int | None) -> dict[str, str]:
        """The videos the run measures: all of ``folder``'s, or a stratified sample of every
        video under it (whose probes the plan projects to)."""
        if n is None:
            return core.find_videos(folder)
        if n < 1:
            raise SystemExit(f"--sample must be at least 1, got {n}")
        paths, self.skipped = dataset.find(folder) if folder.is_dir() else ([], {})
        for path, why in self.skipped.items():
            print(f"skipping {path}: {why}", file=sys.stderr)
        if not paths:
            videos.find(folder)  # NothingToMeasure, saying what the folder lacks
        self.whole = dataset.probe_all(paths, jobs=self.args.jobs)
        for v in self.whole:
            if v.error is not None:
                print(f"skipping {v.path}: {v.error}", file=sys.stderr)
        picked = dataset.sample(self.whole, n, self.args.seed)
        if not picked:
            raise videos.none_readable(str(folder), {v.path: v.error or "" for v in self.whole})
        frames = sum(v.frames for v in picked)
        left = len(self.skipped) + sum(v.error is not None for v in self.whole)
        print(f"sample: {len(picked)} of {len(self.whole)} videos ({frames:,} frames), stratified by "
              f"resolution and codec, seed {self.args.seed}" + (f"; {left} skipped, named above" if left else ""),
              file=sys.stderr)
        missing = dataset.uncovered(self.whole, picked)
        if missing:
            print(f"sample: {len(missing)} class{'es' if len(missing) != 1 else ''} not covered (more classes than "
                  f"--sample {n}): {', '.join(missing)}; the plan projects them from pixels", file=sys.stderr)
        return dataset.names([Path(v.path) for v in picked], folder)

    def describe(self) -> dataset.Dataset:
        """The dataset the plan is for: every video probed under ``--videos`` with ``--sample``,
        else the videos measured."""
        measured = self.paths()
        whole = self.whole if self.whole is not None else dataset.probe_all(list(measured.values()),
                                                                            jobs=self.args.jobs)
        by_path = {v.path: v for v in whole}
        root = str(self.args.videos.resolve()) if self.args.videos else self.corpus_name
        described = dataset.describe(root, whole, {p: by_path[v] for p, v in measured.items() if v in by_path},
                                     disk=self.store_root, epochs=self.args.train_epochs,
                                     disk_budget=self.args.disk_budget, skipped={**self.skipped, **self.unreadable},
                                     pattern=self.args.pattern)
        step = training.step_of(None, **training.given(self.args))
        described = dataclasses.replace(described, step_ms=step.step_ms, target_fps=step.target_fps, gpus=step.gpus,
                                        storage_bandwidth=step.storage_bandwidth)
        return described

    def paths(self) -> dict[str, str]:
        """The run's videos: name -> the path measured (a clip where a budget cut the video)."""
        return {p: v.path for p, v in self.spec.videos.items()}

    # -- the run ------------------------------------------------------------------------------------
    def main(self) -> int:
        self.corpus_name, all_videos = self.corpus_videos()
        self.store_root = self.args.stores or stores.default_root(self.args.videos is not None)
        available = loaders.available()
        self.live = [t for t in self.spec.targets if available[t.loader] is None]
        if any(t.store is not None for t in self.live):
            stores.check_writable(self.store_root)
        self.epoch_live = [t for t in self.live if self.spec.caches.get(t.key)]
        for t in self.spec.targets:
            if available[t.loader] is not None:
                record = perframe.record(t, "per_frame", self.corpus_name, status="unavailable",
                                         reason=available[t.loader])
                self.once(core.cell("unavailable", self.stack, t.loader), lambda record=record: record, record)
        probed = {p: v for p, path in all_videos.items() if (v := self.probe(p, path)) is not None}
        if not probed:
            raise videos.none_readable(str(self.args.videos or "the built-in corpus"), self.unreadable)
        self.spec = dataclasses.replace(self.spec, videos=probed)
        previous = dataset.load(self.run.dir)  # what another stack of this run (or this run, resumed) measured
        planned = self.describe()
        self.planned_cache = "cold" if planned.bytes > planned.ram_available_bytes else "warm"
        if self.boxes is not None:
            self.annotations = self.boxes.for_videos({v.path: v.frames for v in probed.values()})
        if previous is not None:
            planned.budgets, planned.settings = dict(previous.budgets), dict(previous.settings)
            planned.pattern = planned.pattern or previous.pattern
            self.spec = self.follow(self.spec, previous, all_videos)
            if self.following:  # the epochs read the frames the first stack's read: one run, one sample
                self.spec = dataclasses.replace(self.spec, frames_per_video=previous.epoch_frames)
        measures = self.spec.measures
        self.needed = list(self.spec.stores)
        self.load, self.guess = self.busy()
        self.spec = self.announce(self.spec)
        if self.annotations is not None:
            self.annotations = clipped(self.annotations, probed, self.spec.videos)
        self.work = core.Workspace(self.spec, self.store_root)  # the run's videos, cut ones as their clips
        if self.budget_line is not None:
            planned.budgets[self.stack] = self.budget_line
        planned.settings[self.stack] = self.spec.lines()
        planned.epoch_frames = self.spec.frames_per_video
        # The plan projects from what is measured: the videos a budget kept, cut ones as their clips.
        planned.measured = {p: v for p, v in self.spec.videos.items() if p in planned.measured}
        planned.save(self.run.dir)  # once: dataset.json, and this stack's settings in run.json
        self.cases = core.cases(self.live, self.spec.videos, self.spec.patterns, self.spec.frames,
                                self.args.store_videos)
        estimate = budget.estimate(self.spec, self.guess, anchor=self.anchor_case())
        factor = budget.load_factor(self.load, self.spec.cores)
        busy = f" (the machine is busy, load {self.load:.1f} on {self.spec.cores} cores: x{factor:.1f} counted in)"
        print(f"estimate: {estimate.line()}{busy if factor > 1 else ''}", flush=True)
        n_epoch = sum(len(self.caches(t)) for t in self.epoch_live) * len(self.spec.patterns) * len(self.spec.workers) \
            * ("epoch" in measures)
        n_frame = len(self.cases) * ("per_frame" in measures)
        self.estimate = estimate  # each step's planned seconds: the ETA learns from what each one took
        # Opening and the anchor case are phases of their own: unlike the other cases' rounds, they
        # would mislead the ETA of those (an open is far cheaper; the anchor is one decoder alone).
        opens, anchors = (sum(v for k, v in estimate.parts.items() if k[0] == kind) for kind in ("open", "anchor"))
        self.progress = Progress(len(self.needed) + n_frame + n_epoch, "bench", unit="cell",
                                 work={"extraction": estimate.extraction, "anchor": anchors, "open": opens,
                                       "per_frame": estimate.per_frame - opens - anchors, "epoch": estimate.epochs})
        finished.start(self.run.dir, self.stack, estimate.total)  # a stack stopped part-way is named in the report
        began = time.monotonic()
        try:
            self.anchor(drift.START, measures)
            self.extraction(measure="extraction" in measures)
            if "extraction" in measures and self.needed:  # the pace beside the extraction, both sides of it
                self.anchor(drift.EXTRACTED, measures)
            self.took("extraction")
            if "per_frame" in measures:
                for group in core.groups(self.cases):
                    self.per_frame(group)
            if "epoch" in measures and (self.deadline is None or time.time() < self.deadline):
                self.refine()
            self.took("open")
            self.took("per_frame")
            if "epoch" in measures:
                # The anchor between the groups of epochs too: a machine that slows for the minutes
                # one pattern's epochs take shows, and each epoch has the machine's pace beside it.
                names = [p.name for p in self.spec.patterns]
                for i, pattern in enumerate(self.spec.patterns):
                    self.anchor(drift.before(names, i), measures)
                    for workers in self.spec.workers:
                        self.epoch(pattern, workers)
                self.took("epoch")
            self.anchor(drift.END, measures)
        finally:
            self.progress.close()
        finished.finish(self.run.dir, self.stack, time.monotonic() - began)
        if self.not_started:  # said, kept with what the budget dropped, and named in the plan's report
            line = budget.skipped_line(self.not_started)
            print(line, flush=True)
            planned.budgets[self.stack] = "; ".join(x for x in (planned.budgets.get(self.stack), line) if x)
            planned.save(self.run.dir)
        print(f"run {self.run.id}: {self.run.path}")
        if self.run.path.exists():  # a run past its deadline from the start has no records
            summary(self.run.path, planned, self.args.pattern)
        return 0

    def per_frame(self, group: list[core.Case]) -> None:
        """One open case, or the per-frame cases of one video with their rounds in turns."""
        assert self.progress is not None
        todo = [c for c in group if c.cell not in self.run.done]
        for measure in ("open", "per_frame"):
            done = [c for c in group if c not in todo and c.measure == measure]
            self.progress.update(len(done), work=self.planned(*done), phase=measure, skipped=True)
        if not todo:
            return
        first = todo[0]
        if self.past(f"{first.measure} {first.id}" if first.measure == "open"
                     else f"per-frame {first.profile} ({len(todo)} cases)", len(todo), first.measure,
                     self.planned(*todo)):
            return
        if first.measure == "open":
            self.step(f"open {first.id}", self.planned(first), "open")
            self.once(first.cell, lambda: self.work.measure(first), self.work.identity(first))
            self.progress.update(1, work=self.planned(first), phase="open")
            return
        assert first.pattern is not None
        self.step(f"per_frame {first.profile}: {len(todo)} cases in turns", self.planned(*todo), "per_frame")
        for case, record in self.work.measure_interleaved(todo):  # timed together: their work at the end
            self.run.add(case.cell, record)
            self.progress.update(1)
        self.progress.update(0, work=self.planned(*todo), phase="per_frame")

    def planned(self, *cases: core.Case | core.EpochCase) -> float:
        """The estimated seconds of ``cases`` (:attr:`budget.Estimate.parts`): the progress's work."""
        keys = [budget.part("epoch", c.target.key, c.pattern.name, c.workers) if isinstance(c, core.EpochCase)
                else budget.part("open", c.target.key, c.profile) if c.pattern is None
                else budget.part("per_frame", c.target.key, c.profile, c.pattern.name) for c in cases]
        return self.estimate.of(*keys)

    def took(self, phase: str) -> None:
        """Say what ``phase`` took against its estimate, and the ETA that follows (it learnt from it)."""
        assert self.progress is not None
        p = self.progress
        if p.worked.get(phase, 0.0) <= 0:
            return
        eta = p.eta()
        more = f"; about {duration(eta, whole=True)} more" if eta >= 1 else ""
        word = {"open": "opening", "per_frame": "per-frame", "epoch": "epochs"}.get(phase, phase)
        p.message(f"{word}: took {duration(p.spent[phase], whole=True)} (estimated "
                  f"{duration(p.worked[phase], whole=True)}){more}")

    def busy(self) -> tuple[float, budget.Guess]:
        """The machine's load now (:func:`env.load`, or ``VIDBENCH_LOAD``), and the estimate's
        guesses slowed down by it (:func:`budget.load_factor`): a budget on a busy machine then
        holds, and the estimate says what the run will take there, not on a quiet one."""
        raw = os.environ.get(budget.LOAD_ENV)
        try:
            load = float(raw) if raw else env.load()
        except ValueError:
            raise SystemExit(f"{budget.LOAD_ENV}={raw!r}: not a load average (a number)") from None
        return load, budget.Guess().scaled(budget.load_factor(load, self.spec.cores))

    def announce(self, spec: RunSpec) -> RunSpec:
        """Print what the run will do; with --budget (or --quick) cut it to fit first, saying what goes."""
        seconds = self.args.budget or (budget.QUICK_BUDGET if self.args.quick else None)
        if self.deadline is not None:  # this stack's share of what is left of the whole bench's budget
            share = max(1.0, self.deadline - time.time()) / self.stacks_left
            seconds = share if seconds is None else min(seconds, share)
        if seconds is not None:
            whole = spec.videos
            asked = {"epochs": self.args.epochs, "workers": self.args.workers, "frames": self.args.frames,
                     "min_rounds": self.args.min_rounds, "cache": self.args.cache,
                     "videos": True if self.following else None,  # kept as asked, or as the first stack chose
                     "frames_per_video": True if self.following else None}
            spec, dropped = budget.fit(spec, seconds, self.guess, seed=self.args.seed, cache=self.planned_cache,
                                        keep=[k for k, v in asked.items() if v is not None])
            if all(n <= 1 for n in spec.caches.values()) and any(len(self.caches(t)) > 1 for t in self.epoch_live):
                self.cache_states = [self.planned_cache]
            if self.following:
                dropped.insert(0, "the videos this run measured before (whole or cut), kept")
            said = "; ".join(dropped) or "the whole run fits"
            self.budget_line = f"budget {duration(seconds, whole=True)}: {said}"
            print(self.budget_line, flush=True)
            cut = {p: self.cut(whole[p], frames) for p, frames in spec.clips.items()}
            spec = dataclasses.replace(spec, videos={**spec.videos, **cut},
                                       clips={p: n for p, n in spec.clips.items() if cut[p] is not whole[p]})
        print(f"run {self.run.id}: records to {self.run.path}, stores in {self.store_root}", flush=True)
        for line in spec.lines():
            print(f"  {line}", flush=True)
        return spec

    def follow(self, spec: RunSpec, previous: dataset.Dataset, given: dict[str, str]) -> RunSpec:
        """The run measuring the videos this run measured before (its first stack's choice, or this
        stack's in a run resumed), as they were measured (whole or cut), whatever this stack's
        budget would pick: one run, one sample."""
        # In this run's order, not dataset.json's (its keys are sorted): the first video, where the
        # fixed-size stores and the drift's anchor are timed, is then the same in every stack.
        chosen = [p for p in spec.videos if p in previous.measured]
        if not chosen:
            return spec
        videos: dict[str, Video] = {}
        for p in chosen:
            path, frames = previous.measured[p].path, previous.measured[p].frames
            try:
                videos[p] = spec.videos[p] if path == given[p] else dataset.probe_video(path)  # its clip
            except (loaders.LoaderError, OSError):  # a clip gone or damaged: cut again, the same (the cut
                videos[p] = self.cut(spec.videos[p], frames)  # is deterministic)
        self.following = True
        return dataclasses.replace(spec, videos=videos)

    def cut(self, video: Video, frames: int) -> Video:
        """``video`` cut to its first ``frames`` frames: a stream copy of them, made now (see
        :mod:`benchmarks.clips`), measured in its place; the video whole where it cannot be cut."""
        try:
            clip, _ = clips.first_frames(video.path, frames, self.store_root / "clips")
            return video if clip == video.path else dataset.probe_video(clip)
        except loaders.LoaderError as exc:
            print(f"measuring {video.path} whole, not cut: {exc}", file=sys.stderr, flush=True)
            return video

    def refine(self) -> None:
        """The ETA of the epochs again, from the seconds per frame the per-frame phase measured."""
        if not self.run.path.exists():  # nothing measured before the epochs (--measures epoch)
            return
        measured = budget.measured_seconds_per_frame(records.read(self.run.path))
        again = budget.estimate(self.spec, self.guess, measured, done={"extraction", "per_frame"})
        self.estimate = dataclasses.replace(self.estimate, epochs=again.epochs,
                                            parts={**self.estimate.parts, **again.parts})
        assert self.progress is not None
        self.progress.plan("epoch", again.epochs)
        self.progress.message(f"epochs: about {duration(again.epochs, whole=True)} more, from the per-frame timings")

    def caches(self, target: Target) -> list[str]:
        """The page-cache states ``target``'s epochs are measured in."""
        return core.cache_states(target, self.cache_states, self.args.cold_sizes)

    def past(self, what: str, cells: int, phase: str, work: float) -> bool:
        """Whether the whole bench's deadline has passed: then ``what`` is not started, but named
        among what was skipped, and its ``cells`` count as done for the progress (their planned
        ``work`` in ``phase`` leaves the plan)."""
        if self.deadline is None or time.time() < self.deadline:
            return False
        self.not_started.append(what)
        assert self.progress is not None
        self.progress.update(cells, f"past the budget: {what} skipped"[:80], work=work, phase=phase, skipped=True)
        return True

    def step(self, what: str, work: float = 0.0, phase: str = "") -> None:
        """The step starting now, and its estimated seconds in ``phase`` (which the ETA counts down)."""
        assert self.progress is not None
        self.progress.begin(what[:80], work, phase)

    def once(self, cell: str, measure: Any, identity: Record) -> None:
        """Run ``measure() -> Record`` unless ``cell`` is done; a failure records ``identity`` as an error."""
        if cell in self.run.done:
            return
        try:
            record = measure()
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one failing cell must not lose the run
            record = dataclasses.replace(identity, status="error", reason=core.reason(exc))
        self.run.add(cell, record)

    def probe(self, profile: str, video: str) -> Video | None:
        """The video as probed; None where it cannot be read (recorded, and said)."""
        try:
            return dataset.probe_video(video)
        except Exception as exc:  # noqa: BLE001 - a video that cannot be read fails alone
            self.unreadable[video] = videos.cause(exc)
            print(f"skipping {video}: {self.unreadable[video]}", file=sys.stderr)
            record = Record(measure="per_frame", loader=None, kind=None, stack=self.stack, profile=profile,
                            status="error", reason=core.reason(exc), options={"video": video})
            self.once(core.cell("probe", self.stack, profile), lambda: record, record)
            return None

    def anchor_case(self) -> budget.Anchor | None:
        """The anchor case this stack times (its decoder, pattern, video, and when), or None where
        it times none: no per-frame cases, or the anchor's decoder is missing from the stack."""
        if "per_frame" not in self.spec.measures or loaders.available()[drift.ANCHOR_LOADER] or self._no_anchor:
            return None
        if self._anchor is None:
            try:
                path = str(corpus.make(drift.ANCHOR_VIDEO))
                video = dataset.probe_one(path)
                why = video.error
            except (OSError, RuntimeError) as exc:  # its folder not writable, FFmpeg failing: said, not timed
                path, why = drift.ANCHOR_VIDEO, videos.cause(exc)
            if why:
                print(f"no anchor case (the machine's drift is not measured): {path}: {why}", file=sys.stderr)
                self._no_anchor = True
                return None
            names = [p.name for p in self.spec.patterns] if "epoch" in self.spec.measures else []
            when = [drift.START, *[drift.EXTRACTED] * bool("extraction" in self.spec.measures and self.needed),
                    *(drift.before(names, i) for i in range(len(names))), drift.END]
            calibration = self.spec.calibration
            if calibration.min_time > 0:
                calibration = dataclasses.replace(calibration,
                                                  min_time=max(calibration.min_time, drift.ANCHOR_SECONDS))
            self._anchor = budget.Anchor(drift.ANCHOR_LOADER, patterns.parse([drift.ANCHOR_PATTERN])[0],
                                         drift.ANCHOR_VIDEO, video, tuple(when), calibration)
            # a workspace of its own: the anchor's video is none of the run's
            self._anchor_work = core.Workspace(
                dataclasses.replace(self.spec, videos={drift.ANCHOR_VIDEO: video}, clips={},
                                    first_video_only=frozenset(), frames_per_video=None,
                                    calibration=calibration), self.store_root)
        return self._anchor

    def anchor(self, when: str, measures: frozenset[str]) -> None:
        """The anchor case (pyav, sequential, on :data:`drift.ANCHOR_VIDEO`), timed as the per-frame
        cases are, at this stack's start, between its groups of epochs and at its end: its records
        measure the machine's drift (:mod:`benchmarks.analysis.drift`) and its pace beside each epoch."""
        cell = core.cell(drift.ANCHOR, self.stack, when)
        work = self.estimate.of(budget.part("anchor", when))
        assert self.progress is not None
        anchor = self.anchor_case() if "per_frame" in measures else None
        if anchor is None or cell in self.run.done or self._anchor_work is None or \
                (self.deadline is not None and time.time() >= self.deadline):
            # past the bench's budget: no anchor, and the report says no drift was measured for this stack
            self.progress.update(0, work=work, phase="anchor", skipped=True)
            return
        case = core.Case("per_frame", Target(anchor.loader, loaders.REGISTRY[anchor.loader].kind), anchor.name,
                         anchor.pattern, min(self.spec.frames, anchor.video.frames))
        self.step(f"anchor ({when}): {case.id}", work, "anchor")
        for _, record in self._anchor_work.measure_interleaved([case]):
            self.run.add(cell, dataclasses.replace(record, measure=drift.ANCHOR,
                                                   options={**record.options, drift.ANCHOR: when}))
        self.progress.update(0, work=work, phase="anchor")

    # -- extraction ---------------------------------------------------------------------------------
    def extraction(self, measure: bool) -> None:
        videos = list(self.paths().values())
        for spec in self.needed:
            cell = core.cell("extraction", self.corpus_name, spec.label)
            work = self.estimate.of(budget.part("extraction", spec.label))
            self.step(f"extract {spec.label}", work, "extraction")
            resumed = cell in self.run.done  # measured before this run was resumed: no time of its own
            if not resumed and self.past(f"extraction {spec.label}", 1, "extraction", work):
                continue  # its readers' cases find no store and say so
            if measure and cell not in self.run.done:
                identity = Record(measure="extraction", loader=None, kind=None, stack=self.stack,
                                  profile=self.corpus_name, store=spec)
                self.once(cell, lambda spec=spec: self._measure_extraction(spec, videos), identity)
            for v in videos:
                self.work.ensure_store(v, spec)
            assert self.progress is not None
            self.progress.update(1, work=work, phase="extraction", skipped=resumed)

    def _measure_extraction(self, spec: Store, videos: list[str]) -> Record:
        cost = stores.measure(self.work.store_root, videos, spec, self.args.jobs)
        for v, why in cost.failed.items():
            self.work.store_error[v, spec] = why
        return Record(measure="extraction", loader=None, kind=None, stack=self.stack, profile=self.corpus_name,
                      frames=cost.frames, seconds=cost.rounds, store=spec, bytes=cost.bytes,
                      source_bytes=cost.source_bytes, status="error" if cost.failed else "ok",
                      reason="; ".join(cost.failed.values()) or None,
                      options={"jobs": self.args.jobs, "videos": len(videos),
                               "video_bytes": cost.per_video, "cpu_seconds": cost.cpu,
                               "video_seconds": cost.per_video_seconds}).with_fps()

    # -- epochs -------------------------------------------------------------------------------------
    def epoch(self, pattern: Pattern, workers: int) -> None:
        """Every loader's epochs of one pattern and workers setting, interleaved epoch by epoch."""
        group = [core.EpochCase(t, pattern, workers, self.corpus_name, self.spec.batch_size, self.spec.resize,
                                cache, self.spec.device) for t in self.epoch_live for cache in self.caches(t)]
        todo = [c for c in group if c.cell not in self.run.done]
        assert self.progress is not None
        self.progress.update(len(group) - len(todo), work=self.planned(*(c for c in group if c not in todo)),
                             phase="epoch", skipped=True)
        if not todo or self.past(f"epochs {pattern.name} w{workers} ({len(todo)} cells)", len(todo), "epoch",
                                 self.planned(*todo)):
            return
        self.step(f"epochs {pattern.name} w{workers}: {len(todo)} loaders interleaved", self.planned(*todo), "epoch")
        for case, record in self.work.epochs(todo, list(self.paths().values()), self.annotations):
            self.run.add(case.cell, record)
            self.progress.update(1)  # interleaved epochs: their work when the last is done
        self.progress.update(0, work=self.planned(*todo), phase="epoch")


def clipped(annotations: runner.Annotations, before: Mapping[str, Video],
            after: Mapping[str, Video]) -> runner.Annotations:
    """The boxes of each video ``before`` that ``after`` measures as a clip, moved to the clip's
    path, those of frames past its end left out."""
    out = dict(annotations)
    for name, video in after.items():
        old = before[name].path
        if video.path != old and old in out:
            out[video.path] = {i: b for i, b in out.pop(old).items() if i < video.frames}
    return out


def summary(path: Path, planned: dataset.Dataset | None, pattern: str | None = None) -> None:
    """Print what the report's verdict says (:mod:`benchmarks.analysis.verdict`): per pattern, the
    winning strategy for the dataset and its epochs, and when its store pays against decoding; then
    the verdict's sentence and table, for ``pattern`` alone when given."""
    epochs = planned.epochs if planned else plan.DEFAULT_EPOCHS
    disk_budget = planned.disk_budget_bytes if planned else None
    measured = list(records.read(path))
    strategies = plan.project(measured, planned, epochs, disk_budget)
    if not strategies:
        return
    refused = refusals(measured)
    drifts = drift.drift(measured)  # strategies of different stacks are ranked only beyond it
    step = training.step_of(planned)
    trainings = training.assess(strategies, measured, planned, step)
    try:
        verdicts = verdict.with_training(strategies, trainings, pattern, refused, drifts)
    except verdict.UnknownPattern as exc:  # a pattern this run did not measure: say so, and answer for every pattern
        print(f"--pattern: {exc}")
        pattern, verdicts = None, verdict.with_training(strategies, trainings, None, refused, drifts)
    if planned:
        print(f"plan for {planned.line()}, {epochs} epochs:")
    for v in verdicts:
        if v.best is not None:
            best = v.best
            disk = f", {size(best.disk_bytes)} on disk" if best.disk_bytes else ""
            print(f"  {v.pattern}: {best.name}: {duration(v.total(best))} in all{disk} "
                  f"(epochs: {plan.CACHE_WORDS.get(best.cache, best.cache)})")
            if best.mostly_startup and best.startup_share is not None:
                print(f"    an epoch is mostly start-up ({100 * best.startup_share:.0f}%: starting the workers), "
                      "whatever the loader: a dataset this small says little about a larger one")
        if v.crossover is not None:
            print(f"    {v.crossover.pair}: {v.crossover_phrase()}")
    unsampled = sorted({c for s in strategies for c in s.not_sampled})
    if unsampled:
        print(f"  not in the sample, projected from pixels (a wider range): {', '.join(unsampled)}")
    over = [s for s in strategies if not s.fits_disk and (pattern is None or s.pattern == pattern)]
    if over:
        names = "; ".join(dict.fromkeys(f"{s.name} ({size(s.disk_bytes)})" for s in over))
        print(f"  left out: {len(over)} strateg{'ies' if len(over) != 1 else 'y'} whose store does not fit the "
              f"disk budget: {names}")
    for r in refused.values():
        print(f"  not recommended: {r.loader} {r.words()}")
    if trainings:
        print(f"  training with {step.line()}:")
        for name, (chosen, why) in training.recommend(trainings).items():
            if pattern is None or name == pattern:
                print(f"    {name}: {training.bound(chosen)}\n      {why}")
        print(f"    {training.bandwidth_words(trainings, step, measured)}")
    elif not step.given:
        print("  (loading alone: give --step-ms or --target-fps, and --gpus, to see whether the GPUs would wait)")
    print("verdict: " + verdict.headline(verdicts, planned.line() if planned else None))
    headers, rows = verdict.table(verdicts)
    widths = [max(len(c) for c in column) for column in zip(headers, *rows, strict=True)]
    for line in (headers, *rows):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    if planned and planned.budgets:  # what was measured is less than a full run: the verdict rests on it
        print("measured under a time budget (what it kept and dropped): "
              + "; ".join(f"{stack}: {line}" for stack, line in sorted(planned.budgets.items())))


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.device == "cuda" and (why := runner.cuda_missing()):
        cli.error(f"--device cuda: {why}")
    bench: Bench | None = None
    try:
        bench = Bench(args)
        return bench.main()
    except (AnnotationError, videos.NothingToMeasure, dataset.DatasetError,
            stores.StoresUnwritable) as exc:
        raise SystemExit(f"python -m benchmarks: {exc}") from None
    except KeyboardInterrupt:
        # Ctrl-C: the case in hand is dropped (every record is one whole line, appended when taken),
        # the DataLoader's workers and any ffmpeg child end with it; one line says how to go on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        print(interrupted(bench.run if bench is not None and hasattr(bench, "run") else None), file=sys.stderr)
        return INTERRUPTED


INTERRUPTED = 130  # the exit status of a run stopped with Ctrl-C (128 + SIGINT), as a shell gives


def interrupted(run: Run | None) -> str:
    """The line a run stopped with Ctrl-C ends with: where its records are and how to finish it."""
    if run is None:
        return "interrupted before the run started: nothing was measured"
    kept = sum(1 for _ in records.read(run.path)) if run.path.exists() else 0
    return (f"interrupted: {kept} record{'s' if kept != 1 else ''} kept in {run.path}; finish the run with "
            f"the same command and --resume --run-id {run.id}")


if __name__ == "__main__":
    sys.exit(main())
