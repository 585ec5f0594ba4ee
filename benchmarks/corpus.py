"""The built-in synthetic corpus: named profiles encoded with imageio-ffmpeg's ffmpeg binary.

Each profile is a recipe (content, size, rate, length, codec, keyframe interval, B-frames). A
video is cached under a name that carries a hash of its recipe, so a second run costs nothing
and a changed recipe makes a new file; it is written to a temporary sibling and renamed only
when ffmpeg succeeds, so a half-written file is never reused.

Content has texture (temporal grain) and motion (``testsrc2``'s moving patterns, ``mandelbrot``'s
zoom, ``life``): flat frames decode unrealistically fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Bump when the recipe-to-command translation changes, so cached files are remade.
RECIPE_VERSION = 4

DEFAULT_CACHE = Path(os.environ.get("VIDBENCH_CORPUS_DIR", Path(__file__).resolve().parent.parent / ".corpus"))


@dataclasses.dataclass(frozen=True)
class Profile:
    """One synthetic video. ``gop`` is the keyframe interval in frames."""

    name: str
    width: int
    height: int
    fps: int = 30
    seconds: float = 10.0
    codec: str = "h264"  # h264, hevc, vp9, av1
    gop: int = 30
    bframes: int = 0
    content: str = "testsrc2"  # testsrc2, mandelbrot, life
    grain: int = 12  # strength of the temporal noise added for texture
    vfr: bool = False  # irregular frame timestamps
    start_seconds: float = 0.0  # first timestamp of the stream
    tiny: bool = False  # for tests: small and quick to make

    @property
    def frames(self) -> int:
        return round(self.fps * self.seconds)

    @property
    def extension(self) -> str:
        return {"vp9": "webm", "av1": "mkv"}.get(self.codec, "mkv" if self.start_seconds else "mp4")

    def digest(self) -> str:
        recipe = {**dataclasses.asdict(self), "recipe_version": RECIPE_VERSION}
        recipe.pop("name")
        return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]

    def filename(self) -> str:
        return f"{self.name}-{self.digest()}.{self.extension}"


def _profiles() -> dict[str, Profile]:
    out: list[Profile] = []
    # Tests: small, odd sizes (not multiples of 16), B-frames, long GOPs, offsets, VFR, every codec.
    tiny: dict[str, Any] = dict(width=208, height=120, fps=25, seconds=3.0, tiny=True)
    out += [
        Profile("tiny-h264-bframes", **tiny, gop=12, bframes=3),
        Profile("tiny-h264-longgop", **tiny, gop=250, bframes=2, content="mandelbrot"),
        Profile("tiny-h264-odd", width=202, height=118, fps=24, seconds=2.0, tiny=True, gop=10, bframes=0),
        Profile("tiny-h264-offset-vfr", **tiny, gop=15, bframes=2, vfr=True, start_seconds=1.5, content="life"),
        Profile("tiny-hevc", **tiny, codec="hevc", gop=25, bframes=3),
        Profile("tiny-vp9", **tiny, codec="vp9", gop=40),
        Profile("tiny-av1", **tiny, codec="av1", gop=40),
    ]
    # Benchmarks: resolution x keyframe interval (about 1 s and about 10 s) x B-frames, H.264.
    sizes = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080)}
    # Seconds shrink as pixels grow (the whole run decodes each video many times): long enough for
    # random access to cost what it costs (a "10 s" GOP is then one GOP of 120 frames at 360p; a
    # "1 s" GOP repeats from 2 s on), short enough that `nox -s bench` fits in 20 minutes on 2 cores.
    seconds = {("360p", "gop1s"): 2.0, ("360p", "gop10s"): 4.0, "720p": 2.0, "1080p": 1.5}
    for label, (w, h) in sizes.items():
        for gop_label, gop in (("gop1s", 30), ("gop10s", 300)):
            length = seconds.get((label, gop_label), seconds.get(label, 2.0))
            for bf in (0, 3):
                name = f"h264-{label}-{gop_label}-{'bf' if bf else 'nobf'}"
                out.append(Profile(name, w, h, gop=gop, bframes=bf, seconds=length))
    # Extra codecs at 720p, 1 s keyframe interval.
    for codec in ("hevc", "vp9", "av1"):
        out.append(Profile(f"{codec}-720p-gop1s", 1280, 720, codec=codec, gop=30, bframes=3 if codec == "hevc" else 0))
    return {p.name: p for p in out}


PROFILES: dict[str, Profile] = _profiles()
TINY: list[str] = [n for n, p in PROFILES.items() if p.tiny]
DEFAULT: list[str] = ["h264-360p-gop1s-bf", "h264-360p-gop10s-bf", "h264-720p-gop1s-bf", "h264-1080p-gop1s-nobf"]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _source_filter(p: Profile) -> str:
    size = f"{p.width}x{p.height}"
    if p.content == "testsrc2":
        src = f"testsrc2=size={size}:rate={p.fps}:duration={p.seconds}"
    elif p.content == "mandelbrot":
        src = f"mandelbrot=size={size}:rate={p.fps},trim=duration={p.seconds}"
    elif p.content == "life":
        colours = "death_color=#C83232:life_color=#00ff00"
        src = f"life=size={size}:rate={p.fps}:mold=10:ratio=0.1:seed=1:{colours},trim=duration={p.seconds}"
    else:
        raise ValueError(f"unknown content {p.content!r}")
    chain = [src, "format=yuv420p"]
    if p.grain:
        chain.append(f"noise=alls={p.grain}:allf=t+u:all_seed=1")
    if p.vfr:
        # Frame durations alternate irregularly (N/fps plus a jitter of 0, 8 or 16 ms), in ms.
        chain += ["settb=1/1000", f"setpts='floor(N*1000/{p.fps}+8*mod(N\\,3))'"]
    return ",".join(chain)


def _codec_args(p: Profile) -> list[str]:
    g = p.gop
    if p.codec == "h264":
        return f"-c:v libx264 -preset veryfast -crf 23 -g {g} -keyint_min {g} -sc_threshold 0 -bf {p.bframes}".split()
    if p.codec == "hevc":
        params = f"keyint={g}:min-keyint={g}:scenecut=0:bframes={p.bframes}:log-level=error"
        return f"-c:v libx265 -preset veryfast -crf 28 -x265-params {params} -tag:v hvc1".split()
    if p.codec == "vp9":
        return f"-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 -b:v 0 -crf 35 -g {g} -keyint_min {g}".split()
    if p.codec == "av1":
        return f"-c:v libsvtav1 -preset 12 -crf 40 -g {g} -svtav1-params scd=0".split()
    raise ValueError(f"unknown codec {p.codec!r}")


def command(p: Profile, out: str | os.PathLike[str]) -> list[str]:
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", _source_filter(p)]
    cmd += ["-frames:v", str(p.frames), "-an", "-pix_fmt", "yuv420p", *_codec_args(p)]
    if p.vfr:
        # Without a millisecond encoder time base the encoder rounds the timestamps back to 1/fps.
        cmd += ["-fps_mode", "passthrough", "-enc_time_base", "1/1000"]
    if p.start_seconds:
        cmd += ["-output_ts_offset", str(p.start_seconds)]
    # A fixed thread count (x264/x265 output depends on it) and no muxer dates or random UIDs.
    cmd += ["-threads", "2", "-fflags", "+bitexact", os.fspath(out)]
    return cmd


def make(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the path of profile ``name``'s video, encoding it first unless it is cached."""
    try:
        p = PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown corpus profile {name!r}; known: {', '.join(PROFILES)}") from None
    folder = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / p.filename()
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}-", suffix=f".{p.extension}", dir=folder)
    os.close(fd)
    try:
        run = subprocess.run(command(p, tmp), capture_output=True, text=True, timeout=1800)
        if run.returncode != 0:
            raise RuntimeError(f"ffmpeg failed making corpus profile {name!r} ({target}): {run.stderr.strip()[-2000:]}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def make_all(names: Iterable[str], cache_dir: str | os.PathLike[str] | None = None, jobs: int = 1) -> dict[str, Path]:
    """Make several profiles, ``jobs`` ffmpeg processes at a time, with a progress bar."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    wanted = list(names)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {n: pool.submit(make, n, cache_dir) for n in wanted}
        for n in tqdm(wanted, desc="corpus", unit="video", disable=None):
            futures[n].result()
    return {n: futures[n].result() for n in wanted}
