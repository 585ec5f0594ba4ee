"""How well a plan projected from a sample matches measuring the whole dataset.

``python -m benchmarks.plan_accuracy [--out DIR] [--sample N]`` generates a small dataset of
mixed sizes and codecs, runs ``python -m benchmarks`` twice over it (every video, and a sample
of ``N``), and prints, per strategy, the sample's projection against the full run's own figures
(the full run's plan covers exactly the videos it measured, so its figures are measurements).
A benchmark, not a test: its figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks import corpus, dataset, records
from benchmarks.analysis import plan

# (name, size, seconds, codec, count): three classes of unequal weight.
CLIPS = (("sd", "480x270", 4, "libx264", 6), ("hd", "1280x720", 2, "libx264", 3), ("mp4v", "640x480", 3, "mpeg4", 3))
# No --quick or --budget: a budget would cut the full run to a sample of its own.
RUN = ["--loaders", "pyav,torchcodec,npy,simplejpeg", "--formats", "jpeg,npy", "--full-size", "", "--gops", "",
       "--patterns", "sequential", "--workers", "0", "--epochs", "3", "--cache", "warm",
       "--measures", "per_frame,extraction,epoch", "--min-time", "0.2", "--frames", "8"]


def generate(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, size, seconds, codec, count in CLIPS:
        for i in range(count):
            path = folder / f"{name}-{i}.mp4"
            if not path.exists():  # a different pattern per clip, so no two clips are the same
                source = ("testsrc2", "mandelbrot", "life")[i % 3]
                subprocess.run([corpus.ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                                f"{source}=size={size}:rate=25", "-t", str(seconds + i % 2), "-c:v", codec,
                                "-pix_fmt", "yuv420p", str(path)], check=True)


def bench(out: Path, videos: Path, run_id: str, extra: list[str]) -> Path:
    for old in (out / run_id, out / f"stores-{run_id}"):  # measure afresh: a run left there would be resumed
        shutil.rmtree(old, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "benchmarks", "--videos", str(videos), "--out", str(out), "--run-id",
                    run_id, "--stores", str(out / f"stores-{run_id}"), *RUN, *extra], check=True)
    return out / run_id


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.plan_accuracy", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("results/plan-accuracy"))
    p.add_argument("--sample", type=int, default=4)
    args = p.parse_args(argv)
    videos = args.out / "videos"
    generate(videos)
    full_dir = bench(args.out, videos, "full", [])
    sample_dir = bench(args.out, videos, "sample", ["--sample", str(args.sample)])
    full = {s.name: s for s in plan.project(records.read(full_dir / "records.jsonl"), dataset.load(full_dir))}
    projected = plan.project(records.read(sample_dir / "records.jsonl"), dataset.load(sample_dir))
    print(f"{'strategy':<52} {'epoch s: projected / measured':>30} {'extraction s':>16} {'disk bytes':>12}")
    for s in projected:
        f = full.get(s.name)
        if f is None:
            continue

        def ratio(a: float, b: float) -> str:
            return f"{a / b:.2f}x" if b else "-"

        epoch = f"{s.epoch_seconds:.2f} / {f.epoch_seconds:.2f} ({ratio(s.epoch_seconds, f.epoch_seconds)})"
        print(f"{s.name:<52} {epoch:>30} {ratio(s.extraction_seconds, f.extraction_seconds):>16} "
              f"{ratio(s.disk_bytes, f.disk_bytes):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
