"""How well a plan projected from a sample matches measuring the whole dataset: the proof of the
epoch model (:mod:`benchmarks.analysis.epochs`), on datasets of several shapes.

``python -m benchmarks.plan_accuracy [--small] [--out DIR] [--shapes clips,long,mixed]`` generates
each dataset (FFmpeg: libx264, libx265, libvpx-vp9), then runs ``python -m benchmarks`` over it:

- ``full``: every video, every epoch timed whole: the truth;
- ``sample``: a stratified ``--sample`` of the videos, projected to all of them;
- ``sample+budget``: the same under ``--budget`` (epochs cut to the first frames of each video,
  fewer epochs and settings);
- ``full+budget``: every video given to a run under ``--budget``, which keeps what its budget allows
  (a seeded sample of its own where it must: 6 of ``clips``' 40 at 2 minutes), projected to all of
  them (skipped with ``--small``; ``--variants`` picks);
- ``again`` (``--again``): every video measured a second time, as the truth was: how far this
  machine repeats itself, the floor under any projection's error here.

Each runs random-frame, random-clip, uniform-k and sequential with DataLoader workers 0 and 2,
warm and cold (the frame stores read from the disk, as a plan of a dataset larger than the memory
reads them; ``--warm``: warm only), a decoder and a frame reader. It prints, per variant and epoch
case, the projected epoch (with its range) over the measured one, whether the range held it, and
whether the fastest case of each pattern, workers and cache agreed; then extraction seconds and
disk bytes; then the goals of a plan you can bet on as pass/fail lines (:data:`GOALS`), and
whether each run took what its own estimate said before it measured (:func:`estimate_goal`).

A benchmark, not a test: its figures depend on the machine and its load (printed with them). The
arithmetic of the comparison is pure (:func:`compare`, :func:`winners_agree`, :func:`goals`,
:func:`estimate_goal`) and tested.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

# Goals on a quiet machine: epoch seconds within 15% for the median case and 30% for the worst;
# the range holds the measurement for 90% of cases; the same winner; disk within 10%; extraction within 20%;
# each run's own estimate, printed before it measures, within 1.5 times the time it took (either way).
GOALS = {"median": 0.15, "worst": 0.30, "held": 0.90, "disk": 0.10, "extraction": 0.20, "estimate": 1.5}
VARIANTS = ("sample", "sample+budget", "full+budget")
# Epochs measured at least this long: a user's dataset makes epochs of minutes to hours, where
# starting the workers (0.05-0.2 s here) is noise; the check's tiny datasets make many of 0.01-1 s.
LONG_EPOCH = 1.0


@dataclasses.dataclass(frozen=True)
class Clip:
    """Videos of one kind to generate: ``count`` of them, ``seconds`` long (a little more for some)."""

    name: str
    size: str  # WxH
    seconds: float
    codec: str  # libx264, libx265, libvpx-vp9
    gop_seconds: float
    count: int
    fps: int = 25

    @property
    def suffix(self) -> str:
        return ".webm" if self.codec == "libvpx-vp9" else ".mp4"


@dataclasses.dataclass(frozen=True)
class Shape:
    clips: tuple[Clip, ...]
    sample: int  # videos the sample keeps


def shapes(small: bool) -> dict[str, Shape]:
    """Three datasets: many short clips; a few long videos with long keyframe intervals; mixed
    resolutions and codecs with keyframe intervals from 1 s to 10 s. ``small``: a few minutes' worth."""
    if small:
        return {
            "clips": Shape((Clip("clip", "192x144", 1, "libx264", 1, 12),), 3),
            "long": Shape((Clip("long", "320x180", 10, "libx264", 8, 2, fps=15),), 1),
            "mixed": Shape((Clip("avc", "320x180", 3, "libx264", 1, 2), Clip("hevc", "320x180", 3, "libx265", 2, 2),
                            Clip("vp9", "640x360", 3, "libvpx-vp9", 10, 1),
                            Clip("avc480", "854x480", 2, "libx264", 4, 1)), 3),
        }
    return {
        "clips": Shape((Clip("clip", "320x240", 2, "libx264", 1, 40),), 6),
        # 40-60 s at 15 fps, keyframes every 10 s: a random frame decodes 75 on average. At 640x360 and
        # 25 fps the truth's random-frame epochs alone took hours on 2 cores.
        "long": Shape((Clip("long", "480x270", 40, "libx264", 10, 3, fps=15),), 1),
        "mixed": Shape((Clip("avc", "640x360", 6, "libx264", 1, 4), Clip("hevc", "640x360", 6, "libx265", 2, 3),
                        Clip("vp9", "854x480", 8, "libvpx-vp9", 10, 2), Clip("avc720", "1280x720", 4, "libx264", 4, 2),
                        Clip("hevc720", "1280x720", 4, "libx265", 5, 1)), 4),
    }


def encoder_options(clip: Clip) -> list[str]:
    gop = str(max(1, round(clip.gop_seconds * clip.fps)))
    if clip.codec == "libx265":  # closed GOPs: an open GOP's leading frames are what some decoders refuse
        return ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error"]
    if clip.codec == "libvpx-vp9":
        return ["-c:v", "libvpx-vp9", "-g", gop, "-keyint_min", gop, "-deadline", "realtime", "-cpu-used", "8",
                "-b:v", "0", "-crf", "40"]
    return ["-c:v", clip.codec, "-preset", "veryfast", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0"]


def generate(folder: Path, shape: Shape) -> None:
    from benchmarks import corpus

    folder.mkdir(parents=True, exist_ok=True)
    for clip in shape.clips:
        for i in range(clip.count):
            path = folder / f"{clip.name}-{i}{clip.suffix}"
            if path.exists():
                continue
            source = ("testsrc2", "smptehdbars", "rgbtestsrc")[i % 3]
            seconds = clip.seconds + (i % 2) * clip.seconds / 2
            # No two clips alike: a noise of its own seed, at a strength from 10 to 80 (at most 100).
            noise = f"noise=alls={10 + 5 * (i % 15)}:all_seed={i}:allf=t"
            partial = path.with_name(f".{path.stem}.partial{path.suffix}")  # never a half-written video reused
            done = subprocess.run([corpus.ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                                   f"{source}=size={clip.size}:rate={clip.fps},{noise}", "-t", f"{seconds:g}",
                                   *encoder_options(clip), "-pix_fmt", "yuv420p", str(partial)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                partial.unlink(missing_ok=True)
                raise SystemExit(f"cannot generate {path} with FFmpeg (exit {done.returncode}): "
                                 f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
            partial.replace(path)


def run_options(small: bool, cold: bool) -> list[str]:
    loaders = "pyav,npy" if small else "pyav,torchcodec,npy,simplejpeg"
    formats = "npy" if small else "jpeg,npy"
    return ["--loaders", loaders, "--formats", formats, "--store-sizes", "128" if small else "256",
            "--full-size", "", "--gops", "", "--patterns", "sequential,random-frame,random-clip,uniform-k",
            "--workers", "0,2", "--epochs", "3", "--cache", "cold,warm" if cold else "warm",
            "--measures", "per_frame,extraction,epoch", "--min-time", "0.1" if small else "0.3",
            "--frames", "8", "--size", "64" if small else "112", "--jobs", "2"]


def finished(out: Path, run_id: str) -> bool:
    """Whether ``run_id`` under ``out`` ran to its end: its log holds the run's last line, ``run ID:
    RECORDS`` (its first, ``run ID: records to ...``, says only that it started)."""
    log, records_path = out / f"{run_id}.log", out / run_id / "records.jsonl"
    if not (log.is_file() and records_path.is_file()):
        return False
    last, first = f"run {run_id}: ", f"run {run_id}: records to "
    return any(line.startswith(last) and not line.startswith(first)
               for line in log.read_text(encoding="utf-8", errors="replace")[-4000:].splitlines())


def bench(out: Path, videos: Path, run_id: str, options: list[str], reuse: bool = False) -> tuple[Path, float]:
    """One run of the suite, its output in ``<run>.log``; (its folder, its seconds). ``reuse``: a
    run that finished before is read again, not measured again (0 seconds)."""
    if reuse and finished(out, run_id):
        return out / run_id, 0.0
    for old in (out / run_id, out / f"stores-{run_id}"):  # measure afresh: a run left there would be resumed
        if old.is_symlink():  # a link to another run's folder: dropped, that run left as it is
            old.unlink()
        shutil.rmtree(old, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(out / f"{run_id}.log", "w", encoding="utf-8") as log:
        done = subprocess.run([sys.executable, "-m", "benchmarks", "--videos", str(videos), "--out", str(out),
                               "--run-id", run_id, "--stores", str(out / f"stores-{run_id}"), *options],
                              stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"python -m benchmarks failed for {run_id} (exit {done.returncode}): see {out / run_id}.log")
    return out / run_id, time.monotonic() - start


# -- the comparison (pure) ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Comparison:
    """One case: the projection, its range and the measurement."""

    key: Hashable
    projected: float
    low: float
    high: float
    measured: float

    @property
    def ratio(self) -> float:
        return self.projected / self.measured if self.measured > 0 else float("inf")

    @property
    def error(self) -> float:
        """|projected / measured - 1|."""
        return abs(self.ratio - 1)

    @property
    def held(self) -> bool:
        return self.low <= self.measured <= self.high


def compare(projected: Mapping[Hashable, tuple[float, float, float]],
            measured: Mapping[Hashable, float]) -> list[Comparison]:
    """Every case both sides have, projected (point, low, high) against measured, in the measured order."""
    return [Comparison(k, *projected[k], measured[k]) for k in measured if k in projected]


def _contests(rows: Sequence[Comparison],
              group: Callable[[Hashable], Hashable]) -> dict[Hashable, tuple[Comparison, Comparison]]:
    """Per group of cases (``group(key)``) with more than one: the fastest by the projection and the
    fastest measured."""
    by: dict[Hashable, list[Comparison]] = {}
    for r in rows:
        by.setdefault(group(r.key), []).append(r)
    return {g: (min(rs, key=lambda r: r.projected), min(rs, key=lambda r: r.measured))
            for g, rs in by.items() if len(rs) > 1}


def winners_agree(rows: Sequence[Comparison], group: Callable[[Hashable], Hashable]) -> dict[Hashable, bool]:
    """Per group of cases (``group(key)``; a pattern, workers and cache), whether the fastest by the
    projection is the fastest measured. Groups of one case are not a contest and are left out."""
    return {g: chosen.key == fastest.key for g, (chosen, fastest) in _contests(rows, group).items()}


def winner_gaps(rows: Sequence[Comparison], group: Callable[[Hashable], Hashable]) -> dict[Hashable, float]:
    """Per group whose winners differ (:func:`winners_agree`): how much longer the projection's winner
    measured than the fastest measured, a ratio over 1. A gap within what the same epoch moves
    between two runs (:data:`benchmarks.analysis.epochs.REPEATS`) is a tie no run here can call."""
    return {g: chosen.measured / fastest.measured for g, (chosen, fastest) in _contests(rows, group).items()
            if chosen.key != fastest.key and fastest.measured > 0}


def width(rows: Sequence[Comparison]) -> float:
    """The median of the ranges' high over low: how much a range that holds says (x1: one figure)."""
    return statistics.median(r.high / r.low if r.low > 0 else float("inf") for r in rows)


@dataclasses.dataclass(frozen=True)
class Goal:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def goals(rows: Sequence[Comparison], agree: Mapping[Hashable, bool], disk: Sequence[float],
          extraction: Sequence[float], limits: Mapping[str, float] = GOALS) -> list[Goal]:
    """The goals as pass/fail lines: ``rows`` the epoch comparisons, ``agree`` the winner per group,
    ``disk`` and ``extraction`` the projected / measured ratios of each store. A goal with nothing
    to judge fails, saying so (a proof that measured nothing proves nothing)."""
    out = []
    if rows:
        errors = sorted(r.error for r in rows)
        median, worst = statistics.median(errors), errors[-1]
        held = sum(r.held for r in rows) / len(rows)
        out += [Goal("epoch, median case", median <= limits["median"],
                     f"off by {100 * median:.0f}% (goal {100 * limits['median']:.0f}%)"),
                Goal("epoch, worst case", worst <= limits["worst"],
                     f"off by {100 * worst:.0f}% (goal {100 * limits['worst']:.0f}%)"),
                Goal("range holds the measurement", held >= limits["held"],
                     f"{sum(r.held for r in rows)} of {len(rows)} ({100 * held:.0f}%, "
                     f"goal {100 * limits['held']:.0f}%; median width x{width(rows):.2f}, high / low)")]
    else:
        out.append(Goal("epoch", False, "no case measured on both sides"))
    out.append(Goal("same winner", bool(agree) and all(agree.values()),
                    f"{sum(agree.values())} of {len(agree)} patterns" if agree else "no contest measured"))
    for name, ratios in (("disk", disk), ("extraction", extraction)):
        if not ratios:
            out.append(Goal(name, False, "nothing measured on both sides"))
            continue
        worst = max(abs(r - 1) for r in ratios)
        out.append(Goal(name, worst <= limits[name], f"worst off by {100 * worst:.0f}% over {len(ratios)} stores "
                                                     f"(goal {100 * limits[name]:.0f}%)"))
    return out


# -- reading the runs ----------------------------------------------------------------------------------

def measured_epochs(run: Path) -> dict[Hashable, float]:
    """Epoch case -> its median seconds, as timed over every video."""
    from benchmarks import records
    from benchmarks.analysis import plan

    ok = [r for r in records.read(run / "records.jsonl") if r.measure == "epoch" and r.status == "ok"
          and r.loader != "noop" and records.valid_seconds(r)]
    return {plan.epoch_key(r): statistics.median(records.valid_seconds(r)) for r in ok}


def projected_epochs(run: Path) -> dict[Hashable, tuple[float, float, float]]:
    from benchmarks import dataset, records
    from benchmarks.analysis import plan

    data = dataset.load(run)
    if data is None:
        raise SystemExit(f"{run}: no dataset.json")
    got = plan.epoch_cases(records.read(run / "records.jsonl"), data)
    return {k: (p.seconds, p.low, p.high) for k, (_, p) in got.items()}


def stores_compared(run: Path, truth: Path) -> tuple[list[float], list[float]]:
    """Projected / measured disk bytes and extraction seconds, per store."""
    disk, seconds = stores_by_title(run, truth)
    return list(disk.values()), list(seconds.values())


def stores_by_title(run: Path, truth: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Projected / measured disk bytes and extraction seconds, by store title."""
    from benchmarks import dataset, records
    from benchmarks.analysis import plan

    def made(path: Path) -> dict[str, plan.Strategy]:
        return {s.store.title: s for s in plan.project(records.read(path / "records.jsonl"), dataset.load(path))
                if s.store is not None}

    mine, full = made(run), made(truth)
    both = [k for k in full if k in mine]
    disk = {k: mine[k].disk_bytes / full[k].disk_bytes for k in both if full[k].disk_bytes}
    seconds = {k: mine[k].extraction_seconds / full[k].extraction_seconds for k in both if full[k].extraction_seconds}
    return disk, seconds


# -- the machine's pace beside each measurement ----------------------------------------------------------

def paces(run: Path) -> tuple[str | None, dict[Hashable, float]]:
    """The video the run's anchor was timed on (None: none, or more than one), and the machine's
    pace (:func:`benchmarks.analysis.drift.paces`, the anchors either side) beside each epoch case
    (by its key) and each extraction (by ``("extraction", store title)``)."""
    from benchmarks import records
    from benchmarks.analysis import drift, plan

    recs = list(records.read(run / "records.jsonl"))
    videos = {r.profile for r in recs if r.measure == drift.ANCHOR and r.status == "ok"}
    out: dict[Hashable, float] = {}
    for stack in sorted({r.stack for r in recs}):
        for r, at in drift.paces(recs, stack):
            if r.status != "ok":
                continue
            if r.measure == "epoch" and r.loader != "noop":
                out[plan.epoch_key(r)] = at
            elif r.measure == "extraction" and r.store is not None:
                out[("extraction", r.store.title)] = at
    return (videos.pop() if len(videos) == 1 else None), out


def at_pace(rows: Sequence[Comparison], mine: Mapping[Hashable, float],
            truth: Mapping[Hashable, float]) -> list[Comparison]:
    """The comparisons whose both sides have a pace, each truth rescaled to the pace the projection's
    run measured at: measured x (the truth's pace / the run's). A projection is then judged against
    what its own machine would have measured, not against the machine's move between the runs."""
    return [dataclasses.replace(r, measured=r.measured * truth[r.key] / mine[r.key])
            for r in rows if r.key in mine and r.key in truth and mine[r.key] > 0]


def paced_runs(run: Path, truth: Path) -> tuple[dict[Hashable, float], dict[Hashable, float]] | None:
    """Both runs' paces (:func:`paces`), where both timed the anchor on the same video; else None."""
    (video, mine), (theirs, full) = paces(run), paces(truth)
    return (mine, full) if video is not None and video == theirs and mine and full else None


UNEVEN = 1.15  # a truth's epoch whose workers its own order kept this much less busy than its samples say


def dealt_unevenly(run: Path) -> dict[Hashable, tuple[float, float]]:
    """The run's epoch cases at workers above 0 whose seeded order dealt the work unevenly: the
    workers kept busy on average by the work dealt to each, and by their samples
    (:func:`benchmarks.analysis.plan.busy_workers`), where the samples say :data:`UNEVEN` times
    as many. A small dataset's one order can give one worker most of the work (a batch of its
    largest videos); the epoch then lasts as long as that worker, which a projection at the
    samples' count, as a larger dataset deals them, does not foresee."""
    from benchmarks import dataset, records
    from benchmarks.analysis import plan

    data = dataset.load(run)
    if data is None:
        return {}
    return {plan.epoch_key(r): got for r, got in plan.busy_workers(records.read(run / "records.jsonl"), data)
            if got[0] > 0 and got[1] / got[0] >= UNEVEN}


STEADY = 1.15  # an anchor that moved more than this (trust.md's repeatability): not a quiet machine


def run_drift(run: Path) -> float | None:
    """How far the machine moved over a run: its anchor case (its slowest against its fastest) as a
    factor of at least 1; None where the run timed no anchor."""
    from benchmarks import records
    from benchmarks.analysis import drift

    found = [d for d in drift.drift(records.read(run / "records.jsonl")) if d.within]
    return max((drift.factor(d.within) for d in found), default=None)


def steady(*drifts: float | None) -> bool:
    """Whether every run compared held steady (its anchor moved by less than :data:`STEADY`)."""
    return all(d is not None and d <= STEADY for d in drifts)


def pace(run: Path, truth: Path) -> float | None:
    """The machine's pace over ``run`` against over ``truth``: the main stack's anchor frames/s (the
    geometric mean of all it timed) in the one over the other, where both timed it on the same
    video (a sample's first video need not be the truth's); None where they did not. Below 1, the
    machine was slower in ``run``: its epochs carry that against the truth's, whatever the model."""
    from benchmarks import records
    from benchmarks.analysis import drift

    def level(path: Path) -> tuple[str | None, float | None]:
        found = [r for r in records.read(path / "records.jsonl")
                 if r.measure == drift.ANCHOR and r.stack == drift.REFERENCE and r.status == "ok"]
        videos = {r.profile for r in found}
        stacks = [d for d in drift.drift(found) if d.stack == drift.REFERENCE]
        return (videos.pop() if len(videos) == 1 else None), (stacks[0].level if stacks else None)

    (video, mine), (theirs_video, theirs) = level(run), level(truth)
    return mine / theirs if video is not None and video == theirs_video and mine and theirs else None


def _moved(factor: float | None, paced: float | None = None) -> str:
    moved = "no anchor" if factor is None else f"anchor moved x{factor:.2f}"
    return moved + (f", pace x{paced:.2f} of the truth's on the same video" if paced is not None else "")


def label(key: Any) -> str:
    pattern, loader, store, workers, cache, stack = key
    where = f"@{store.title}" if store is not None else ""
    return f"{pattern} w{workers} {cache or '-'} {loader}{where}" + ("" if stack == "main" else f" [{stack}]")


def _group(key: Any) -> Hashable:
    return key[0], key[3], key[4]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.plan_accuracy", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/plan-accuracy"))
    p.add_argument("--small", action="store_true", help="small datasets and one decoder, one reader: a few minutes")
    p.add_argument("--shapes", default="clips,long,mixed")
    p.add_argument("--variants", default=None, help=f"of {', '.join(VARIANTS)} (default: all; --small: the first two)")
    p.add_argument("--budget", default=None, help="--budget of the budget variants (default 20s, --small; 2m)")
    p.add_argument("--warm", action="store_true",
                   help="warm epochs only (by default the frame stores are timed cold as well)")
    p.add_argument("--again", action="store_true",
                   help="measure every video a second time: how far the truth moves from itself on this machine")
    p.add_argument("--reuse", action="store_true",
                   help="read the runs that finished under --out again instead of measuring them again")
    args = p.parse_args(argv)
    from benchmarks.analysis.epochs import REPEATS

    known = shapes(args.small)
    chosen = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in chosen if s not in known]
    variants = args.variants.split(",") if args.variants else list(VARIANTS[:2] if args.small else VARIANTS)
    if unknown or any(v not in VARIANTS for v in variants):
        p.error(f"shapes are {', '.join(known)}; variants are {', '.join(VARIANTS)}")
    budget = args.budget or ("20s" if args.small else "2m")
    options = run_options(args.small, not args.warm)
    load = os.getloadavg()
    print(f"plan accuracy: {len(chosen)} shapes, variants {', '.join(variants)}; load {load[0]:.1f} on "
          f"{os.cpu_count()} cores at the start", flush=True)
    every: list[Comparison] = []
    quiet: list[Comparison] = []  # of runs (the truth and the projection's) whose anchor held steady
    agree_quiet: dict[Hashable, bool] = {}
    agree: dict[Hashable, bool] = {}
    missed: dict[Hashable, float] = {}  # the projected winner's measured epoch over the fastest's, where they differ
    disks: list[float] = []
    seconds: list[float] = []
    again: list[Comparison] = []  # the truth measured a second time, against the first
    again_extraction: list[float] = []
    at_pace_rows: list[Comparison] = []  # every comparison whose both runs timed the anchor on the same video
    at_pace_extraction: list[float] = []
    timings: list[tuple[str, float, float]] = []  # each run's own estimate and the time it took
    for name in chosen:
        shape = known[name]
        videos = args.out / name / "videos"
        generate(videos, shape)
        truth, took = bench(args.out / name, videos, "full", options, args.reuse)
        truth_drift = run_drift(truth)
        print(f"\n== {name}: {sum(c.count for c in shape.clips)} videos; full run {took:.0f} s "
              f"(load {os.getloadavg()[0]:.1f}, {_moved(truth_drift)}{_timing(truth, f'full of {name}', timings)})",
              flush=True)
        measured = measured_epochs(truth)
        uneven = dealt_unevenly(truth)
        if uneven:
            print("   its own order dealt the work unevenly, so these epochs last as long as their busiest worker "
                  "(workers busy on average, by the work dealt / by the samples): "
                  + "; ".join(f"{label(k)} {w:.2f} / {c:.2f}" for k, (w, c) in sorted(uneven.items(), key=str)))
        if args.again:
            rows, extraction = _again(args.out / name, videos, options, args.reuse, truth, measured)
            again += rows
            again_extraction += extraction
        for variant in variants:
            extra = (["--sample", str(shape.sample)] if variant.startswith("sample") else []) \
                + (["--budget", budget] if variant.endswith("budget") else [])
            run, took = bench(args.out / name, videos, variant.replace("+", "-"), options + extra, args.reuse)
            rows = compare(projected_epochs(run), measured)
            won = winners_agree(rows, _group)
            disk, extraction = stores_compared(run, truth)
            both = paced_runs(run, truth)
            paced = at_pace(rows, *both) if both else []
            mine = run_drift(run)
            print(f"-- {variant} ({took:.0f} s, load {os.getloadavg()[0]:.1f}, {_moved(mine, pace(run, truth))}"
                  f"{_timing(run, f'{variant} of {name}', timings)}): projected (low-high) / measured", flush=True)
            for r in rows:
                print(f"   {label(r.key):<44} {r.projected:8.2f} ({r.low:.2f}-{r.high:.2f}) / {r.measured:7.2f} "
                      f"= {r.ratio:5.2f}  {'held' if r.held else 'MISSED'}")
            gaps = winner_gaps(rows, _group)
            for group, ok in sorted(won.items(), key=str):
                parts: tuple[Any, ...] = tuple(group) if isinstance(group, tuple) else (group, "", "")
                gap = (f" (the projected winner measured {100 * (gaps[group] - 1):.0f}% slower than the fastest"
                       f"{', within what an epoch moves between runs' if gaps[group] <= REPEATS else ''})"
                       if group in gaps else "")
                print(f"   winner {parts[0]} w{parts[1]} {parts[2]}: {'agrees' if ok else 'DIFFERS'}{gap}")
            print(f"   extraction {', '.join(f'{x:.2f}' for x in extraction) or '-'}; "
                  f"disk {', '.join(f'{x:.2f}' for x in disk) or '-'} (projected / measured)")
            for goal in goals(rows, won, disk, extraction):
                print(f"   {goal.line()}")
            if both:
                paced_extraction = _paced_stores(run, truth, *both)
                print(f"   at the projection's run's pace (each truth x its pace / the run's, the anchors either "
                      f"side of each; {len(paced)} of {len(rows)} epochs): epochs "
                      + ", ".join(f"{r.ratio:.2f}" for r in paced)
                      + f"; extraction {', '.join(f'{x:.2f}' for x in paced_extraction) or '-'}")
                for goal in _paced_goals(paced, paced_extraction):
                    print(f"   {goal.line()}")
                at_pace_rows.extend(paced)
                at_pace_extraction.extend(paced_extraction)
            every += rows
            if steady(truth_drift, mine):
                quiet += rows
                agree_quiet.update({(name, variant, g): ok for g, ok in won.items()})
            agree.update({(name, variant, g): ok for g, ok in won.items()})
            missed.update({(name, variant, g): gap for g, gap in gaps.items()})
            disks += disk
            seconds += extraction
    print(f"\n== all shapes and variants (load {os.getloadavg()[0]:.1f} at the end):")
    for goal in goals(every, agree, disks, seconds):
        print(goal.line())
    if missed:
        ties = sum(gap <= REPEATS for gap in missed.values())
        print(f"      of the {len(missed)} winner{'s' if len(missed) != 1 else ''} missed, {ties} measured within "
              f"x{REPEATS:g} of the fastest (what an epoch moves between runs); the worst "
              f"{100 * (max(missed.values()) - 1):.0f}% slower")
    print(estimate_goal(timings).line())
    long = [r for r in every if r.measured >= LONG_EPOCH]
    print(f"\n== epochs measured at {LONG_EPOCH:g} s or longer: {len(long)} of {len(every)} cases (the epoch goals "
          "at a size where starting the workers is not most of it)")
    for goal in goals(long, agree, disks, seconds)[:3] if long else []:
        print(goal.line())
    if at_pace_rows:
        print(f"\n== at the projection's run's pace: {len(at_pace_rows)} of {len(every)} cases (the model's error "
              "with the machine's move between the runs, as its anchor saw it, taken out)")
        for goal in _paced_goals(at_pace_rows, at_pace_extraction):
            print(goal.line())
    if args.again:
        print("\n== the truth measured twice (the floor under any projection's error on this machine):")
        for goal in _repeat_goals(again, again_extraction):
            print(goal.line())
    print(f"\n== where both runs held steady (anchor within x{STEADY:.2f}): {len(quiet)} of {len(every)} cases")
    if quiet:
        for goal in goals(quiet, agree_quiet, disks, seconds)[:4]:  # the epoch goals and the winner
            print(goal.line())
    else:
        print("none: the machine moved under every run, so these figures measure its load as much as the model")
    return 0


def _again(out: Path, videos: Path, options: list[str], reuse: bool, truth: Path,
           measured: Mapping[Hashable, float]) -> tuple[list[Comparison], list[float]]:
    """Every video measured a second time (run ``again``), printed against the truth: its epochs
    (the second measurement over the first) and its extraction seconds."""
    from benchmarks.analysis import epochs

    run, took = bench(out, videos, "again", options, reuse)
    rows = repeated(measured_epochs(run), measured)
    _, extraction = stores_compared(run, truth)
    print(f"-- again ({took:.0f} s, load {os.getloadavg()[0]:.1f}, {_moved(run_drift(run), pace(run, truth))}): "
          "every video measured a second time / the first", flush=True)
    for r in rows:
        print(f"   {label(r.key):<44} {r.projected:8.2f} / {r.measured:7.2f} = {r.ratio:5.2f}")
    print(f"   extraction {', '.join(f'{x:.2f}' for x in extraction) or '-'} (again / first)")
    allowed = epochs.REPEATS
    print(f"   {moved_within(rows, allowed)} of {len(rows)} epochs moved by less than x{allowed:g} either way, "
          "what a projection's range allows for it (benchmarks.analysis.epochs.REPEATS)")
    for goal in _repeat_goals(rows, extraction):
        print(f"   {goal.line()}")
    both = paced_runs(run, truth)
    if both:
        paced = at_pace(rows, *both)
        paced_extraction = _paced_stores(run, truth, *both)
        print(f"   at the same pace ({len(paced)} of {len(rows)} epochs; the first x its pace / the second's): "
              f"{moved_within(paced, allowed)} moved by less than x{allowed:g}")
        for goal in _repeat_goals(paced, paced_extraction):
            print(f"   {goal.line()}")
    return rows, extraction


def _paced_stores(run: Path, truth: Path, mine: Mapping[Hashable, float],
                  full: Mapping[Hashable, float]) -> list[float]:
    """Projected / measured extraction seconds per store, at the projection's run's pace."""
    _, seconds = stores_by_title(run, truth)
    return [ratio * mine[("extraction", k)] / full[("extraction", k)] for k, ratio in seconds.items()
            if ("extraction", k) in mine and ("extraction", k) in full and full[("extraction", k)] > 0]


def estimate_goal(timings: Sequence[tuple[str, float, float]], limit: float = GOALS["estimate"]) -> Goal:
    """Whether each run's estimate (``timings``: its name, the seconds estimated, the seconds it
    took) was within ``limit`` times what it took, either way; the worst named. Nothing to judge
    (runs made before the estimate was kept with them) fails, saying so."""
    if not timings:
        return Goal("run's own estimate", False, "no run kept its estimate (stack-<name>.json)")
    off = [(max(took / est, est / took), name, est, took) for name, est, took in timings]
    factor, name, est, took = max(off)
    within = sum(f <= limit for f, *_ in off)
    return Goal("run's own estimate", within == len(off),
                f"{within} of {len(off)} runs within x{limit:g} of the time they took; the worst x{factor:.2f} "
                f"({name}: estimated {est:.0f} s, took {took:.0f} s)")


def _timing(run: Path, name: str, timings: list[tuple[str, float, float]]) -> str:
    """What ``run`` estimated and took, kept in ``timings`` as ``name``; for its line ("" if not kept)."""
    from benchmarks import finished

    got = finished.timing(run, "main")
    if got is None:
        return ""
    timings.append((name, *got))
    return f", estimated {got[0]:.0f} s, took {got[1]:.0f} s"


def _paced_goals(rows: Sequence[Comparison], extraction: Sequence[float]) -> list[Goal]:
    """The epoch goals (median, worst, ranges) and extraction's, judged at the projection's run's pace."""
    judged = goals(rows, {}, [], extraction)
    return [g for g in judged if g.name.startswith(("epoch", "range")) or g.name == "extraction"]


def repeated(second: Mapping[Hashable, float], first: Mapping[Hashable, float]) -> list[Comparison]:
    """The same cases measured twice, as comparisons of the second (as if projected, its range
    itself) with the first: how far the measurement moves on its own."""
    return compare({k: (v, v, v) for k, v in second.items()}, first)


def moved_within(rows: Sequence[Comparison], factor: float) -> int:
    """How many of the cases measured twice (:func:`repeated`) moved by no more than ``factor`` either way."""
    return sum(1 / factor <= r.ratio <= factor for r in rows)


def _repeat_goals(rows: Sequence[Comparison], extraction: Sequence[float]) -> list[Goal]:
    """The epoch and extraction goals a measurement taken again meets against itself (over every
    epoch, and over those of :data:`LONG_EPOCH` or longer)."""
    judged = goals(rows, {}, [], extraction)
    long = [r for r in rows if r.measured >= LONG_EPOCH]
    over_long = [dataclasses.replace(g, name=f"{g.name}, epochs of {LONG_EPOCH:g} s or longer")
                 for g in goals(long, {}, [], [])[:2]] if long else []
    return judged[:2] + over_long + [g for g in judged if g.name == "extraction"]


if __name__ == "__main__":
    sys.exit(main())
