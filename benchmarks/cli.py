"""``python -m benchmarks``: measure every loader of this dependency stack into one run directory.

One run is ``<out>/<run-id>/records.jsonl`` (``<out>/latest`` points at the newest run). Every
measurement appends one record as soon as it is taken, with a ``cell`` naming it, so a run that
stops half-way keeps what it measured and ``--resume`` does only the cells it lacks. Each
dependency stack runs this in its own environment with the same ``--run-id``.

Order of work: unavailable loaders are recorded; stores are extracted for the frame loaders
(timed: the "extraction" records); then per video, per pattern, every loader is verified and
timed on a fixed set of samples ("open" and "per_frame"); then every loader runs whole epochs
of every pattern over the corpus through a DataLoader ("epoch").
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import loaders
from benchmarks import annotations, corpus, crossover, env, patterns, perframe, records, runner, stores, verify, videos
from benchmarks.patterns import Pattern, Sample
from benchmarks.perframe import NULL, Target
from benchmarks.records import Record

VIDEO_SUFFIXES = videos.VIDEO_SUFFIXES
QUICK_PROFILES = ["h264-360p-gop1s-bf"]
DEFAULT_FORMATS = ("jpeg", "png", "npy", "tar")


@dataclasses.dataclass(frozen=True)
class Budget:
    rounds: int
    warmup: int
    frames: int  # frames per per-frame case
    epochs: int


# No warm-up round by default: verification reads the very samples about to be timed, from the
# same open source, just before the first round.
BUDGETS = {"default": Budget(rounds=3, warmup=0, frames=24, epochs=1),
           "quick": Budget(rounds=1, warmup=0, frames=16, epochs=1)}


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--videos", type=Path, help="a folder of your videos (default: the built-in corpus)")
    p.add_argument("--profiles", type=_names, help="built-in corpus profiles (default: corpus.DEFAULT, "
                                                   f"or {QUICK_PROFILES} with --quick)")
    p.add_argument("--out", type=Path, default=Path("results"), help="where runs are written")
    p.add_argument("--run-id", help="name of the run (default: the UTC time; with --resume: latest)")
    p.add_argument("--resume", action="store_true", help="finish a run, skipping the cells it has")
    p.add_argument("--quick", action="store_true", help="one small profile, one round: minutes, not tens")
    p.add_argument("--loaders", type=_names, help="loaders to run (default: every loader of this stack)")
    p.add_argument("--patterns", type=_names, default=list(patterns.BASES),
                   help="access patterns; random-clip runs once per stride")
    p.add_argument("--clip-len", type=int, default=16, help="T: frames per clip")
    p.add_argument("--strides", type=_ints, default=[1, 2], help="s: strides of random-clip")
    p.add_argument("-k", type=int, default=8, help="K: frames per video of uniform-k")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=_ints, help="DataLoader workers per epoch run (default: 0 and the cores)")
    p.add_argument("--epochs", type=int, help="epochs timed per cell (default: 1)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--size", type=int, default=224, help="frames are resized to size x size so batches stack")
    p.add_argument("--rounds", type=int, help="timed rounds per per-frame case")
    p.add_argument("--warmup", type=int, help="warm-up rounds per per-frame case")
    p.add_argument("--frames", type=int, help="frames per per-frame case")
    p.add_argument("--extractors", type=_names, default=["ffmpeg"])
    p.add_argument("--formats", type=_names, default=list(DEFAULT_FORMATS))
    p.add_argument("--quality", type=int, default=90, help="JPEG quality of the stores")
    p.add_argument("--stores", type=Path, help="where stores are extracted (default: <corpus cache>/stores)")
    p.add_argument("--measures", type=_names, default=["extraction", "per_frame", "epoch"],
                   help="what to measure (per_frame includes the open cost)")
    p.add_argument("--annotations", type=Path,
                   help="JSON {video file name: {frame index: [[x1, y1, x2, y2], ...]}} served with the frames")
    p.add_argument("--jobs", type=int, default=env.cores(), help="videos extracted in parallel")
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
        record.cell = cell
        record.run_id = self.id
        record.time = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        record.env = {**env.capture(), "threads": record.threads}
        records.append(self.path, record)
        self.done.add(cell)
        if not self.linked and records.measured(record):
            self.link()
        return record


def _end_torn_line(path: Path) -> None:
    """End a line torn by a killed run, so the next record starts a line of its own."""
    with open(path, "rb+") as f:
        if f.seek(0, os.SEEK_END) and (f.seek(-1, os.SEEK_END), f.read(1))[1] != b"\n":
            f.write(b"\n")


def _cell(*parts: object) -> str:
    return "|".join(str(p) for p in parts)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        budget = BUDGETS["quick" if args.quick else "default"]
        self.rounds = args.rounds or budget.rounds
        self.warmup = budget.warmup if args.warmup is None else args.warmup
        self.frames = args.frames or budget.frames
        self.epochs = args.epochs or budget.epochs
        self.workers = args.workers if args.workers is not None else sorted({0, env.cores()})
        self.stack = loaders.current_stack()
        # Checked before the run exists: bad input must stop the run before anything is written.
        self.found = None if args.videos is None else videos.find(args.videos)
        self.boxes = None if args.annotations is None else annotations.load(args.annotations)
        self.run = Run(args.out, args.run_id, args.resume)
        self.patterns = patterns.parse(args.patterns, args.clip_len, args.strides, args.k, args.seed)
        self.specs = stores.specs(args.extractors, args.formats, args.quality)
        self.store_root = args.stores or corpus.DEFAULT_CACHE / "stores"
        self.annotations: runner.Annotations | None = None
        self.videos: dict[str, str] = {}  # profile -> video path
        self.frames_of: dict[str, int] = {}  # video path -> frame count
        self.unreadable: dict[str, str] = {}  # video path -> why it is skipped
        self.store_of: dict[tuple[str, stores.StoreSpec], Path] = {}
        self.store_error: dict[tuple[str, stores.StoreSpec], str] = {}
        self.verdicts: dict[tuple[str, str, str], verify.Verdict] = {}
        self.refs: dict[tuple[str, str], dict[int, Any]] = {}  # (video, pattern) -> reference frames
        self.progress: Any = None

    # -- what to run -------------------------------------------------------------------------------
    def loader_names(self) -> list[str]:
        if self.args.loaders:
            unknown = [n for n in self.args.loaders if n not in loaders.REGISTRY]
            if unknown:
                raise SystemExit(f"unknown loader(s) {unknown}; known: {', '.join(loaders.REGISTRY)}")
            return self.args.loaders
        # A stack runs its own loaders; the main stack also the null baseline (once per run).
        own = loaders.STACKS.get(self.stack, list(loaders.REGISTRY))
        return [*own, NULL] if self.stack == "main" and NULL not in own else list(own)

    def corpus_videos(self) -> tuple[str, dict[str, str]]:
        """(name of the video set, profile -> path)."""
        if self.found is not None:
            stems = [p.stem for p in self.found]  # a.mp4 and a.mkv keep their extensions apart
            return self.args.videos.resolve().name, {p.stem if stems.count(p.stem) == 1 else p.name: str(p)
                                                     for p in self.found}
        names = self.args.profiles or (QUICK_PROFILES if self.args.quick else corpus.DEFAULT)
        made = corpus.make_all(names, jobs=self.args.jobs)
        return ("builtin-quick" if self.args.quick and not self.args.profiles else "builtin"), \
            {n: str(p) for n, p in made.items()}

    # -- the run ------------------------------------------------------------------------------------
    def main(self) -> int:
        from tqdm import tqdm

        self.corpus_name, all_videos = self.corpus_videos()
        self.targets = perframe.targets(self.loader_names(), self.specs)
        available = loaders.available()
        self.live = [t for t in self.targets if available[t.loader] is None]
        for t in self.targets:
            if available[t.loader] is not None:
                record = t.record("per_frame", self.corpus_name, status="unavailable", reason=available[t.loader])
                self.once(_cell("unavailable", self.stack, t.loader), lambda record=record: record, record)
        for profile, video in all_videos.items():
            self.probe(profile, video)
        if not self.videos:
            raise videos.none_readable(str(self.args.videos or "the built-in corpus"), self.unreadable)
        if self.boxes is not None:
            self.annotations = self.boxes.for_videos(self.frames_of)
        measures = set(self.args.measures)
        self.needed = [s for s in self.specs if any(t.spec == s for t in self.live)]
        total = (len(self.needed)
                 + len(self.videos) * len(self.live) * (len(self.patterns) + 1) * ("per_frame" in measures)
                 + len(self.live) * len(self.patterns) * len(self.workers) * ("epoch" in measures))
        with tqdm(total=total, desc="bench", unit="cell", disable=None, dynamic_ncols=True) as self.progress:
            self.extraction(measure="extraction" in measures)
            if "per_frame" in measures:
                for profile, video in self.videos.items():
                    self.per_frame(profile, video)
            if "epoch" in measures:
                for pattern in self.patterns:
                    self.epoch(pattern)
        print(f"run {self.run.id}: {self.run.path}")
        summary(self.run.path)
        return 0

    def step(self, what: str) -> None:
        self.progress.set_postfix_str(what[:60], refresh=False)

    def once(self, cell: str, measure: Any, identity: Record) -> None:
        """Run ``measure() -> Record`` unless ``cell`` is done; a failure records ``identity`` as an error."""
        if cell in self.run.done:
            return
        try:
            record = measure()
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one failing cell must not lose the run
            record = dataclasses.replace(identity, status="error", reason=_reason(exc))
        self.run.add(cell, record)

    def probe(self, profile: str, video: str) -> None:
        from loaders.probe import probe

        try:
            self.frames_of[video] = probe(video).num_frames
            self.videos[profile] = video
        except Exception as exc:  # noqa: BLE001 - a video that cannot be read fails alone
            self.unreadable[video] = videos.cause(exc)
            print(f"skipping {video}: {self.unreadable[video]}", file=sys.stderr)
            record = Record(measure="per_frame", loader=None, kind=None, stack=self.stack, profile=profile,
                            status="error", reason=_reason(exc), options={"video": video})
            self.once(_cell("probe", self.stack, profile), lambda: record, record)

    # -- extraction ---------------------------------------------------------------------------------
    def extraction(self, measure: bool) -> None:
        videos = list(self.videos.values())
        for spec in self.needed:
            cell = _cell("extraction", self.corpus_name, spec.label)
            self.step(f"extract {spec.label}")
            if measure and cell not in self.run.done:
                identity = Record(measure="extraction", loader=None, kind=None, stack=self.stack,
                                  profile=self.corpus_name, extractor=spec.extractor, format=spec.format,
                                  quality=spec.quality)
                self.once(cell, lambda spec=spec: self._measure_extraction(spec, videos), identity)
            for v in videos:
                if (v, spec) in self.store_error:
                    continue
                try:
                    self.store_of[v, spec] = stores.ensure(self.store_root, v, spec)
                except Exception as exc:  # noqa: BLE001 - a store that cannot be made fails its cells only
                    self.store_error[v, spec] = _reason(exc)
            self.progress.update()

    def _measure_extraction(self, spec: stores.StoreSpec, videos: list[str]) -> Record:
        cost = stores.measure(self.store_root, videos, spec, self.args.jobs)
        for v, why in cost.failed.items():
            self.store_error[v, spec] = why
        return Record(measure="extraction", loader=None, kind=None, stack=self.stack, profile=self.corpus_name,
                      frames=cost.frames, seconds=[cost.seconds], extractor=spec.extractor, format=spec.format,
                      quality=spec.quality, bytes=cost.bytes, source_bytes=cost.source_bytes,
                      status="error" if cost.failed else "ok",
                      reason="; ".join(cost.failed.values()) or None,
                      options={"jobs": self.args.jobs, "videos": len(videos)}).with_fps()

    # -- per frame ----------------------------------------------------------------------------------
    def path_for(self, target: Target, video: str) -> str:
        if target.spec is None:
            return video
        if (video, target.spec) in self.store_error:
            raise loaders.LoaderError(video, f"no {target.spec.label} store: {self.store_error[video, target.spec]}")
        return str(self.store_of[video, target.spec])

    def case_samples(self, video: str, pattern: Pattern) -> list[Sample]:
        return patterns.head(pattern.samples({video: self.frames_of[video]}), self.frames)

    def per_frame(self, profile: str, video: str) -> None:
        self.refs.clear()
        for target in self.live:
            self.step(f"open {target.key} {profile}")
            self.once(_cell("open", self.stack, target.key, profile),
                      lambda target=target: self._measure_open(target, profile, video),
                      target.record("open", profile))
            self.progress.update()
        # Pattern first: its reference frames are decoded once for every loader.
        for pattern in self.patterns:
            for target in self.live:
                cell = _cell("per_frame", self.stack, target.key, profile, pattern.name, _params(pattern),
                             self.frames)
                if cell not in self.run.done:
                    self.step(f"{target.key} {profile} {pattern.name}")
                    self.once(cell, lambda target=target, pattern=pattern: self._measure_per_frame(
                        target, profile, video, pattern), target.record("per_frame", profile, pattern=pattern.name))
                self.progress.update()
            self.refs.pop((video, pattern.name), None)  # they can be large: one pattern's at a time

    def verdict(self, target: Target, video: str, pattern: Pattern,
                src: loaders.Source | None = None) -> verify.Verdict:
        """Whether ``target`` reads the right frames for the per-frame samples of ``video`` (cached)."""
        key = (target.key, video, pattern.name)
        if key not in self.verdicts:
            samples = self.case_samples(video, pattern)
            if (video, pattern.name) not in self.refs:
                self.refs[video, pattern.name] = verify.reference_frames(video, samples, self.frames_of[video])
            ref = self.refs[video, pattern.name]
            if src is None:
                with loaders.open(target.loader, self.path_for(target, video)) as opened:
                    self.verdicts[key] = perframe.check(target, opened, samples, ref)
            else:
                self.verdicts[key] = perframe.check(target, src, samples, ref)
        return self.verdicts[key]

    def _measure_open(self, target: Target, profile: str, video: str) -> Record:
        path = self.path_for(target, video)
        # One warm-up open at least: the first pays for imports and a cold file cache.
        seconds = perframe.time_rounds(lambda: perframe.open_close(target, path), self.rounds, max(1, self.warmup))
        return target.record("open", profile, seconds=seconds)

    def _measure_per_frame(self, target: Target, profile: str, video: str, pattern: Pattern) -> Record:
        samples = self.case_samples(video, pattern)
        frames = perframe.frames_in(samples)
        fields = {"pattern": pattern.name, "frames": frames, "options": {"pattern": pattern.params(),
                                                                          "samples": len(samples)}}
        with loaders.open(target.loader, self.path_for(target, video)) as src:
            verdict = self.verdict(target, video, pattern, src)
            if verdict.wrong is not None:
                return target.record("per_frame", profile, status="wrong", exact=False, reason=verdict.wrong,
                                     **fields)
            seconds = perframe.time_rounds(lambda: perframe.read_samples(src, samples), self.rounds,
                                           self.warmup, setup=lambda: perframe.rewind(src))
        exact = None if target.loader == NULL else verdict.exact
        return target.record("per_frame", profile, seconds=seconds, exact=exact, **fields).with_fps()

    # -- epochs -------------------------------------------------------------------------------------
    def epoch(self, pattern: Pattern) -> None:
        self.refs.clear()  # only needed for verdicts a resumed run lacks
        samples = pattern.samples(self.frames_of)
        for target in self.live:
            for workers in self.workers:
                cell = _cell("epoch", self.stack, target.key, self.corpus_name, pattern.name, _params(pattern),
                             f"w{workers}", f"b{self.args.batch_size}", f"s{self.args.size}")
                if cell not in self.run.done:
                    self.step(f"epoch {target.key} {pattern.name} w{workers}")
                    self.once(cell, lambda target=target, workers=workers: self._measure_epoch(
                        target, pattern, samples, workers), target.record(
                        "epoch", self.corpus_name, pattern=pattern.name, workers=workers,
                        batch_size=self.args.batch_size))
                self.progress.update()

    def _measure_epoch(self, target: Target, pattern: Pattern, samples: list[Sample], workers: int) -> Record:
        fields: dict[str, Any] = {"pattern": pattern.name, "workers": workers, "batch_size": self.args.batch_size,
                                  "frames": perframe.frames_in(samples)}
        for video in self.videos.values():
            verdict = self.verdict(target, video, pattern)
            if verdict.wrong is not None:
                return target.record("epoch", self.corpus_name, status="wrong", exact=False,
                                     reason=f"{video}: {verdict.wrong}", **fields)
        paths = {v: self.path_for(target, v) for v in self.videos.values()}
        threads = runner.threads_per_worker(workers, env.cores())
        dataset = runner.SampleDataset(target.loader, samples, paths, size=self.args.size,
                                       annotations=self.annotations)
        result = runner.run(dataset, workers, self.args.batch_size, self.epochs, threads)
        exact = all(self.verdicts[target.key, v, pattern.name].exact for v in self.videos.values())
        return target.record("epoch", self.corpus_name, seconds=result.seconds, threads=result.threads,
                             peak_rss_bytes=result.peak_rss_bytes,
                             exact=None if target.loader == NULL else exact,
                             options={"pattern": pattern.params(), "size": self.args.size, "samples": len(samples),
                                      "epochs": self.epochs, "annotations": bool(self.annotations)},
                             **fields).with_fps()


def _params(pattern: Pattern) -> str:
    return ",".join(f"{k}={v}" for k, v in pattern.params().items())


def summary(path: Path, epochs: int = 10) -> None:
    """Print the crossover of every decode/frames pair measured so far in the run."""
    rows = crossover.pairs(records.read(path), epochs=epochs)
    if not rows:
        return
    print(f"extraction pays after (epochs), {len(rows)} pairs; the 10 soonest:")
    for row in sorted(rows, key=lambda r: (r.epochs is None, r.epochs or 0))[:10]:
        when = "never" if row.epochs is None else f"{row.epochs:.2f}"
        frames = f"{row.frames} ({row.extractor}-{row.format})"
        print(f"  {row.decode:>12} vs {frames:<28} {row.pattern:<16} w{row.workers}: {when}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return Bench(args).main()
    except (annotations.AnnotationError, videos.NothingToMeasure) as exc:
        raise SystemExit(f"python -m benchmarks: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
