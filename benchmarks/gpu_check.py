"""``python -m benchmarks.gpu_check OUT``: the device check of the GPU loaders, in one go.

On a machine with a CUDA device (see docs/gpu.md for the whole procedure):

1. installs what the machine lacks from the wheels carried in ``.wheels/`` (no registry is
   reached: ``pip install --no-index --no-deps``; ``benchmarks/gpu_wheels.sh`` fills the folder);
2. verifies ``nvdec`` and ``nvjpeg`` (and ``dali`` where installed) frame for frame, every frame of
   every video in an order with jumps back and repeats, against the reference decode: the tiny
   corpus (B-frames, a long GOP, an odd size, HEVC, VP9, AV1, an offset VFR MKV) and the
   oddities made by ``--prepare`` (display rotations, an MP4 edit list). Each video ends
   "exact", "right frame, different colour conversion (max, mean)", "refused (UnsupportedVideo:
   why)", or "WRONG"; nvjpeg's frames are also compared with PIL's reading of the same store,
   which tells nvJPEG's own difference from the JPEG compression's;
3. runs a short ``python -m benchmarks --quick --device cuda`` with CPU loaders beside the GPU
   ones, and the report when pandas is present;
4. writes ``OUT/verify.json``, ``OUT/summary.md``, ``OUT/bench.log``, ``OUT/results/gpu-check/``.

It exits 1 when a GPU loader returned a wrong frame or failed, or the benchmark failed. It fits
5 minutes on one GPU with 16 cores: the videos are tiny and the benchmark is cut to a few loaders.

``--prepare`` (on a machine with FFmpeg, before carrying the tree over) makes the check's videos
in ``.gpu-check/``: the GPU machine may have no FFmpeg, and its PyAV cannot write a display
matrix. The benchmark reads its corpus from there too.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PREPARED = ROOT / ".gpu-check"
WHEELS = ROOT / ".wheels"
# import name -> distribution: what the check needs beyond the GPU machine's torch, torchvision,
# numpy, Pillow and OpenCV (see benchmarks/gpu_wheels.sh, which downloads exactly these).
NEEDED = {"av": "av", "PyNvVideoCodec": "PyNvVideoCodec", "tqdm": "tqdm", "filelock": "filelock",
          "psutil": "psutil"}
# The benchmark's loaders: the CPU ones the GPU machine has, beside the GPU ones.
CPU_LOADERS = ["pyav", "cv2-grab", "torchcodec", "decord", "pil", "cv2-imread", "simplejpeg", "noop"]
GPU_DECODE = ["nvdec"]
GPU_FRAMES = ["nvjpeg", "dali"]
BENCH_SECONDS = 200  # the benchmark's share of the 5 minutes
# A quick run of every pattern took 174 s on 2 busy cores; these three are what training reads.
BENCH_PATTERNS = ("sequential", "random-frame", "random-clip")
ROTATIONS = (90, 180)
LARGER = (256, 144)  # the size of the oddities that give HEVC, VP9 and AV1 a size NVDEC decodes
ODDITIES = [*(f"rotated-{d}" for d in ROTATIONS), "edit-list", "offset-vfr-mp4", "cfr-mkv", "offset-cfr-mkv",
            *(f"{c}-{LARGER[0]}x{LARGER[1]}" for c in ("hevc", "vp9", "av1"))]


def install(wheels: Path) -> list[str]:
    """pip-install, from ``wheels`` only, every needed distribution this Python cannot import."""
    missing = [dist for module, dist in NEEDED.items() if importlib.util.find_spec(module) is None]
    if not missing:
        return []
    if not wheels.is_dir():  # what is missing shows as each loader's reason, or stops the check below
        print(f"gpu_check: {', '.join(missing)} not installed and no wheels in {wheels} (fill it with "
              "benchmarks/gpu_wheels.sh on a machine that reaches the registry)", file=sys.stderr)
        return []
    cmd = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--find-links", str(wheels), *missing]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"gpu_check: installing {', '.join(missing)} from {wheels} failed:\n{done.stderr[-3000:]}")
    importlib.invalidate_caches()
    return missing


# -- the videos ------------------------------------------------------------------------------------
def corpus_dir() -> Path:
    return PREPARED / "corpus"


def prepare() -> dict[str, Path]:
    """Make every video the check reads (FFmpeg needed): the tiny corpus, the quick benchmark's
    profile and the oddities. Returns name -> path."""
    from benchmarks import core, corpus

    videos = corpus.make_all([*corpus.TINY, *core.QUICK_PROFILES], corpus_dir(), jobs=os.cpu_count() or 1)
    base = videos["tiny-h264-bframes"]
    odd = PREPARED / "oddities"
    odd.mkdir(parents=True, exist_ok=True)

    def ffmpeg(out: Path, *args: str) -> Path:
        if not out.exists():
            tmp = out.with_name(f".{out.name}")
            subprocess.run([corpus.ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args,
                            str(tmp)], check=True)
            os.replace(tmp, out)
        return out

    for degrees in ROTATIONS:  # a phone's portrait video: the coded picture and a display matrix
        videos[f"rotated-{degrees}"] = ffmpeg(odd / f"rotated-{degrees}.mp4", "-display_rotation", str(degrees),
                                              "-i", str(base), "-c", "copy")
    # A stream-copy cut: an edit list hides the frames before the cut that the decoder still needs.
    videos["edit-list"] = ffmpeg(odd / "edit-list.mp4", "-ss", "0.5", "-i", str(base), "-c", "copy")
    # The offset VFR video's stream in an MP4, and its content at a constant rate in Matroska with
    # and without the offset: which of container, offset and irregular timestamps a decoder trips on.
    vfr = corpus.PROFILES["tiny-h264-offset-vfr"]
    videos["offset-vfr-mp4"] = ffmpeg(odd / "offset-vfr-mp4.mp4", "-i", str(videos[vfr.name]), "-c", "copy")
    for name, start in (("cfr-mkv", 0.0), ("offset-cfr-mkv", vfr.start_seconds)):
        cfr = dataclasses.replace(vfr, name=name, vfr=False, start_seconds=start)
        videos[name] = ffmpeg(odd / f"{name}.mkv", *corpus.command(cfr, "-")[1:-1])
    # Every codec at a size NVDEC decodes (its least is 144x144 for HEVC, 128x128 for VP9 and AV1;
    # the tiny corpus is 208x120): what each codec's frames are, apart from the size limit.
    for codec in ("hevc", "vp9", "av1"):
        tiny = corpus.PROFILES[f"tiny-{codec}"]
        big = dataclasses.replace(tiny, name=f"{codec}-{LARGER[0]}x{LARGER[1]}", width=LARGER[0], height=LARGER[1])
        videos[big.name] = ffmpeg(odd / f"{big.name}.{big.extension}", *corpus.command(big, "-")[1:-1])
    return {n: path for n, path in videos.items() if n not in core.QUICK_PROFILES}  # the benchmark's


def prepared() -> dict[str, Path]:
    """The videos ``prepare`` made (those verified), found on disk; made now where this machine has FFmpeg."""
    from benchmarks import core, corpus

    found = {n: p for n in corpus.TINY if (p := corpus_dir() / corpus.PROFILES[n].filename()).exists()}
    found.update({p.stem: p for p in sorted((PREPARED / "oddities").glob("*.*")) if not p.name.startswith(".")})
    bench_videos = all((corpus_dir() / corpus.PROFILES[n].filename()).exists() for n in core.QUICK_PROFILES)
    if bench_videos and set(found) >= set(corpus.TINY) | set(ODDITIES):
        return found
    try:
        return prepare()
    except (ImportError, OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"gpu_check: the check's videos are not in {PREPARED} and cannot be made here ({exc}); run "
                         "`python -m benchmarks.gpu_check --prepare` where FFmpeg is, and carry .gpu-check") from exc


# -- verification ----------------------------------------------------------------------------------
def order(n: int) -> list[int]:
    """Every frame of ``n``, asked in an order with jumps back and repeats: forwards in strides,
    then backwards, then the first and last again."""
    stride = max(1, n // 7)
    out = [i for s in range(stride) for i in range(s, n, stride)]
    return out + out[::-1][: n // 2] + [0, n - 1, 0]


def verdict_of(loader: str, path: Path, ref: Any, frames: dict[int, Any], lossy: bool = False) -> dict[str, Any]:
    """One loader on one video or store: its verdict against the reference, in words and numbers."""
    import loaders
    from benchmarks import verify

    asked = order(ref.num_frames)
    start = time.perf_counter()
    try:
        with loaders.open(loader, path) as src:
            if (src.num_frames, src.width, src.height) != (ref.num_frames, ref.width, ref.height):
                return {"status": "wrong", "label": f"WRONG: {src.num_frames} frames of {src.width}x{src.height}, "
                                                    f"the reference {ref.num_frames} of {ref.width}x{ref.height}"}
            got = src.get_frames(asked)
            tensors = src.get_tensors(asked[:8])
            on = str(tensors.device)
    except loaders.UnsupportedVideo as exc:
        return {"status": "refused", "label": f"refused (UnsupportedVideo: {exc.cause})"}
    except Exception as exc:  # noqa: BLE001 - a failing loader is this check's finding, not its end
        return {"status": "error", "label": f"ERROR: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
    seconds = time.perf_counter() - start
    verdict = verify.check(got, asked, frames)
    status = "wrong" if verdict.wrong else "exact" if verdict.exact else "right"
    label = f"WRONG: {verdict.wrong}" if verdict.wrong else verdict.label(lossy=lossy)
    return {"status": status, "label": label, "max_diff": verdict.max_diff,
            "mean_diff": round(verdict.mean_diff, 3), "frames": len(asked), "seconds": round(seconds, 3),
            "tensors_on": on}


def compare_readers(store: Path, reader: str, baseline: str = "pil") -> dict[str, Any] | None:
    """How far ``reader``'s frames of a JPEG store are from ``baseline``'s (libjpeg-turbo): the
    decoder's own difference, apart from the compression's."""
    import numpy as np

    import loaders

    if loaders.available().get(reader) or loaders.available().get(baseline):
        return None
    with loaders.open(reader, store) as a, loaders.open(baseline, store) as b:
        asked = list(range(a.num_frames))
        diff = np.abs(a.get_frames(asked).astype(np.int16) - b.get_frames(asked).astype(np.int16))
    return {"against": baseline, "max_diff": int(diff.max()), "mean_diff": round(float(diff.mean()), 3)}


def verify_all(videos: dict[str, Path], out: Path, extractor: str) -> dict[str, Any]:
    """Every GPU loader on every video (decode) or its JPEG store (frames)."""
    import numpy as np

    import loaders
    from loaders import reference

    available = loaders.available()
    results: dict[str, Any] = {"unavailable": {n: available[n] for n in GPU_DECODE + GPU_FRAMES if available[n]},
                               "videos": {}}
    for name, path in videos.items():
        try:
            ref = reference.decode(path)
        except loaders.LoaderError as exc:  # refused by every loader (see loaders.probe)
            results["videos"][name] = {"reference": f"refused: {exc.cause}"}
            continue
        frames = {i: f[::2, ::2].astype(np.int16) for i, f in ref.frames.items()}
        row: dict[str, Any] = {"frames": ref.num_frames, "size": f"{ref.width}x{ref.height}",
                               "rotation": ref.rotation}
        for loader in GPU_DECODE:
            if available[loader] is None:
                row[loader] = verdict_of(loader, path, ref, frames)
        store = out / "stores" / name
        try:
            loaders.extract(path, store, extractor=extractor, format="jpeg", quality=90)
        except loaders.LoaderError as exc:
            row["store"] = f"not extracted: {exc.cause}"
        else:
            for loader in GPU_FRAMES:
                if available[loader] is None:
                    row[loader] = verdict_of(loader, store, ref, frames, lossy=True)
                    row[loader]["vs_libjpeg"] = compare_readers(store, loader)
        results["videos"][name] = row
        print(f"verify {name}: " + "; ".join(f"{k} {v['label']}" for k, v in row.items() if isinstance(v, dict)),
              flush=True)
    return results


# -- the benchmark ---------------------------------------------------------------------------------
def bench(out: Path, extractor: str, seconds: float) -> int:
    """A short --quick --device cuda run with CPU loaders beside the GPU ones, then its report."""
    import loaders

    available = loaders.available()
    # The GPU loaders even where unavailable (DALI, not carried): their records say why.
    names = [n for n in CPU_LOADERS if available.get(n) is None] + GPU_DECODE + GPU_FRAMES
    results = out / "results"
    env = {**os.environ, "VIDBENCH_STACK": "main", "VIDBENCH_CORPUS_DIR": str(corpus_dir()),
           "VIDBENCH_CACHE_DIR": str(out / "cache"),
           # the checkout first, then what was there (the wheels installed with --target, say)
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--device", "cuda", "--loaders", ",".join(names),
           "--out", str(results), "--run-id", "gpu-check", "--stores", str(out / "bench-stores"),
           "--extractors", extractor, "--cache", "warm", "--epochs", "2", "--patterns", ",".join(BENCH_PATTERNS)]
    # Transcoded stores are written by imageio-ffmpeg's binary: with it, nvdec reads them too (the
    # "transcode, then decode on the GPU" strategy); without it there are none.
    cmd += ["--transcode-loaders", "pyav,nvdec"] if extractor == "ffmpeg" else ["--gops="]
    with open(out / "bench.log", "w") as log:
        log.write(" ".join(cmd) + "\n\n")
        log.flush()
        try:
            done = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, timeout=seconds)
            rc = done.returncode
        except subprocess.TimeoutExpired:
            log.write(f"\ngpu_check: the benchmark ran past {seconds:.0f} s and was stopped; its records so far "
                      "are kept\n")
            rc = 124
    if importlib.util.find_spec("pandas") is not None and (results / "gpu-check" / "records.jsonl").exists():
        with open(out / "bench.log", "a") as log:
            subprocess.run([sys.executable, "-m", "reports", str(results / "gpu-check")], stdout=log,
                           stderr=subprocess.STDOUT, env=env, cwd=ROOT, timeout=60)
    return rc


def summary(out: Path, verified: dict[str, Any], rc: int | None) -> str:
    """The check's findings as Markdown: the verdicts, then the benchmark's frames per second."""
    from benchmarks import env, records

    gpu = env.gpu() or {}
    lines = [f"# GPU device check ({gpu.get('name', 'no GPU')}, driver {gpu.get('driver')}, CUDA {gpu.get('cuda')})",
             "", f"versions: {json.dumps(env.versions())}", ""]
    for name, why in verified["unavailable"].items():
        lines.append(f"- {name}: unavailable: {why}")
    lines += ["", "## Frame for frame", "", "| video | frames | size | loader | verdict |", "|---|---|---|---|---|"]
    for video, row in verified["videos"].items():
        for loader, v in row.items():
            if isinstance(v, dict):
                extra = f" (vs libjpeg-turbo: max {v['vs_libjpeg']['max_diff']}, mean {v['vs_libjpeg']['mean_diff']})" \
                    if v.get("vs_libjpeg") else ""
                lines.append(f"| {video} | {row.get('frames')} | {row.get('size')} | {loader} | {v['label']}{extra} |")
    path = out / "results" / "gpu-check" / "records.jsonl"
    if rc is not None:
        lines += ["", f"## Benchmark (--quick --device cuda; exit {rc}; log: bench.log)", "",
                  "| measure | loader | store | pattern | workers | frames/s (median) | status |",
                  "|---|---|---|---|---|---|---|"]
        for r in (records.read(path) if path.exists() else []):
            if r.measure in ("per_frame", "epoch"):
                fps = f"{r.fps_median:.0f}" if r.fps_median else "-"
                store = f"{r.format}@{r.store_size}" if r.format else ""
                workers = "" if r.workers is None else r.workers
                why = f": {r.reason}" if r.reason and r.status != "ok" else ""
                cells = [r.measure, r.loader, store, r.pattern, workers, fps, f"{r.status}{why}"]
                lines.append("| " + " | ".join("" if c is None else str(c) for c in cells) + " |")
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    return text


def failed(verified: dict[str, Any]) -> list[str]:
    return [f"{video}: {loader}: {v['label']}" for video, row in verified["videos"].items()
            for loader, v in row.items() if isinstance(v, dict) and v.get("status") in ("wrong", "error")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, nargs="?", help="folder for the records, the report and the summary")
    p.add_argument("--prepare", action="store_true", help="only make the check's videos in .gpu-check (needs FFmpeg)")
    p.add_argument("--wheels", type=Path, default=WHEELS, help="wheels to install what is missing from (.wheels)")
    p.add_argument("--bench-seconds", type=float, default=BENCH_SECONDS, help="the benchmark's time limit")
    p.add_argument("--no-bench", action="store_true", help="verify only")
    args = p.parse_args(argv)
    if args.prepare:
        made = prepare()
        print("\n".join(f"{n}: {path}" for n, path in made.items()))
        return 0
    if args.out is None:
        p.error("OUT is needed (or --prepare)")
    installed = install(args.wheels)
    if installed:
        print(f"installed from {args.wheels}: {', '.join(installed)}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    from loaders.cuda import device_missing

    if (why := device_missing()) is not None:
        print(f"gpu_check: {why}; the GPU loaders are checked for their reasons only", file=sys.stderr)
    # The ffmpeg extractor runs imageio-ffmpeg's binary (68 MB: not carried); PyAV's extracts as well.
    extractor = "ffmpeg" if importlib.util.find_spec("imageio_ffmpeg") else "pyav"
    verified = verify_all(prepared(), args.out, extractor)
    verified["extractor"] = extractor
    (args.out / "verify.json").write_text(json.dumps(verified, indent=1))
    rc = None if args.no_bench or why is not None else bench(args.out, extractor, args.bench_seconds)
    print(summary(args.out, verified, rc))
    bad = failed(verified)
    for line in bad:
        print(f"gpu_check: {line}", file=sys.stderr)
    return 1 if bad or (rc not in (None, 0)) else 0


if __name__ == "__main__":
    sys.exit(main())
