"""Extraction: the right frames from every extractor, and a store that is safe and resumable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import skip_or_fail, write_bad
from frame_checks import PROFILES, all_frames, assert_frames_match, nearest_reference, psnr

import loaders
from loaders import extraction, resize
from loaders.store import MANIFEST, NPY_FILE, frame_name, read_manifest

ROOT = Path(__file__).resolve().parent.parent
EXTRACTORS = {"ffmpeg": "imageio_ffmpeg", "pyav": "av", "cv2": "cv2"}
# Shrunk to 64 px the synthetic content is denser: JPEG quality 90 measures 22.9-23.4 dB for
# every extractor (25 dB at full size), so the floor for damaged frames sits lower.
RESIZED_JPEG_MIN_PSNR = 21.0
READER = {"jpeg": "pil", "png": "pil", "npy": "npy", "tar": "tar"}


def need(extractor: str, fmt: str = "npy") -> None:
    """Skip (or fail in CI) when a library the test needs is missing: the extractor's, PyAV for
    the reference decode, and PIL where frames are encoded by Pillow or read back with it."""
    modules = [EXTRACTORS[extractor], "av"]
    if fmt != "npy":
        modules.append("PIL")
    for module in modules:
        try:
            __import__(module)
        except ImportError as exc:
            skip_or_fail(f"extracting with {extractor} to {fmt} needs {module}: {exc}")


def left_in(folder: Path) -> list[str]:
    """What is in ``folder`` besides lock files (kept on purpose: removing a lock file races)."""
    return sorted(n for n in os.listdir(folder) if not n.endswith(".lock"))


def read_all(store: Path) -> np.ndarray:
    fmt = read_manifest(store).format
    with loaders.open(READER[fmt], store) as src:
        return src.get_frames(np.arange(src.num_frames))


@pytest.fixture
def video(tiny_videos, tmp_path) -> Path:
    """A private copy of a tiny video, free to modify."""
    return Path(shutil.copy2(tiny_videos["tiny-h264-bframes"], tmp_path / "clip.mp4"))


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("extractor", list(EXTRACTORS))
def test_npy_store_is_exactly_the_reference(extractor, profile, tiny_videos, references, tmp_path):
    need(extractor)
    ref = all_frames(references[profile])
    result = loaders.extract(tiny_videos[profile], tmp_path / "store", extractor, "npy")
    assert result.frames == len(ref) and not result.reused
    assert_frames_match(read_all(tmp_path / "store"), ref, np.arange(len(ref)), lossless=True)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "tar"])
@pytest.mark.parametrize("extractor", list(EXTRACTORS))
def test_image_stores_hold_the_reference_frames(extractor, fmt, tiny_videos, references, tmp_path):
    """png bit-exact, jpeg/tar the nearest reference frame at every index and above the PSNR floor."""
    need(extractor, fmt)
    video = tiny_videos["tiny-h264-offset-vfr"]  # B-frames, VFR and a first timestamp of 1.5 s
    ref = all_frames(references["tiny-h264-offset-vfr"])
    result = loaders.extract(video, tmp_path / "store", extractor, fmt, quality=90)
    assert result.frames == len(ref)
    assert_frames_match(read_all(tmp_path / "store"), ref, np.arange(len(ref)), lossless=fmt == "png")


@pytest.mark.parametrize("fmt", ["npy", "png", "jpeg", "tar"])
@pytest.mark.parametrize("extractor", list(EXTRACTORS))
def test_resized_store_is_the_reference_resized(extractor, fmt, tiny_videos, references, tmp_path):
    """size=S: short side S, aspect kept, even sides; frames within the documented tolerance of
    loaders.resize_frames(reference) (lossless), or its nearest frame above the PSNR floor (JPEG)."""
    need(extractor, fmt)
    profile = "tiny-h264-odd"  # 202 x 118: the long side scales to 109.6, stored as 110
    result = loaders.extract(tiny_videos[profile], tmp_path / "store", extractor, fmt, quality=90, size=64)
    m = read_manifest(tmp_path / "store")
    assert (m.width, m.height, m.size) == (110, 64, 64)
    frames = read_all(tmp_path / "store")
    want = loaders.resize_frames(all_frames(references[profile]), 64)
    assert frames.shape == want.shape == (result.frames, 64, 110, 3)
    if fmt in ("npy", "png"):
        diff = np.abs(frames.astype(int) - want)
        assert diff.max() <= resize.TOLERANCE
        if extractor != "cv2":  # libswscale's area filter, the same in ffmpeg and PyAV
            assert diff.max() == 0
    else:
        assert (nearest_reference(frames, want) == np.arange(len(want))).all()
        assert psnr(frames, want).min() >= RESIZED_JPEG_MIN_PSNR


@pytest.mark.parametrize(
    ("width", "height", "size", "want"),
    [
        (1920, 1080, 256, (456, 256)),  # 455.1 -> the nearest even number
        (1080, 1920, 256, (256, 456)),  # portrait: the width is the short side
        (202, 118, 64, (110, 64)),
        (640, 360, 360, (640, 360)),  # already there
        (320, 180, 256, (320, 180)),  # smaller: never upscaled
        (203, 117, None, (203, 117)),  # no size: as decoded, odd sides and all
    ],
)
def test_scaled_size(width, height, size, want):
    assert resize.scaled_size(width, height, size) == want


def test_bad_size_is_refused_and_a_new_size_redoes_the_store(video, tmp_path):
    need("ffmpeg")
    for bad in (63, 0, -2, 1.5, True, "64"):
        with pytest.raises(loaders.LoaderError, match="even"):
            loaders.extract(video, tmp_path / "store", "ffmpeg", "npy", size=bad)
    full = loaders.extract(video, tmp_path / "store", "ffmpeg", "npy")
    small = loaders.extract(video, tmp_path / "store", "ffmpeg", "npy", size=32)
    assert not small.reused and small.bytes < full.bytes
    assert loaders.extract(video, tmp_path / "store", "ffmpeg", "npy", size=32).reused
    assert read_manifest(tmp_path / "store").size == 32


def test_manifest_records_source_metadata_and_cost(video, references, tmp_path):
    need("ffmpeg", "jpeg")
    store = tmp_path / "store"
    result = loaders.extract(video, store, "ffmpeg", "jpeg", quality=85)
    m = json.loads((store / MANIFEST).read_text())
    ref = references["tiny-h264-bframes"]  # what ``video`` is a copy of
    assert m["source"] == str(video.resolve())
    assert (m["source_size"], m["source_mtime_ns"]) == (video.stat().st_size, video.stat().st_mtime_ns)
    assert (m["frames"], m["width"], m["height"]) == (ref.num_frames, ref.width, ref.height)
    assert m["fps"] == pytest.approx(ref.fps)
    assert (m["format"], m["quality"], m["extractor"]) == ("jpeg", 85, "ffmpeg")
    files = sorted(p.name for p in store.iterdir() if p.name != MANIFEST)
    assert files == [frame_name(i, "jpeg") for i in range(ref.num_frames)]
    assert m["bytes"] == result.bytes == sum((store / f).stat().st_size for f in files)
    assert m["seconds"] == result.seconds > 0
    assert result.frames == ref.num_frames


def test_rerun_reuses_a_complete_store(video, tmp_path):
    need("ffmpeg")
    store = tmp_path / "store"
    first = loaders.extract(video, store, "ffmpeg", "npy")
    before = (store / NPY_FILE).stat().st_mtime_ns
    again = loaders.extract(video, store, "ffmpeg", "npy")
    assert again.reused and (again.frames, again.bytes, again.seconds) == (first.frames, first.bytes, first.seconds)
    assert (store / NPY_FILE).stat().st_mtime_ns == before
    # Other settings are another store's worth of frames: the store is redone, not reused.
    other = loaders.extract(video, store, "ffmpeg", "jpeg", quality=70)
    assert not other.reused and read_manifest(store).format == "jpeg"
    assert not (store / NPY_FILE).exists()


@pytest.mark.parametrize("change", ["replaced by another video", "touched"])
def test_changed_source_is_extracted_again(change, video, tiny_videos, references, tmp_path):
    need("ffmpeg")
    store = tmp_path / "store"
    loaders.extract(video, store, "ffmpeg", "npy")
    if change == "touched":
        st = video.stat()
        os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        want = all_frames(references["tiny-h264-bframes"])
    else:
        shutil.copyfile(tiny_videos["tiny-h264-odd"], video)
        want = all_frames(references["tiny-h264-odd"])
    result = loaders.extract(video, store, "ffmpeg", "npy")
    assert not result.reused and result.frames == len(want)
    assert np.array_equal(read_all(store), want)
    assert read_manifest(store).source_mtime_ns == video.stat().st_mtime_ns


def test_partial_store_is_redone_and_a_foreign_directory_left_alone(video, tmp_path):
    need("ffmpeg", "jpeg")
    store = tmp_path / "store"
    store.mkdir()
    (store / frame_name(0, "jpeg")).write_bytes(b"half-written")  # an old run's leftovers, no manifest
    result = loaders.extract(video, store, "ffmpeg", "jpeg")
    assert not result.reused and len(os.listdir(store)) == result.frames + 1
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"keep me")
    with pytest.raises(loaders.LoaderError, match="not a frame store"):
        loaders.extract(video, foreign, "ffmpeg", "jpeg")
    assert (foreign / "holiday.jpg").read_bytes() == b"keep me"


def test_failure_midway_leaves_no_store(video, tmp_path, monkeypatch):
    need("pyav", "jpeg")
    real = extraction._Writer.add_encoded

    def failing(self, data):
        if self.count == 10 and self.folder.name != "sample":
            raise RuntimeError("disk unplugged")
        real(self, data)

    monkeypatch.setattr(extraction._Writer, "add_encoded", failing)
    with pytest.raises(RuntimeError, match="unplugged"):
        loaders.extract(video, tmp_path / "store", "pyav", "jpeg")
    assert left_in(tmp_path) == ["clip.mp4"]  # no store, no temporary sibling left behind


def test_killed_extraction_is_redone_on_the_next_run(video, references, tmp_path):
    """A process killed mid-extraction leaves nothing that looks complete; the next run redoes it."""
    need("pyav", "jpeg")
    store = tmp_path / "store"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import loaders
        from loaders import extraction, resize
        real = extraction._Writer.add_encoded
        def add(self, data):
            if self.count == 20 and self.folder.name != "sample":
                os.kill(os.getpid(), signal.SIGKILL)
            real(self, data)
        extraction._Writer.add_encoded = add
        loaders.extract({str(video)!r}, {str(store)!r}, "pyav", "jpeg")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".store.partial-")]
    assert leftovers and len(os.listdir(leftovers[0])) == 20  # it really stopped half-way
    assert not store.exists()
    with pytest.raises(loaders.LoaderError):
        loaders.open("pil", store)

    result = loaders.extract(video, store, "pyav", "jpeg")
    ref = all_frames(references["tiny-h264-bframes"])
    assert not result.reused and result.frames == len(ref)
    assert not [n for n in left_in(tmp_path) if n.startswith(".store.")]
    assert_frames_match(read_all(store), ref, np.arange(len(ref)), lossless=False)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "npy", "tar"])
def test_disk_check_refuses_when_space_is_short(fmt, video, tmp_path, monkeypatch):
    need("ffmpeg", fmt)
    actual = loaders.extract(video, tmp_path / "probe", "ffmpeg", fmt).bytes
    store = tmp_path / "store"
    # The estimate comes from the first frames, so it is close to, not exactly, the real size.
    monkeypatch.setattr(extraction, "disk_free", lambda path: actual // 2)
    with pytest.raises(loaders.InsufficientSpace, match="free") as err:
        loaders.extract(video, store, "ffmpeg", fmt)
    assert str(store) in str(err.value)
    assert not store.exists() and not [n for n in left_in(tmp_path) if n.startswith(".store")]
    monkeypatch.setattr(extraction, "disk_free", lambda path: actual * 3)
    assert loaders.extract(video, store, "ffmpeg", fmt).bytes == actual


def test_extract_all_runs_videos_in_parallel_and_resumes(tiny_videos, references, tmp_path):
    need("ffmpeg")
    videos = [tiny_videos[p] for p in PROFILES]
    done = loaders.extract_all(videos, tmp_path, jobs=2, format="npy")
    assert list(done) == [str(v) for v in videos]
    for p, v in zip(PROFILES, videos, strict=True):
        assert done[str(v)].frames == references[p].num_frames and not done[str(v)].reused
    stores = {e.store for e in done.values()}
    assert len(stores) == len(videos) and all(s.parent == tmp_path for s in stores)
    again = loaders.extract_all(videos, tmp_path, jobs=2, format="npy")
    assert all(e.reused for e in again.values())
    twin = tmp_path / "elsewhere" / videos[0].name
    twin.parent.mkdir()
    shutil.copy(videos[0], twin)
    with pytest.raises(loaders.LoaderError, match="one store"):
        loaders.extract_all([videos[0], twin], tmp_path, format="npy")


def test_extract_all_transcodes_with_the_keyframe_interval_and_crf_asked(tiny_videos, tmp_path):
    need("ffmpeg")
    video = tiny_videos[PROFILES[0]]
    done = loaders.extract_all([video], tmp_path, format="mp4", size=64, gop=4, crf=30)
    store = done[str(video)].store
    assert store.name.endswith("-s64-g4")
    manifest = loaders.store.read_manifest(store)
    assert (manifest.gop, manifest.crf, manifest.size) == (4, 30, 64)
    other = loaders.extract_all([video], tmp_path, format="mp4", size=64, gop=8, crf=30)[str(video)]
    assert other.store != store and not other.reused  # another interval is another store


def test_bad_input_raises_loader_errors(video, tmp_path):
    need("ffmpeg")
    with pytest.raises(loaders.VideoNotFound):
        loaders.extract(tmp_path / "missing.mp4", tmp_path / "s")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(loaders.CorruptVideo, match="notes.mp4"):
        loaders.extract(text, tmp_path / "s")
    for kwargs, what in [({"extractor": "gstreamer"}, "extractor"), ({"format": "webp"}, "format"),
                         ({"quality": 0}, "quality")]:
        with pytest.raises(loaders.LoaderError, match=what):
            loaders.extract(video, tmp_path / "s", **kwargs)
    assert left_in(tmp_path) == ["clip.mp4", "notes.mp4"]


def test_truncated_video_raises_naming_it(video, tmp_path):
    need("ffmpeg")
    os.truncate(video, video.stat().st_size // 2)  # mp4 keeps its index at the end: cut off
    with pytest.raises(loaders.LoaderError, match="clip.mp4"):
        loaders.extract(video, tmp_path / "store", "ffmpeg", "npy")
    assert left_in(tmp_path) == ["clip.mp4"]


@pytest.mark.parametrize("kind", ["garbage", "half-mkv"])
@pytest.mark.parametrize("extractor", list(EXTRACTORS))
def test_damaged_video_never_makes_a_shorter_store(extractor, kind, tiny_videos, tmp_path):
    """ffmpeg conceals decoding errors and OpenCV stops at the first; a Matroska file cut short
    decodes cleanly up to the cut: each would give a store missing frames, so each must raise."""
    need(extractor)
    bad = write_bad(kind, tmp_path, tiny_videos)
    with pytest.raises(loaders.CorruptVideo, match=bad.name):
        loaders.extract(bad, tmp_path / "store", extractor, "npy")
    assert not (tmp_path / "store").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
