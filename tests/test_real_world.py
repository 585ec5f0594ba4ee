"""Valid videos as datasets hold them: edit lists, open GOP, rotation, tiny and one-frame videos,
high bit depth and odd sizes. Each is generated here, small, with the bundled ffmpeg.

A decode loader reads each one exactly (the reference decode defines exact), or returns the right
frame with a colour difference that verification labels, or refuses it with
``loaders.UnsupportedVideo`` saying why; never a wrong frame, never ``CorruptVideo``.
"""

from __future__ import annotations

import subprocess
import tracemalloc
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import require_loader
from frame_checks import decoded, open_or_refused

import loaders
from benchmarks import corpus, perframe, verify
from benchmarks.patterns import Sample
from benchmarks.spec import Target
from loaders import probe, reference, resize

DECODE = [n for n in loaders.STACKS[loaders.current_stack()] if loaders.REGISTRY[n].kind == "decode"]
SOURCE = "testsrc2=size=128x64:rate=25"
# Extraction (and its OpenCV extractor, the frame readers) belongs to the main stack.
MAIN_STACK = pytest.mark.skipif(loaders.current_stack() != "main", reason="extraction runs in the main stack")


def ffmpeg(*args: str) -> None:
    subprocess.run([corpus.ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def encode(out: Path, frames: int, codec_args: str, source: str = SOURCE) -> Path:
    ffmpeg("-f", "lavfi", "-i", source, "-frames:v", str(frames), "-an", *codec_args.split(), "-threads", "2", str(out))
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real-world")


@pytest.fixture(scope="module")
def base(folder: Path) -> Path:
    """Closed GOP, B-frames, keyframes every second."""
    return encode(folder / "base.mp4", 50, "-c:v libx264 -g 25 -bf 2 -pix_fmt yuv420p")


def assert_exact_or_unsupported(name: str, path: Path, indices: list[int] | None = None) -> loaders.Source | None:
    """``name`` reads ``path`` exactly, or refuses it with UnsupportedVideo; returns the closed source."""
    expected = decoded(path)
    src = open_or_refused(name, path)
    if src is None:
        return None
    with src:
        assert src.num_frames == len(expected)
        assert (src.height, src.width) == expected.shape[1:3]
        n = src.num_frames
        wanted = indices or [n - 1, *np.random.default_rng(3).permutation(n).tolist(), 0, n // 2, n // 2]
        try:
            got = src.get_frames(wanted)
        except loaders.UnsupportedVideo as exc:  # found out while reading (cv2-seek checks each frame's time)
            assert str(path) in str(exc) and exc.cause
            return None
    for slot, index in enumerate(wanted):
        assert np.array_equal(got[slot], expected[index]), f"{name}: frame {index} is not the reference's"
    return src


@pytest.fixture(params=DECODE)
def loader(request: pytest.FixtureRequest) -> str:
    require_loader(request.param)
    return str(request.param)


def test_unsupported_video_is_a_loader_error() -> None:
    assert issubclass(loaders.UnsupportedVideo, loaders.LoaderError)
    assert not issubclass(loaders.UnsupportedVideo, loaders.CorruptVideo)
    assert "UnsupportedVideo" in loaders.__all__


# 1. Edit lists ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cut(base: Path, folder: Path) -> Path:
    """A stream-copy cut half a second in: the edit list hides the frames before the cut point."""
    out = folder / "cut.mp4"
    ffmpeg("-ss", "0.5", "-i", str(base), "-c", "copy", str(out))
    return out


def test_probe_counts_the_frames_an_edit_list_shows(cut: Path) -> None:
    with av.open(str(cut)) as container:
        in_header = container.streams.video[0].frames
    shown = reference.decode(cut, []).num_frames
    assert shown < in_header  # the edit list discards packets the header counts
    assert probe.probe(cut).num_frames == shown


def test_edit_list(loader: str, cut: Path) -> None:
    if loader == "decord":  # decord numbers the discarded packets as frames
        with pytest.raises(loaders.UnsupportedVideo, match="edit list"):
            loaders.open(loader, cut)
        return
    assert assert_exact_or_unsupported(loader, cut) is not None


@MAIN_STACK
@pytest.mark.parametrize("extractor", ["ffmpeg", "pyav", "cv2"])
def test_edit_list_extraction(cut: Path, tmp_path: Path, extractor: str) -> None:
    result = loaders.extract(cut, tmp_path / "store", extractor=extractor, format="npy")
    with loaders.open("npy", tmp_path / "store") as src:
        assert np.array_equal(src.get_frames(range(src.num_frames)), decoded(cut))
    assert result.frames == probe.probe(cut).num_frames


# 2. Open GOP ------------------------------------------------------------------------------------

OPEN_GOP = {
    "h264": "-c:v libx264 -bf 3 -pix_fmt yuv420p -x264-params open-gop=1:keyint=25:min-keyint=25:scenecut=0",
    "hevc": "-c:v libx265 -pix_fmt yuv420p -x265-params "
    "open-gop=1:keyint=25:min-keyint=25:scenecut=0:bframes=3:log-level=error",
}


@pytest.fixture(scope="module", params=[(c, e) for c in OPEN_GOP for e in ("mp4", "mkv")], ids=lambda p: "-".join(p))
def open_gop(request: pytest.FixtureRequest, folder: Path) -> Path:
    codec, ext = request.param
    return encode(folder / f"open-gop-{codec}.{ext}", 80, OPEN_GOP[codec])


def test_probe_tells_open_gop(open_gop: Path, base: Path) -> None:
    assert probe.probe(open_gop).open_gop
    assert not probe.probe(base).open_gop  # B-frames alone do not make a GOP open


def test_open_gop(loader: str, open_gop: Path) -> None:
    # After a keyframe's leading frames, backwards, and across GOPs: where decord went wrong.
    indices = [75, 50, 49, 48, 47, 26, 24, 0, 79, 51]
    if loader == "decord" or loader.startswith("torchvision"):
        with pytest.raises(loaders.UnsupportedVideo, match="open-GOP"):
            loaders.open(loader, open_gop)
        return
    assert assert_exact_or_unsupported(loader, open_gop, indices) is not None


# 3. Rotation ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[90, 180, 270])
def rotated(request: pytest.FixtureRequest, base: Path, folder: Path) -> tuple[Path, int]:
    out = folder / f"rotated-{request.param}.mp4"
    ffmpeg("-display_rotation", str(request.param), "-i", str(base), "-c", "copy", str(out))
    return out, int(request.param)


def test_reference_is_upright(rotated: tuple[Path, int], base: Path) -> None:
    path, degrees = rotated
    # -display_rotation D: show the picture turned D degrees counterclockwise, as np.rot90 does.
    upright = np.rot90(decoded(base), degrees // 90, axes=(1, 2))
    assert np.array_equal(decoded(path), upright)
    assert reference.decode(path, []).rotation == degrees
    info = probe.probe(path)
    assert info.rotation == degrees and (info.height, info.width) == upright.shape[1:3]


def test_rotation(loader: str, rotated: tuple[Path, int]) -> None:
    path, degrees = rotated
    src = assert_exact_or_unsupported(loader, path)
    assert src is not None and src.rotation == degrees


@MAIN_STACK
@pytest.mark.parametrize("extractor", ["ffmpeg", "pyav", "cv2"])
@pytest.mark.parametrize("fmt", ["png", "npy"])
def test_rotation_extraction(rotated: tuple[Path, int], tmp_path: Path, extractor: str, fmt: str) -> None:
    path, _ = rotated
    loaders.extract(path, tmp_path / "store", extractor=extractor, format=fmt)
    with loaders.open("pil" if fmt == "png" else "npy", tmp_path / "store") as src:
        assert np.array_equal(src.get_frames(range(src.num_frames)), decoded(path))


@MAIN_STACK
@pytest.mark.parametrize("extractor", ["ffmpeg", "pyav", "cv2"])
def test_rotated_store_at_training_size(rotated: tuple[Path, int], tmp_path: Path, extractor: str) -> None:
    """size= resizes the upright frame: its short side is S whichever way the video is turned."""
    path, _ = rotated
    loaders.extract(path, tmp_path / "store", extractor=extractor, format="npy", size=64)
    want = loaders.resize_frames(decoded(path), 64)
    with loaders.open("npy", tmp_path / "store") as src:
        got = src.get_frames(range(src.num_frames))
    assert got.shape == want.shape and min(got.shape[1:3]) == 64
    assert np.abs(got.astype(int) - want).max() <= resize.TOLERANCE


# 4. Small and unusual videos --------------------------------------------------------------------


def grey_ramp(path: Path, size: tuple[int, int], frames: int) -> Path:
    """Frames of one grey level each, a different level per frame: tiny yet tellable apart."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            rgb = np.full((size[1], size[0], 3), 20 + 10 * i, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_one_frame_video(loader: str, folder: Path) -> None:
    path = encode(folder / "one-frame.mp4", 1, "-c:v libx264 -pix_fmt yuv420p")
    assert assert_exact_or_unsupported(loader, path, [0, 0]) is not None


def test_two_by_two_video(loader: str, folder: Path) -> None:
    path = grey_ramp(folder / "2x2.mp4", (2, 2), 10)
    levels = decoded(path).mean(axis=(1, 2, 3))
    assert np.all(np.diff(levels) > 0)  # every frame differs: a wrong index would show
    if loader == "decord":  # the rows of a 2-pixel-wide RGB frame are padded; decord misreads them
        with pytest.raises(loaders.UnsupportedVideo, match="channels"):
            loaders.open(loader, path)
        return
    assert assert_exact_or_unsupported(loader, path) is not None


def test_padded_width_in_decord(folder: Path) -> None:
    require_loader("decord")
    path = encode(folder / "96-wide.mp4", 5, "-c:v libx264 -pix_fmt yuv420p", "testsrc2=size=96x64:rate=25")
    with pytest.raises(loaders.UnsupportedVideo, match=r"96x64 video's frames with 4 channels"):
        loaders.open("decord", path)


@pytest.fixture(scope="module")
def vfr_concat(folder: Path) -> Path:
    """10 frames at 10 fps, then 20 at 25 fps, B-frames in both: the average rate fits neither."""
    parts = []
    for rate, frames, content in ((10, 10, "mandelbrot"), (25, 20, "testsrc2")):
        parts.append(encode(folder / f"part-{rate}.mkv", frames, "-c:v libx264 -bf 2 -pix_fmt yuv420p",
                            f"{content}=size=128x64:rate={rate},format=yuv420p"))
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    path = folder / "vfr-concat.mkv"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path))
    return path


def test_vfr_concat_mkv(loader: str, vfr_concat: Path) -> None:
    frames = decoded(vfr_concat).astype(np.int16)
    assert np.all(np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3)) > 0)  # a wrong index would show
    read = assert_exact_or_unsupported(loader, vfr_concat)
    if loader in ("pyav", "torchcodec", "cv2-grab"):
        assert read is not None


@pytest.fixture(scope="module")
def vfr_concat_cut(vfr_concat: Path, folder: Path) -> Path:
    """The concat above cut in its 10 fps part and remuxed to MP4 with ``-c copy``: an edit list
    hides the packets before the cut, in a stream whose frame rate changes after it."""
    path = folder / "vfr-concat-cut.mp4"
    ffmpeg("-ss", "0.35", "-i", str(vfr_concat), "-c", "copy", str(path))
    return path


def test_vfr_concat_with_an_edit_list(loader: str, vfr_concat_cut: Path) -> None:
    with av.open(str(vfr_concat_cut)) as container:
        in_header = container.streams.video[0].frames
        discarded = sum(p.is_discard for p in container.demux(video=0) if p.size)
    shown = reference.decode(vfr_concat_cut, []).num_frames
    assert discarded > 0 and shown == in_header - discarded  # what the truncation check must allow
    assert probe.probe(vfr_concat_cut).num_frames == shown
    read = assert_exact_or_unsupported(loader, vfr_concat_cut)
    if loader in ("pyav", "torchcodec", "cv2-grab"):
        assert read is not None


def test_cv2_seek_refuses_a_frame_its_seek_misses(vfr_concat: Path) -> None:
    require_loader("cv2-seek")
    with loaders.open("cv2-seek", vfr_concat) as src, pytest.raises(loaders.UnsupportedVideo, match="average rate"):
        src.get_frames([src.num_frames - 1])


@pytest.fixture(scope="module")
def bframe_clips(folder: Path) -> list[Path]:
    """Two 2-second clips with B-frames and a keyframe a second, of different content."""
    return [
        encode(folder / f"clip-{content}.mp4", 50, "-c:v libx264 -g 25 -bf 2 -pix_fmt yuv420p",
               f"{content}=size=128x64:rate=25,format=yuv420p")
        for content in ("testsrc2", "mandelbrot")
    ]


@pytest.fixture(scope="module", params=[("0.5", "mp4"), ("0.5", "mkv"), ("0.52", "mp4"), ("0.52", "mkv")],
                ids=lambda p: f"outpoint-{p[0]}-{p[1]}")
def overlapping_concat(request: pytest.FixtureRequest, bframe_clips: list[Path], folder: Path) -> Path:
    """A stream-copy concat whose first clip ends at an ``outpoint``: the demuxer keeps the frames
    decoded before the outpoint, some shown after it, so they overlap the second clip in time.
    At 0.52 s (a frame's time) two frames share a timestamp as well."""
    outpoint, ext = request.param
    listing = folder / f"overlap-{outpoint}.txt"
    listing.write_text(f"file '{bframe_clips[0]}'\noutpoint {outpoint}\nfile '{bframe_clips[1]}'\n")
    path = folder / f"overlap-{outpoint}.{ext}"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path))
    return path


def test_an_overlapping_concat_has_no_one_frame_order(overlapping_concat: Path) -> None:
    """Decoded in order, the frames go back in time at the join: frame i by time is not frame i decoded."""
    with av.open(str(overlapping_concat)) as container:
        shown = np.array([frame.pts for frame in container.decode(video=0)])
    with av.open(str(overlapping_concat)) as container:
        packets = np.sort([p.pts for p in container.demux(video=0) if p.size])
    assert np.any(np.diff(shown) < 0)
    if "0.52" in overlapping_concat.name:
        assert np.any(np.diff(packets) == 0)  # what loaders once refused as CorruptVideo
    with pytest.raises(loaders.UnsupportedVideo, match="timestamps do not run forward"):
        reference.decode(overlapping_concat)
    with pytest.raises(loaders.UnsupportedVideo, match=r"timestamps go back at the keyframe at 0\.5[02]0 s"):
        probe.probe(overlapping_concat)


def test_overlapping_concat(loader: str, overlapping_concat: Path) -> None:
    # decord numbered its frames in decoding order without a word; pyav and cv2-seek by time.
    refused = pytest.raises(loaders.UnsupportedVideo, match="frame numbers by time and by decoding order disagree")
    with refused, loaders.open(loader, overlapping_concat) as src:
        src.get_frames(range(src.num_frames))


@MAIN_STACK
def test_overlapping_concat_extraction(overlapping_concat: Path, tmp_path: Path) -> None:
    with pytest.raises(loaders.UnsupportedVideo, match="timestamps go back"):
        loaders.extract(overlapping_concat, tmp_path / "store", format="npy")
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_frames_sharing_a_timestamp(loader: str, folder: Path) -> None:
    """Intra-only frames, two muxed at one time: no overlap, yet no one frame at that time."""
    path = folder / "shared-time.mkv"
    times = [0, 40, 80, 80, 120]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuvj420p"
        for i in range(len(times)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 20 + 30 * i, dtype=np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                packet.pts = packet.dts = times[packet.pts]
                packet.time_base = Fraction(1, 1000)
                container.mux(packet)
    with pytest.raises(loaders.UnsupportedVideo, match=r"two frames share the timestamp 0\.080 s"):
        loaders.open(loader, path)


# 5. Colour conversion ---------------------------------------------------------------------------

ODD = "testsrc2=size=98x62:rate=25,scale=97:61"
COLOUR = {
    "h264-10bit": ("mp4", "-c:v libx264 -pix_fmt yuv420p10le", SOURCE),
    "hevc-10bit": ("mp4", "-c:v libx265 -pix_fmt yuv420p10le -x265-params log-level=error", SOURCE),
    "ffv1-odd": ("mkv", "-c:v ffv1 -pix_fmt yuv420p", ODD),
    "mpeg4-odd": ("mp4", "-c:v mpeg4 -pix_fmt yuv420p", ODD),
}


@pytest.fixture(scope="module", params=list(COLOUR))
def colour_video(request: pytest.FixtureRequest, folder: Path) -> Path:
    ext, args, source = COLOUR[request.param]
    return encode(folder / f"{request.param}.{ext}", 12, args, source)


def test_colour_conversion_is_labelled_not_wrong(loader: str, colour_video: Path) -> None:
    n = reference.decode(colour_video, []).num_frames
    samples = [Sample(str(colour_video), tuple(range(n)))]
    ref = verify.reference_frames(colour_video, samples, n)
    with loaders.open(loader, colour_video) as src:
        got = src.get_frames(range(n))
    verdict = verify.check(got, range(n), ref)
    assert verdict.wrong is None, f"{loader}: {verdict.wrong}"
    if loader == "pyav":  # the reference's own library
        assert verdict.exact and verdict.label() == "exact"
    elif not verdict.exact:
        assert verdict.max_diff > 0 and verdict.mean_diff > 0
        assert verdict.label().startswith("right frame, different colour conversion (max difference")
    # The same frames one index late are wrong, however close the colours.
    late = verify.check(got[1:], range(n - 1), ref)
    assert late.wrong is not None and late.label().startswith("wrong: ")


def test_a_verdict_over_samples_keeps_the_worst_difference(colour_video: Path) -> None:
    n = reference.decode(colour_video, []).num_frames
    samples = [Sample(str(colour_video), (0, 1)), Sample(str(colour_video), (n - 1,))]
    ref = verify.reference_frames(colour_video, samples, n)
    full = reference.decode(colour_video)

    class Shifted:  # the right frames, one colour level brighter from the second sample on
        calls = 0

        def get_frames(self, indices: tuple[int, ...]) -> np.ndarray:
            frames = full.stack(indices)
            Shifted.calls += 1
            return frames if Shifted.calls == 1 else np.clip(frames.astype(np.int16) + 1, 0, 255).astype(np.uint8)

    verdict = perframe.check(Target("x", "decode"), Shifted(), samples, ref)  # type: ignore[arg-type]
    assert verdict.wrong is None and not verdict.exact and verdict.max_diff == 1
    assert verdict.label(lossy=True).startswith("right frame, lossy store")


# 12. Memory -------------------------------------------------------------------------------------


def peak_allocation(read: Callable[[], np.ndarray]) -> tuple[int, np.ndarray]:
    """Peak bytes NumPy and Python allocate during ``read()``, and its result."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


@pytest.mark.parametrize("name", ["pyav", "cv2-grab"])
def test_a_sorted_request_is_not_copied(name: str, base: Path) -> None:
    require_loader(name)
    with loaders.open(name, base) as src:
        src.get_frames([0])  # open the decoder's buffers outside the measurement
        frame = src.height * src.width * 3
        peak, got = peak_allocation(lambda: src.get_frames(range(src.num_frames)))
        assert np.array_equal(got, decoded(base))
        assert peak < got.nbytes + 8 * frame  # one answer, not the answer and its reordered copy
        peak, got = peak_allocation(lambda: src.get_frames([*range(src.num_frames), 0]))
        assert peak >= got.nbytes * 2 - frame  # unsorted: decoded ascending, then put in order


def test_decord_reads_each_frame_once_in_little_memory(base: Path) -> None:
    """decord reads forward (skip_frames, next) rather than get_batch, which seeks every call: an
    unsorted request with repeats decodes each frame once and holds little beyond the answer."""
    require_loader("decord")
    with loaders.open("decord", base) as src:
        reader = src._reader  # type: ignore[attr-defined]
        calls: list[str] = []

        class Spy:
            def __len__(self) -> int:
                return len(reader)

            def __getattr__(self, name: str) -> object:
                calls.append(name)
                return getattr(reader, name)

        src._reader = Spy()  # type: ignore[attr-defined]
        wanted = np.random.default_rng(0).integers(0, src.num_frames, 3 * 16 + 5)
        frame = src.height * src.width * 3
        peak, got = peak_allocation(lambda: src.get_frames(wanted))
    assert np.array_equal(got, decoded(base)[wanted])
    assert "get_batch" not in calls and calls.count("next") == len(np.unique(wanted))
    assert peak < got.nbytes + 3 * 16 * frame
