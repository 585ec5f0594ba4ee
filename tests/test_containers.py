"""Containers datasets hold: MPEG-TS (a stream copy, a timestamp offset, the 33-bit wrap), M2TS,
MPEG-2 video in TS, files with two video streams and with cover art. Each is generated here, small.

Every decode loader reads each one exactly (the reference decode defines exact), or refuses it
with ``loaders.UnsupportedVideo`` saying why: never ``CorruptVideo`` for these valid files, never a
wrong frame. pyav and torchcodec read every one. The extractors write stores that read back exact
(npy) or nearest and close (JPEG), or refuse as UnsupportedVideo. Requests with repeats decode each
frame once, and a request that continues from where a source stands reads on without a seek.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require_loader
from frame_checks import assert_frames_match, decoded, open_or_refused

import loaders
from benchmarks import corpus
from loaders import probe

DECODE = [n for n in loaders.STACKS[loaders.current_stack()] if loaders.REGISTRY[n].kind == "decode"]
MAIN_STACK = pytest.mark.skipif(loaders.current_stack() != "main", reason="extraction runs in the main stack")
SOURCE = "testsrc2=size=128x96:rate=25"  # smaller, JPEG's 4:2:0 colour edges dominate its loss
# A 33-bit MPEG-TS clock wraps at 2**33 / 90 kHz = 95443.7 s: this offset puts the wrap mid-clip.
WRAP_OFFSET = "95441.2"
TS = ["plain.ts", "m2ts.m2ts", "mpeg2.ts", "offset.ts", "wrap.ts"]
STREAMS = ["two.mp4", "two.mkv", "second.mkv", "cover.mp4"]
# The loaders that must read every one of these files exactly.
MUST_READ = {"pyav", "torchcodec"}


def ffmpeg(*args: str) -> None:
    subprocess.run([corpus.ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every container below, made once per session (a few seconds in all)."""
    out = tmp_path_factory.mktemp("containers")
    h264 = ["-c:v", "libx264", "-g", "12", "-bf", "2", "-pix_fmt", "yuv420p", "-threads", "2"]
    base, short = out / "base.mp4", out / "short.mp4"
    ffmpeg("-f", "lavfi", "-i", SOURCE, "-frames:v", "50", "-an", *h264, str(base))
    # The same picture turned negative, at a higher bitrate: FFmpeg ranks equally flagged streams by
    # bitrate, so this shorter stream is the default where it comes first.
    ffmpeg("-f", "lavfi", "-i", SOURCE + ",negate", "-frames:v", "20", "-an", *h264, "-crf", "8", str(short))
    ffmpeg("-i", str(base), "-c", "copy", str(out / "plain.ts"))
    ffmpeg("-i", str(base), "-c", "copy", str(out / "m2ts.m2ts"))  # 192-byte packets
    ffmpeg("-i", str(base), "-c", "copy", "-output_ts_offset", "3600", str(out / "offset.ts"))
    ffmpeg("-i", str(base), "-c", "copy", "-output_ts_offset", WRAP_OFFSET, str(out / "wrap.ts"))
    ffmpeg("-f", "lavfi", "-i", SOURCE, "-frames:v", "50", "-an", "-c:v", "mpeg2video", "-g", "12", "-bf", "2",
           str(out / "mpeg2.ts"))
    # Two video streams, the first (the default) shorter than the second.
    for ext in ("mp4", "mkv"):
        ffmpeg("-i", str(short), "-i", str(base), "-map", "0:v", "-map", "1:v", "-c", "copy", str(out / f"two.{ext}"))
    # Two video streams, the second flagged default: FFmpeg picks it.
    ffmpeg("-i", str(short), "-i", str(base), "-map", "0:v", "-map", "1:v", "-c", "copy",
           "-disposition:v:0", "0", "-disposition:v:1", "default", str(out / "second.mkv"))
    cover = out / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=128x96", "-frames:v", "1", str(cover))
    ffmpeg("-i", str(base), "-i", str(cover), "-map", "0:v", "-map", "1", "-c", "copy",
           "-disposition:v:1", "attached_pic", str(out / "cover.mp4"))
    return out


@pytest.fixture(params=DECODE)
def loader(request: pytest.FixtureRequest) -> str:
    require_loader(request.param)
    return str(request.param)


def requests(n: int) -> dict[str, list[int]]:
    rng = np.random.default_rng(5)
    return {
        "random": rng.integers(0, n, 12).tolist(),
        "sorted": sorted(rng.choice(n, 10, replace=False).tolist()),
        "unsorted": [n - 1, 0, n // 2, 3, n - 2, 1],
        "duplicates": [7, 7, 0, 7, n - 1, 0, n - 1],
        "first": [0],
        "clip": list(range(n // 2, n // 2 + 8)),
        "all": list(range(n)),
    }


def read_or_refuse(name: str, path: Path) -> bool:
    """``name`` reads ``path`` exactly for every request shape, on one source (so seeks go back and
    forth), or refuses it with UnsupportedVideo naming the path and why: True when it read."""
    expected = decoded(path)
    src = open_or_refused(name, path)
    if src is None:
        return False
    with src:
        assert src.num_frames == len(expected)
        assert (src.height, src.width) == expected.shape[1:3]
        assert src.stream == probe.probe(path).stream
        for shape, wanted in requests(src.num_frames).items():
            try:
                got = src.get_frames(wanted)
            except loaders.UnsupportedVideo as exc:  # found out while reading (cv2-seek checks each frame)
                assert str(path) in str(exc) and exc.cause
                return False
            bad = [i for slot, i in enumerate(wanted) if not np.array_equal(got[slot], expected[i])]
            assert not bad, f"{name} {path.name} {shape}: frames {bad[:5]} are not the reference's"
    return True


# The files themselves -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plain.ts", "m2ts.m2ts", "offset.ts", "wrap.ts"])
def test_a_stream_copy_to_ts_shows_the_same_frames(folder: Path, name: str) -> None:
    """The reference's frame i of a TS copy is frame i of the MP4 it was copied from."""
    assert np.array_equal(decoded(folder / name), decoded(folder / "base.mp4"))
    info = probe.probe(folder / name)
    assert info.container == "mpegts" and info.num_frames == 50 and info.stream == 0


def test_the_wrap_is_inside_the_clip(folder: Path) -> None:
    """FFmpeg unwraps the 33-bit clock: the probe's timestamps run on through the wrap."""
    info = probe.probe(folder / "wrap.ts")
    assert info.pts[0] < 0 < info.pts[-1]  # FFmpeg counts from the wrap
    assert np.all(np.diff(info.pts) > 0)
    assert probe.probe(folder / "offset.ts").pts[0] * info.time_base > 3600


def test_the_default_stream_is_read(folder: Path) -> None:
    """Two video streams: the default one, whatever its length, and never "truncated"."""
    short, base = decoded(folder / "two.mp4"), decoded(folder / "base.mp4")
    for name in ("two.mp4", "two.mkv"):
        info = probe.probe(folder / name)
        assert (info.stream, info.best, info.num_frames) == (0, 0, 20)
        assert np.array_equal(decoded(folder / name), short)
    info = probe.probe(folder / "second.mkv")
    assert (info.stream, info.num_frames, info.video_streams) == (1, 50, (0, 1))
    assert np.array_equal(decoded(folder / "second.mkv"), base)


def test_the_probe_counts_the_video_stream_s_bytes_alone(folder: Path, tmp_path: Path) -> None:
    """What a decoder reads, and what the plan costs decoding by: not the audio, not another stream."""
    from benchmarks import budget
    from benchmarks.dataset import probe_video

    base = probe_video(str(folder / "base.mp4"))
    assert 0 < base.stream_bytes < base.bytes  # the container's own bytes are not the stream's
    voiced = tmp_path / "voiced.mp4"  # the same video stream, with a loud 320 kb/s audio track
    ffmpeg("-i", str(folder / "base.mp4"), "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
           "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "320k", "-shortest", str(voiced))
    got = probe_video(str(voiced))
    assert got.stream_bytes == base.stream_bytes and got.bytes > base.bytes + 20_000
    assert budget.stream_megabytes(got) == pytest.approx(budget.stream_megabytes(base))
    # Two video streams: the one read (the default, the shorter) is counted.
    assert probe_video(str(folder / "two.mp4")).stream_bytes == probe_video(str(folder / "short.mp4")).stream_bytes


def test_cover_art_is_not_the_video(folder: Path) -> None:
    info = probe.probe(folder / "cover.mp4")
    assert (info.stream, info.num_frames) == (0, 50)
    assert np.array_equal(decoded(folder / "cover.mp4"), decoded(folder / "base.mp4"))


def test_a_file_holding_only_cover_art_has_no_video(folder: Path, tmp_path: Path) -> None:
    only = tmp_path / "only-cover.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-i", str(folder / "cover.png"), "-map", "0", "-map", "1",
           "-c:a", "aac", "-c:v", "copy", "-disposition:v:0", "attached_pic", str(only))
    with pytest.raises(loaders.CorruptVideo, match="attached picture"):
        probe.probe(only)


# Every decode loader ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", TS + STREAMS)
def test_decode_loader(loader: str, folder: Path, name: str) -> None:
    read = read_or_refuse(loader, folder / name)
    if loader in MUST_READ:
        assert read, f"{loader} must read {name}"


@pytest.mark.parametrize("name", TS)
@pytest.mark.parametrize("loader", ["decord", "cv2-seek", "torchvision-read_video", "torchvision-videoreader"])
def test_ts_refusals_say_why(loader: str, folder: Path, name: str) -> None:
    """Loaders that cannot number a file without an index right refuse it on open, naming the container."""
    require_loader(loader)
    with pytest.raises(loaders.UnsupportedVideo, match="mpegts container") as caught:
        loaders.open(loader, folder / name)
    assert "variable-frame-rate" not in str(caught.value)


def test_cv2_grab_reads_ts(folder: Path) -> None:
    require_loader("cv2-grab")
    for name in TS:
        assert read_or_refuse("cv2-grab", folder / name)


def test_loaders_that_cannot_choose_a_stream_refuse_another(loader: str, folder: Path) -> None:
    """second.mkv: the default stream is the second. OpenCV and read_video read the first."""
    path = folder / "second.mkv"
    if loader in {"cv2-seek", "cv2-grab", "torchvision-read_video"}:
        with pytest.raises(loaders.UnsupportedVideo, match="first video stream"):
            loaders.open(loader, path)
        return
    assert read_or_refuse(loader, path)
    with loaders.open(loader, path) as src:
        assert src.stream == 1


# Repeats decoded once, forward reading -----------------------------------------------------------


class Counter:
    """Wraps an object and counts calls of the named methods (with their arguments)."""

    def __init__(self, inner: Any, *names: str) -> None:
        self._inner, self.calls = inner, {n: [] for n in names}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self.calls:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name].append(args + tuple(kwargs.values()))
            return attr(*args, **kwargs)

        return call

    def __len__(self) -> int:
        return len(self._inner)


def test_repeats_are_read_once(loader: str, folder: Path) -> None:
    """5,000 copies of one index: the loader's reading step sees the frame once, fanned out after."""
    path = folder / "base.mp4"
    with loaders.open(loader, path) as src:
        spy = Counter(src, "_read_ascending")
        src._read_ascending = spy._read_ascending  # type: ignore[attr-defined]
        got = src.get_frames([9] * 5000)
        asked = [a[0].tolist() for a in spy.calls["_read_ascending"]]
    assert asked == [[9]]
    assert got.shape[0] == 5000 and np.array_equal(got[0], decoded(path)[9]) and np.array_equal(got[0], got[-1])


def test_cv2_seek_reads_a_repeated_frame_once(folder: Path) -> None:
    require_loader("cv2-seek")
    with loaders.open("cv2-seek", folder / "base.mp4") as src:
        cap = Counter(src._cap, "read", "set")  # type: ignore[attr-defined]
        src._cap = cap  # type: ignore[attr-defined]
        src.get_frames([20] * 5000)
        assert len(cap.calls["read"]) == 1
        src.get_frames(list(range(21, 30)))  # continues from where it stands: no seek
        assert len(cap.calls["set"]) == 1 and len(cap.calls["read"]) == 10


def test_decord_reads_forward(folder: Path) -> None:
    """Consecutive clips: one seek (back to frame 0, which opening read), then next() on; repeats once."""
    require_loader("decord")
    path = folder / "base.mp4"
    expected = decoded(path)
    with loaders.open("decord", path) as src:
        reader = Counter(src._reader, "next", "seek_accurate", "skip_frames", "get_batch")  # type: ignore[attr-defined]
        src._reader = reader  # type: ignore[attr-defined]
        for start in range(0, 48, 16):
            assert np.array_equal(src.get_frames(range(start, start + 16)), expected[start : start + 16])
        assert len(reader.calls["next"]) == 48 and reader.calls["seek_accurate"] == [(0,)]
        # Every 3rd frame within a GOP: decoded without converting (skip_frames), no seek but the one back.
        assert np.array_equal(src.get_frames([0, 3, 6, 9]), expected[[0, 3, 6, 9]])
        assert reader.calls["seek_accurate"] == [(0,), (0,)] and reader.calls["skip_frames"] == [(2,)] * 3
        assert np.array_equal(src.get_frames([40] * 300), expected[[40] * 300])
        assert not reader.calls["get_batch"]
        assert len(reader.calls["next"]) == 48 + 4 + 1


def test_pyav_reads_forward(folder: Path) -> None:
    require_loader("pyav")
    path = folder / "plain.ts"
    with loaders.open("pyav", path) as src:
        seeks = Counter(src, "_seek", "_restart")
        src._seek, src._restart = seeks._seek, seeks._restart  # type: ignore[attr-defined]
        for start in range(0, 48, 16):
            src.get_frames(range(start, start + 16))
        # The first request starts the decoder; a TS seek by pts lands late once and is redone by dts.
        assert len(seeks.calls["_seek"]) <= 2 and not seeks.calls["_restart"]


def test_torchcodec_reads_a_clip_frame_by_frame(folder: Path) -> None:
    """A clip goes through decoder[i] in order, other requests through one get_frames_at."""
    require_loader("torchcodec")
    path = folder / "plain.ts"
    expected = decoded(path)
    with loaders.open("torchcodec", path) as src:
        decoder = Counter(src._decoder, "get_frames_at", "get_frames_in_range")  # type: ignore[attr-defined]
        items: list[int] = []
        inner = decoder._inner

        class Indexed:
            def __getitem__(self, i: int) -> Any:
                items.append(i)
                return inner[i]

            def __getattr__(self, name: str) -> Any:
                return getattr(decoder, name)

        src._decoder = Indexed()  # type: ignore[attr-defined]
        assert np.array_equal(src.get_frames(range(16, 32)), expected[16:32])
        assert np.array_equal(src.get_frames([30, 2, 2, 40]), expected[[30, 2, 2, 40]])
    assert items == list(range(16, 32))
    assert decoder.calls["get_frames_at"] == [([2, 30, 40],)] and not decoder.calls["get_frames_in_range"]


# Extractors -----------------------------------------------------------------------------------


@MAIN_STACK
@pytest.mark.parametrize("extractor", ["ffmpeg", "pyav", "cv2"])
@pytest.mark.parametrize("name", TS + STREAMS)
def test_extraction(folder: Path, tmp_path: Path, extractor: str, name: str) -> None:
    path = folder / name
    expected = decoded(path)
    formats = ["npy", "jpeg"] if name in ("plain.ts", "wrap.ts", "second.mkv") else ["npy"]
    for fmt in formats:
        try:
            result = loaders.extract(path, tmp_path / fmt, extractor=extractor, format=fmt)
        except loaders.UnsupportedVideo as exc:
            assert extractor == "cv2" and name == "second.mkv"  # OpenCV reads the first stream only
            assert "first video stream" in exc.cause
            return
        assert result.frames == len(expected)
        reader = "npy" if fmt == "npy" else "pil"
        with loaders.open(reader, tmp_path / fmt) as src:
            every = np.arange(src.num_frames)
            assert_frames_match(src.get_frames(every), expected, every, lossless=fmt == "npy")
