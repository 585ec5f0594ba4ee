"""Extraction throughput of the engines: the local pool with 1 and 2 jobs, and a local Ray cluster.

``python -m benchmarks.extraction_engines [--profiles P ...] [--copies K] [--rounds R] [--out FILE]``

Each round extracts the same videos once per engine, the engines interleaved (so a busy machine
slows all of them alike), into fresh stores; a second pass over the complete stores costs only
what every video costs whatever its size (lock, manifest check, and for Ray the task round trip),
which is the per-task overhead. Ray's start-up (a 2-CPU local cluster, ``ray.init``) is timed
once. Each engine and pass gives one extraction record (``options["engine"]``, ``options["pass"]``)
appended to ``--out``; the table printed at the end is what the README quotes.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import corpus, env, records
from benchmarks.records import Record
from benchmarks.spec import Store
from loaders import batch

ENGINES = [("local", 1), ("local", 2), ("ray", 2)]  # (engine, jobs / cluster CPUs)
PASSES = ("extract", "reuse")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.extraction_engines", description=__doc__.split("\n")[0])
    p.add_argument("--profiles", nargs="+", default=["h264-360p-gop1s-bf", "h264-720p-gop1s-bf"])
    p.add_argument("--copies", type=int, default=3, help="links to each profile's video (more, smaller tasks)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--extractor", default="ffmpeg")
    p.add_argument("--format", default="jpeg")
    p.add_argument("--out", type=Path, default=Path("results/extraction-engines/records.jsonl"))
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="vidbench-engines-"))
    try:
        src = work / "src"
        src.mkdir()
        for name, path in corpus.make_all(args.profiles, jobs=2).items():
            for k in range(args.copies):
                os.symlink(path.resolve(), src / f"{name}-{k}{path.suffix}")
        settings = batch.Settings(args.extractor, args.format)
        source_bytes = sum(f.stat().st_size for f in src.iterdir())

        start = time.perf_counter()
        batch.connect_ray(workers=2)
        ray_startup = time.perf_counter() - start
        print(f"Ray start-up (local cluster, 2 CPUs): {ray_startup:.1f} s")

        # Warm-up, not recorded: Ray starts its worker processes on the first tasks.
        _timed(src, work / "warm", settings, "ray", 2)
        seconds: dict[tuple[str, int, str], list[float]] = {(e, j, s): [] for e, j in ENGINES for s in PASSES}
        frames = nbytes = videos = 0
        for r in range(args.rounds):
            for engine, jobs in ENGINES:
                stores = work / f"stores-{r}-{engine}-{jobs}"
                for step in PASSES:
                    took, summary = _timed(src, stores, settings, engine, jobs)
                    seconds[engine, jobs, step].append(took)
                    frames, nbytes, videos = summary.frames, summary.bytes, summary.videos
                shutil.rmtree(stores)
                print(f"round {r + 1}/{args.rounds} {engine} x{jobs}: {seconds[engine, jobs, 'extract'][-1]:.2f} s")
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    run_id = "engines-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = env.capture()
    base = seconds["local", 1, "extract"]
    print(f"\n{videos} videos, {frames} frames, {args.extractor} -> {args.format}; medians of {args.rounds} rounds")
    print(f"{'engine':<10} {'jobs':>4} {'frames/s':>9} {'p25-p75':>13} {'vs local x1':>11} {'per video, reused':>18}")
    table = {}
    for engine, jobs in ENGINES:
        for step in PASSES:
            rec = Record(
                measure="extraction", loader=None, kind=None, stack=environment["stack"],
                profile="+".join(args.profiles), frames=frames, seconds=seconds[engine, jobs, step],
                threads={"ffmpeg": 1}, store=Store(args.extractor, args.format, settings.quality),
                bytes=nbytes, source_bytes=source_bytes, run_id=run_id, cell=f"engines/{engine}/{jobs}/{step}",
                time=dt.datetime.now(dt.UTC).isoformat(), env=environment,
                options={"engine": engine, "jobs": jobs, "pass": step, "videos": videos,
                         "ray_startup_seconds": ray_startup if engine == "ray" else None},
            ).with_fps()
            records.append(args.out, rec)
            table[step] = rec
        ext, reuse = seconds[engine, jobs, "extract"], seconds[engine, jobs, "reuse"]
        fps = table["extract"]
        # Ratios of one round's pair, interleaved, then their median: the machine's load cancels out.
        ratio = statistics.median(b / s for b, s in zip(base, ext, strict=True))
        print(f"{engine:<10} {jobs:>4} {fps.fps_median:>9.0f} {fps.fps_p25:>6.0f}-{fps.fps_p75:<6.0f} "
              f"{ratio:>10.2f}x {statistics.median(reuse) / videos * 1000:>15.1f} ms")
    print(f"records appended to {args.out}")
    return 0


def _timed(src: Path, stores: Path, settings: batch.Settings, engine: str, jobs: int) -> tuple[float, batch.Summary]:
    jobs_list = batch.tree_jobs(src, stores, settings)
    summary = batch.Summary()
    start = time.perf_counter()
    for outcome in batch.run(jobs_list, settings, engine, jobs):
        summary.add(outcome)
    took = time.perf_counter() - start
    if summary.failures:
        raise SystemExit(f"extraction failed: {summary.failures}")
    return took, dataclasses.replace(summary, seconds=took)


if __name__ == "__main__":
    raise SystemExit(main())
