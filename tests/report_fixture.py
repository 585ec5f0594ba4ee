"""A small, hand-made benchmark run for the report tests, written with the Record dataclass.

Every figure is chosen so the tests can check the tables by arithmetic: a per-frame round of
``frames`` frames in ``s`` seconds is ``frames / s`` fps, an epoch's seconds feed the crossover
``X / (T_decode - T_frames)`` directly.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.dataset import Dataset, summarize
from benchmarks.records import Record, append, parse
from benchmarks.spec import Video
from loaders.vocabulary import BASELINE

RUN_ID = "fixture-run"
PATTERNS = ("sequential", "random")
PROFILES = ("h264-360p", "h264-720p")
WORKERS = (0, 2)
# A reason with markup and an ampersand: the report must show it as text, never run it.
DECORD_REASON = "ModuleNotFoundError: No module named 'decord' <script>alert(1)</script> & more"
WRONG_REASON = "frame 7 differs from the reference (max abs diff 93)"
PROBE_REASON = "/videos/broken.mp4: CorruptVideo: moov atom not found"
LOSSY_REASON = "right frame, lossy store (max difference 41, mean 2.10)"  # verify.Verdict.label

# Per-frame seconds per round for 100 frames, by loader: fps 1000/500/... for sequential;
# random is half as fast. The 720p profile is half as fast again.
PER_FRAME = {
    # loader: (kind, stack, extractor, format, quality, seconds of 3 rounds, library)
    "pyav": ("decode", "main", None, None, None, [0.1, 0.2, 0.4], "av 18.1.0"),
    "torchcodec": ("decode", "main", None, None, None, [0.05, 0.1, 0.2], "torchcodec 0.13.0"),
    "simplejpeg": ("frames", "main", "ffmpeg", "jpeg", 90, [0.02, 0.04, 0.08], "simplejpeg 1.9.0"),
    "npy": ("frames", "main", "ffmpeg", "npy", None, [0.004, 0.008, 0.016], "numpy 2.4.6"),
    "pil": ("frames", "pillow-simd", "ffmpeg", "jpeg", 90, [0.04, 0.08, 0.16], "pillow-simd 9.5"),
    # The harness's do-nothing baseline: fastest of all, never checked, never advised.
    BASELINE: ("decode", "main", None, None, None, [0.001, 0.001, 0.001], None),
}
OPEN_SECONDS = {"pyav": 0.004, "torchcodec": 0.010}

# Per-epoch seconds (3 epochs each, median in the middle) by loader and workers.
EPOCH = {
    ("pyav", 0): [10.0, 12.0, 14.0], ("pyav", 2): [6.0, 7.0, 8.0],
    ("torchcodec", 0): [8.0, 9.0, 10.0], ("torchcodec", 2): [5.0, 5.0, 6.0],
    ("simplejpeg", 0): [4.0, 5.0, 6.0], ("simplejpeg", 2): [2.0, 3.0, 4.0],
    ("npy", 0): [20.0, 20.0, 20.0], ("npy", 2): [10.0, 11.0, 12.0],  # npy never pays here
    (BASELINE, 0): [0.5, 0.5, 0.5], (BASELINE, 2): [0.4, 0.4, 0.4],
}
PEAK_RSS = {0: 500 * 2**20, 2: 1200 * 2**20}
EPOCH_FRAMES = 6000
BATCH_SIZE = 16
EXTRACTIONS = {  # (extractor, format, quality): (seconds, bytes)
    ("ffmpeg", "jpeg", 90): (40.0, 300 * 2**20),
    ("ffmpeg", "npy", None): (60.0, 4000 * 2**20),
}
EXTRACTION_FRAMES = 12000
SOURCE_BYTES = 100 * 2**20
ENV = {
    "main": {"cpu": "Fixture CPU @ 2.0GHz", "cores": 2, "os": "Linux", "python": "3.11.7",
             "ffmpeg": "7.1", "libraries": {"torch": "2.13.0", "av": "18.1.0"}},
    "pillow-simd": {"cpu": "Fixture CPU @ 2.0GHz", "cores": 2, "os": "Linux", "python": "3.11.7",
                    "libraries": {"pillow-simd": "9.5"}},
}


def _record(stack: str, **fields: object) -> Record:
    # Written as the flat fields of older runs: read back with their store nested.
    return parse(dict(stack=stack, run_id=RUN_ID, time="2026-11-22T02:00:00Z", env=ENV[stack], **fields))


def _exact(loader: str) -> bool | None:
    """Right frames are pixel-identical, or within tolerance from a lossy JPEG store; the
    baseline is never checked."""
    return None if loader == BASELINE else PER_FRAME[loader][3] != "jpeg"


def make_records(speed: float = 1.0, stacks: tuple[str, ...] = ("main", "pillow-simd")) -> list[Record]:
    """The fixture run; ``speed`` scales every throughput (1.25 = 25 % faster), for --compare."""
    out: list[Record] = []
    for loader, (kind, stack, extractor, fmt, quality, seconds, library) in PER_FRAME.items():
        for p, pattern in enumerate(PATTERNS):
            for q, profile in enumerate(PROFILES):
                slow = 2 ** (p + q) / speed
                out.append(_record(stack, measure="per_frame", loader=loader, kind=kind,
                                   profile=profile, pattern=pattern, frames=100,
                                   seconds=[s * slow for s in seconds], extractor=extractor,
                                   format=fmt, quality=quality, exact=_exact(loader), library=library,
                                   reason=LOSSY_REASON if _exact(loader) is False else None,
                                   threads={"torch": 1, "ffmpeg": 1}).with_fps())
        if loader in OPEN_SECONDS:
            for profile in PROFILES:
                out.append(_record(stack, measure="open", loader=loader, kind=kind, profile=profile,
                                   seconds=[OPEN_SECONDS[loader]] * 3, library=library))
    for pattern in PATTERNS:
        for (loader, workers), seconds in EPOCH.items():
            kind, stack, extractor, fmt, quality, _, library = PER_FRAME[loader]
            out.append(_record(stack, measure="epoch", loader=loader, kind=kind, profile="corpus",
                               pattern=pattern, frames=EPOCH_FRAMES,
                               seconds=[s / speed for s in seconds], workers=workers,
                               batch_size=BATCH_SIZE, extractor=extractor, format=fmt,
                               quality=quality, peak_rss_bytes=PEAK_RSS[workers], exact=_exact(loader),
                               library=library).with_fps())
    for (extractor, fmt, quality), (took, size) in EXTRACTIONS.items():
        out.append(_record("main", measure="extraction", loader=None, kind=None, profile="corpus",
                           frames=EXTRACTION_FRAMES, seconds=[took], extractor=extractor,
                           format=fmt, quality=quality, bytes=size, source_bytes=SOURCE_BYTES))
    # A loader that returned wrong frames (not timed) and one whose library is missing.
    for pattern in PATTERNS:
        out.append(_record("main", measure="per_frame", loader="cv2-seek", kind="decode",
                           profile=PROFILES[0], pattern=pattern, frames=100, exact=False,
                           status="wrong", reason=WRONG_REASON, library="opencv 5.0.0"))
    out.append(_record("main", measure="per_frame", loader="decord", kind="decode",
                       profile=PROFILES[0], pattern=None, status="unavailable", reason=DECORD_REASON))
    # A video the harness could not probe: no loader, an error with its reason.
    out.append(_record("main", measure="per_frame", loader=None, kind=None, profile="broken-clip",
                       status="error", reason=PROBE_REASON))
    return [r for r in out if r.stack in stacks]


def make_run(run_dir: Path, speed: float = 1.0,
             stacks: tuple[str, ...] = ("main", "pillow-simd")) -> Path:
    """Write the fixture's ``records.jsonl`` into ``run_dir``; returns ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for record in make_records(speed, stacks):
        append(run_dir / "records.jsonl", record)
    return run_dir


def write_dataset(run_dir: Path, scale: int = 10, disk_budget: int | None = 2 * 2**30, epochs: int = 6) -> Dataset:
    """A ``dataset.json`` for the fixture run: its two measured profiles (3,000 frames each, one
    per class) and a dataset ``scale`` times as large; the budget leaves the npy store out."""
    measured = {"h264-360p": Video("/videos/h264-360p.mp4", 10 * 2**20, 3000, 30.0, 640, 360, "h264"),
                "h264-720p": Video("/videos/h264-720p.mp4", 40 * 2**20, 3000, 30.0, 1280, 720, "h264")}
    whole = [v for v in measured.values() for _ in range(scale)]
    data = Dataset("/videos", summarize(whole), 0, measured, 64 * 2**30, 32 * 2**30, 10 * 2**40, epochs, disk_budget)
    data.save(run_dir)
    return data
