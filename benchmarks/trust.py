"""``python -m benchmarks.trust``: how far the suite's own figures can be trusted, measured.

* **Repeatability**: two back-to-back ``--quick`` per-frame runs on the same video. Per loader
  (over the cases of every store it reads; goal: at most 15%) and per target (a loader on one
  store), the median over the cases of ``|fps_b / fps_a - 1|``; per
  pattern, Spearman's rank correlation of the loaders' fps between the runs (goal: 0.9 or more).
* **Overhead**: the baseline loader's time per frame as a share of the fastest decoder's, per
  pattern, in both runs (goal: under 1%).
* **Fidelity**: for pyav, torchcodec, decord and cv2-grab on ``sequential`` and ``random-frame``,
  the suite's measurement of a case against a plain loop making the same calls on an open
  source (back to frame 0, then the case's ``get_frames`` calls under one timer: nothing of the
  harness, no calibration, no verification, no records), the two taken in turns (goal:
  0.85-1.15x). The suite's side is timed as ``python -m benchmarks`` times it
  (:meth:`benchmarks.core.Workspace.measure_interleaved`). It checks the harness's timing, not a
  loader against its library used by hand.
* **Duration** (``--duration``, tens of minutes): the wall time of a default main-stack run,
  per measure, from the records' time stamps.

Everything is written to ``<out>/trust.json`` and printed as a table. Run it on a quiet machine:
its figures are about the harness, and a busy machine's noise is what they would show.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

import loaders
from benchmarks import cli, core, corpus, env, patterns, perframe, records
from benchmarks.analysis import summary
from benchmarks.calibration import Calibration
from benchmarks.spec import Target
from loaders.vocabulary import DECODE

FIDELITY_LOADERS = ("pyav", "torchcodec", "decord", "cv2-grab")
FIDELITY_PATTERNS = ("sequential", "random-frame")
GOALS = {"repeatability": 0.15, "spearman": 0.9, "overhead": 0.01, "fidelity": (0.85, 1.15),
         "duration_seconds": 20 * 60}


def _quick_run(out: Path, run_id: str, extra: Sequence[str]) -> Path:
    if cli.main(["--quick", "--measures", "per_frame", "--out", str(out), "--run-id", run_id, *extra]) != 0:
        raise SystemExit(f"the --quick run {run_id} failed")
    return out / run_id


def _per_frame(run: Path) -> dict[tuple[str, str, str], float]:
    """(target label, pattern, profile) -> fps median of every timed per-frame case."""
    return summary.per_frame_fps(records.read(run / "records.jsonl"))


def repeatability(a: Path, b: Path) -> dict[str, Any]:
    """Per loader (the goal: every store and transcode it reads counted among its cases) and, stricter,
    per target (a loader on one store), the median over the cases of the change between the runs."""
    first, second = _per_frame(a), _per_frame(b)
    both = sorted(set(first) & set(second))
    per_target: dict[str, list[float]] = {}
    per_loader: dict[str, list[float]] = {}
    for key in both:
        change = abs(second[key] / first[key] - 1)
        per_target.setdefault(key[0], []).append(change)
        per_loader.setdefault(key[0].split(" | ")[1], []).append(change)
    spearman = {}
    for pattern in sorted({k[1] for k in both}):
        keys = [k for k in both if k[1] == pattern]
        rho = spearmanr([first[k] for k in keys], [second[k] for k in keys]).statistic
        spearman[pattern] = float(rho)
    deviation = {name: statistics.median(v) for name, v in per_loader.items()}
    by_target = {name: statistics.median(v) for name, v in per_target.items()}
    return {"cases": len(both), "median_deviation_per_loader": deviation,
            "worst_loader": max(deviation, key=deviation.__getitem__) if deviation else None,
            "worst_deviation": max(deviation.values(), default=None),
            "median_deviation_per_target": by_target,
            "worst_target": max(by_target, key=by_target.__getitem__) if by_target else None,
            "worst_target_deviation": max(by_target.values(), default=None),
            "spearman_per_pattern": spearman, "worst_spearman": min(spearman.values(), default=None)}


def overhead(runs: Sequence[Path]) -> dict[str, Any]:
    shares: dict[str, list[float]] = {}
    for run in runs:
        for row in summary.overhead(records.read(run / "records.jsonl")):
            if row["share_of_fastest_decode"] is not None:
                shares.setdefault(str(row["pattern"]), []).append(float(row["share_of_fastest_decode"]))
    per_pattern = {p: max(v) for p, v in shares.items()}
    return {"share_of_fastest_decode_per_pattern": per_pattern, "worst": max(per_pattern.values(), default=None)}


def _plain_loop(target: Target, path: str, calls: Sequence[patterns.Sample], frames: int,
                calibration: Calibration) -> float:
    """Median fps of passes over ``calls`` on one open source: a warm-up pass, then passes until
    the calibration's time and count; each pass goes back to frame 0 (as the suite's untimed
    rewind does) and then times the calls, and nothing else."""
    rates: list[float] = []
    with loaders.open(target.loader, path) as src:
        for call in calls:
            src.get_frames(call.indices)
        spent = 0.0
        while len(rates) < calibration.min_rounds or spent < calibration.min_time:
            src.get_frames([0])
            start = time.perf_counter()
            for call in calls:
                src.get_frames(call.indices)
            took = time.perf_counter() - start
            spent += took
            rates.append(frames / took)
    return statistics.median(rates)


def fidelity(video: str, turns: int, store_root: Path) -> dict[str, Any]:
    settings = core.SETTINGS["default"]
    work = core.Workspace(core.spec_for({"video": video}, settings), store_root)
    available = loaders.available()
    out: dict[str, Any] = {}
    for name in FIDELITY_LOADERS:
        if available[name] is not None:
            out[name] = {"unavailable": available[name]}
            continue
        target = Target(name, DECODE)
        for pattern in patterns.parse(FIDELITY_PATTERNS):
            case = core.Case("per_frame", target, "video", pattern, settings.frames)
            samples = work.samples(video, pattern)
            calls = patterns.calls(pattern, samples)
            frames = perframe.frames_in(samples)
            suite, plain = [], []
            for _ in range(turns):  # in turns, so load drift hits both alike
                [(_, record)] = list(work.measure_interleaved([case]))  # the command line's timer
                if record.status != "ok" or record.fps_median is None:
                    raise SystemExit(f"{name} {pattern.name}: {record.status} {record.reason}")
                suite.append(record.fps_median)
                plain.append(_plain_loop(target, video, calls, frames, settings.calibration))
            out.setdefault(name, {})[pattern.name] = {
                "suite_fps": statistics.median(suite), "plain_fps": statistics.median(plain),
                "ratio": statistics.median(suite) / statistics.median(plain)}
    ratios = [v["ratio"] for d in out.values() for v in d.values() if isinstance(v, dict)]
    return {"per_loader": out, "lowest": min(ratios, default=None), "highest": max(ratios, default=None)}


def duration(out: Path) -> dict[str, Any]:
    """A default main-stack run, timed; seconds per measure from the gaps between its records."""
    start = time.monotonic()
    if cli.main(["--out", str(out), "--run-id", "duration"]) != 0:
        raise SystemExit("the default run failed")
    wall = time.monotonic() - start
    recs = list(records.read(out / "duration" / "records.jsonl"))
    per_measure: dict[str, float] = {}
    for before, after in zip(recs, recs[1:], strict=False):
        gap = (dt.datetime.fromisoformat(after.time) - dt.datetime.fromisoformat(before.time)).total_seconds()
        per_measure[after.measure] = per_measure.get(after.measure, 0.0) + gap
    return {"main_stack_seconds": wall, "seconds_per_measure": per_measure}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.trust", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/trust"), help="where the runs and trust.json go")
    p.add_argument("--turns", type=int, default=3, help="suite/plain-loop alternations per fidelity case")
    p.add_argument("--duration", action="store_true", help="also time a default main-stack run (tens of minutes)")
    p.add_argument("--stores", type=Path, help="where the quick runs extract their stores")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    extra = ["--stores", str(args.stores)] if args.stores else []
    a = _quick_run(args.out, f"{stamp}-a", extra)
    b = _quick_run(args.out, f"{stamp}-b", extra)
    video = str(corpus.make(core.QUICK_PROFILES[0]))
    found: dict[str, Any] = {
        "goals": GOALS, "machine": {"cores": env.cores(), "load_average": _load_average()},
        "repeatability": repeatability(a, b), "overhead": overhead([a, b]),
        "fidelity": fidelity(video, args.turns, args.stores or corpus.DEFAULT_CACHE / "stores")}
    if args.duration:
        found["duration"] = duration(args.out / stamp)
    found["machine"]["load_average_after"] = _load_average()
    (args.out / "trust.json").write_text(json.dumps(found, indent=2, sort_keys=True))
    _print(found)
    return 0


def _load_average() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def _print(found: dict[str, Any]) -> None:
    rep, ovh, fid = found["repeatability"], found["overhead"], found["fidelity"]
    print(f"load average before / after: {found['machine']['load_average']} / "
          f"{found['machine']['load_average_after']} on {found['machine']['cores']} cores")
    print(f"repeatability: worst loader {rep['worst_loader']} {100 * (rep['worst_deviation'] or 0):.1f}% "
          f"(goal <= 15%), {rep['cases']} cases")
    for name, value in sorted(rep["median_deviation_per_loader"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40} {100 * value:5.1f}%")
    print(f"per target (a loader on one store), worst {rep['worst_target']} "
          f"{100 * (rep['worst_target_deviation'] or 0):.1f}%:")
    for name, value in sorted(rep["median_deviation_per_target"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40} {100 * value:5.1f}%")
    print("spearman per pattern (goal >= 0.9): " + ", ".join(
        f"{k} {v:.2f}" for k, v in rep["spearman_per_pattern"].items()))
    print("overhead, share of the fastest decoder (goal < 1%): " + ", ".join(
        f"{k} {100 * v:.2f}%" for k, v in ovh["share_of_fastest_decode_per_pattern"].items()))
    print("fidelity, suite / plain loop (goal 0.85-1.15x):")
    for name, per in fid["per_loader"].items():
        for pattern, v in per.items():
            text = v if isinstance(v, str) else f"{v['ratio']:.2f}x ({v['suite_fps']:.0f} vs {v['plain_fps']:.0f} fps)"
            print(f"  {name:<12} {pattern:<14} {text}")
    if "duration" in found:
        d = found["duration"]
        print(f"duration of a default main-stack run: {d['main_stack_seconds'] / 60:.1f} min "
              + ", ".join(f"{k} {v / 60:.1f} min" for k, v in d["seconds_per_measure"].items()))


if __name__ == "__main__":
    sys.exit(main())
