"""What a video holds, learnt by demuxing its packets with PyAV (only the first frame is decoded).

Frame ``i`` is the packet with the ``i``-th smallest pts that is not flagged discard: right with
B-frames, a first pts that is not 0, a variable frame rate and an MP4 edit list (a ``-c copy``
cut keeps the packets from the keyframe before the cut and flags those before it discard; a
decoder decodes them and presents none). A container whose header promises more frames than its
packets hold is truncated. A video whose frames, in decoding order, go back in time at a
keyframe, or share a timestamp, has no one frame ``i``: it is valid, and refused as
:class:`UnsupportedVideo`.

The video is the one stream FFmpeg picks by default (:func:`video_stream`: ``av_find_best_stream``,
never an attached picture such as cover art); every loader and extractor reads that stream, and
``Probe.stream`` says which. A second stream that runs longer does not make the file truncated: the
container's duration is checked against the stream that ends last. The first decoded frame tells
the display rotation (FFmpeg attaches the display matrix to frames). PyAV is vidbench's reference
decoder, so every stack has it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import av
import numpy as np

from loaders import orientation
from loaders.errors import CorruptVideo, UnsupportedVideo, VideoNotFound, cause_of
from loaders.paths import absolute

# Containers without an index (MPEG-TS and M2TS, MPEG program streams): FFmpeg seeks them by a
# search over decoding timestamps, so a seek to a keyframe's pts lands on a packet after it.
UNINDEXED = frozenset({"mpegts", "mpeg"})


@dataclasses.dataclass(frozen=True)
class PacketIndex:
    pts: np.ndarray  # pts of frame i, ascending, in the stream's time base
    keyframes: np.ndarray  # frame indices a decoder can start from, ascending, starting with 0
    key_dts: np.ndarray  # the decoding timestamp of each of those keyframes (its pts where it has no dts)
    # A keyframe has leading frames (decoded after it, shown before it) that reference the GOP
    # before: open-GOP H.264 (recovery-point I-frames) or HEVC (CRA pictures with RASL frames).
    # A decoder that starts at such a keyframe cannot produce them.
    open_gop: bool
    rotation: int  # degrees counterclockwise the display matrix turns the coded picture: 0, 90, 180, 270
    stream_bytes: int = 0  # of every packet of the stream: what a decoder reads (no audio, no container)


@dataclasses.dataclass(frozen=True)
class Probe:
    num_frames: int
    fps: float  # the stream's average frame rate
    width: int  # as displayed: after the rotation
    height: int
    codec: str
    pts: np.ndarray  # pts of frame i, ascending, in the stream's time base
    keyframes: np.ndarray  # frame indices a decoder can start from, ascending, starting with 0
    time_base: float
    rotation: int  # degrees counterclockwise applied to the coded picture to show it upright
    open_gop: bool
    stream: int = 0  # index of the video stream in the file (FFmpeg's default stream)
    best: int = 0  # the stream av_find_best_stream picks: ``stream`` unless that is an attached picture
    video_streams: tuple[int, ...] = (0,)  # every video stream's index, in file order (cover art too)
    container: str = ""  # FFmpeg's name of the container format: "mov,mp4,m4a,3gp,3g2,mj2", "mpegts"
    stream_bytes: int = 0  # of the video stream's packets: the file less its audio, subtitles and container


def probe(path: str | os.PathLike[str]) -> Probe:
    """Open, demux and check ``path``: a LoaderError names what is wrong with it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise VideoNotFound(path, "no such file or directory")
    with open_container(path) as container:
        stream = video_stream(container, path)
        index = index_packets(container, stream, path)
        ctx = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        codec = ctx.codec.canonical_name if ctx.codec else ctx.name
        width, height = orientation.displayed_size(ctx.width, ctx.height, index.rotation)
        return Probe(
            len(index.pts),
            fps,
            width,
            height,
            codec,
            index.pts,
            index.keyframes,
            float(stream.time_base),
            index.rotation,
            index.open_gop,
            stream=stream.index,
            best=best.index if (best := container.streams.best("video")) is not None else stream.index,
            video_streams=tuple(s.index for s in container.streams.video),
            container=container.format.name,
            stream_bytes=index.stream_bytes,
        )


def video_stream(container: Any, path: str) -> Any:
    """The video stream FFmpeg picks by default (``av_find_best_stream``), never an attached picture.

    Cover art is a one-frame video stream flagged ``attached_pic``; FFmpeg ranks it below a real
    video, and where it is all the file holds the file holds no video.
    """
    attached = av.stream.Disposition.attached_pic
    best = container.streams.best("video")
    if best is None or best.disposition & attached:
        moving = [s for s in container.streams.video if not s.disposition & attached]
        if not moving:
            raise CorruptVideo(path, "no video stream (only an attached picture, such as cover art)")
        best = moving[0]
    return best


def open_container(path: str) -> Any:
    """Open a file with PyAV, turning every failure into a LoaderError naming the file."""
    if os.path.getsize(path) == 0:
        raise CorruptVideo(path, "empty file")
    try:
        container = av.open(absolute(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise CorruptVideo(path, f"not a readable video: {cause_of(exc)}") from exc
    if not container.streams.video:
        container.close()
        raise CorruptVideo(path, "no video stream")
    return container


def index_packets(container: Any, stream: Any, path: str) -> PacketIndex:
    """Demux every packet of ``stream``, decoding only up to the first frame -> its index.

    Truncation shows as fewer packets than the header promises (MP4 stores a frame count,
    discarded packets included) or as a stream that ends well before the container's duration
    says (Matroska, WebM). ``stream.codec_context`` is flushed afterwards, so a caller can decode
    with it; its threads must be set before this call (a codec cannot change them once open).
    """
    pts: list[int] = []
    keys: list[int] = []
    decode_order: list[int] = []  # every packet's pts, discarded ones too: what a decoder is fed
    key_order: list[int] = []  # positions in decode_order of keyframes
    key_dts: dict[int, int] = {}  # pts -> dts of the keyframes shown
    first_dts: int | None = None  # the smallest decoding timestamp of the stream
    discarded = 0
    stream_bytes = 0
    end = 0
    last_end = 0.0  # seconds: where the stream that ends last ends
    first_frame = _FirstFrame(stream)
    try:
        # Every stream's packets: the container's duration is that of its longest stream.
        for packet in container.demux():
            if packet.size == 0 or packet.pts is None:
                continue
            if packet.stream.index != stream.index:
                last_end = max(last_end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                continue
            if packet.is_corrupt:
                raise CorruptVideo(path, f"the demuxer flagged the packet at pts {packet.pts} as corrupt")
            if packet.is_keyframe:
                key_order.append(len(decode_order))
            decode_order.append(packet.pts)
            stream_bytes += packet.size
            dts = packet.pts if packet.dts is None else packet.dts
            first_dts = dts if first_dts is None else min(first_dts, dts)
            first_frame.feed(packet)
            if packet.is_discard:
                discarded += 1
                continue
            if packet.is_keyframe:
                keys.append(len(pts))
                key_dts[packet.pts] = packet.pts if packet.dts is None else packet.dts
            pts.append(packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
        rotation = first_frame.rotation(path)
    except av.FFmpegError as exc:
        raise CorruptVideo(path, f"reading packets failed: {cause_of(exc)}") from exc
    finally:
        first_frame.close()
    if not pts:
        raise CorruptVideo(path, "the video stream holds no frames")
    if stream.frames and len(pts) + discarded < stream.frames:
        held = len(pts) + discarded
        raise CorruptVideo(path, f"truncated: the header promises {stream.frames} frames, the file holds {held}")
    shown = np.asarray(pts, dtype=np.int64)  # in decode order
    _check_time_runs_forward(shown, np.asarray(keys, dtype=np.int64), float(stream.time_base), path)
    sorted_pts = np.sort(shown)
    _check_duration(container, stream, sorted_pts, end, last_end, path)
    key_pts = np.sort(shown[keys])
    key_pos = np.searchsorted(sorted_pts, key_pts)
    seek_dts = [key_dts[int(p)] for p in key_pts]
    if key_pos.size == 0 or key_pos[0] != 0:
        # Frames before the first keyframe cannot be decoded on their own; seeking to frame 0
        # still starts from the stream's start, so treat it as a seek point.
        key_pos = np.concatenate([[0], key_pos])
        seek_dts = [first_dts if first_dts is not None else int(sorted_pts[0]), *seek_dts]
    return PacketIndex(
        sorted_pts,
        key_pos.astype(np.int64),
        np.asarray(seek_dts, dtype=np.int64),
        _has_leading_frames(decode_order, key_order),
        rotation,
        stream_bytes,
    )


class _FirstFrame:
    """Feeds packets to the stream's decoder until the first frame comes out, for its rotation."""

    def __init__(self, stream: Any) -> None:
        self._ctx = stream.codec_context
        self._frame: Any = None
        self._started = False  # the first keyframe was fed: what comes before it cannot decode

    def feed(self, packet: Any) -> None:
        self._started = self._started or packet.is_keyframe
        if self._frame is None and self._started:
            # A frame-threaded decoder holds back a few frames; a discarded packet shows none.
            self._frame = next(iter(self._ctx.decode(packet)), None)

    def rotation(self, path: str) -> int:
        if self._frame is None and self._started:
            self._frame = next(iter(self._ctx.decode(None)), None)
        if self._frame is None:
            raise CorruptVideo(path, "no frame decodes from the start of the video stream")
        return 90 * orientation.quarter_turns(self._frame.rotation, path)

    def close(self) -> None:
        if self._started:
            self._ctx.flush_buffers()


def _has_leading_frames(decode_order: list[int], key_order: list[int]) -> bool:
    """Whether a keyframe after the first is followed, in decode order, by a frame shown before it."""
    if len(key_order) < 2:
        return False
    order = np.asarray(decode_order, dtype=np.int64)
    # later_min[k]: the smallest pts decoded after position k.
    later_min = np.append(np.minimum.accumulate(order[::-1])[::-1][1:], np.iinfo(np.int64).max)
    keys = np.asarray(key_order[1:], dtype=np.int64)
    return bool(np.any(later_min[keys] < order[keys]))


def _check_time_runs_forward(shown: np.ndarray, keys: np.ndarray, time_base: float, path: str) -> None:
    """Refuse a video whose frame ``i`` differs by time and by decoding: UnsupportedVideo, as the file is valid.

    A decoder presents the frames decoded before a keyframe before it, and in any one encode
    they are shown before it too. A ``-c copy`` concat of clips with B-frames breaks that: with
    an ``outpoint`` (or an overlap of the clips' timestamps) the first clip keeps frames shown
    after the next clip's first keyframe, so presented frames go back in time and two of them
    may share a timestamp. Numbering frames by time (every seeking loader) and by decode (the
    reference, decord) then disagree, and either way some frame is shown out of its time.
    """
    earlier_max = np.maximum.accumulate(shown)
    later_keys = keys[keys > 0]
    overlap = later_keys[earlier_max[later_keys - 1] > shown[later_keys]]
    if overlap.size:
        at = float(shown[overlap[0]]) * time_base
        raise UnsupportedVideo(
            path,
            f"timestamps go back at the keyframe at {at:.3f} s: frames decoded before it are shown after it "
            "(a stream-copy concat whose clips overlap in time, e.g. cut at an outpoint), so frame numbers by "
            "time and by decoding order disagree",
        )
    ordered = np.sort(shown)
    same = np.flatnonzero(np.diff(ordered) == 0)
    if same.size:
        at = float(ordered[same[0]]) * time_base
        raise UnsupportedVideo(path, f"two frames share the timestamp {at:.3f} s: a frame number by time is ambiguous")


def _check_duration(container: Any, stream: Any, sorted_pts: np.ndarray, end: int, other_end: float, path: str) -> None:
    if not container.duration or container.start_time is None or len(sorted_pts) < 2:
        return
    tb = float(stream.time_base)
    interval = float(np.median(np.diff(sorted_pts))) * tb
    # Matroska's duration counts from 0 and MP4's from the start; the smaller end is the safe one.
    expected_end = (container.duration + min(container.start_time, 0)) / 1e6
    stream_end = max(max(end, int(sorted_pts[-1])) * tb, other_end)
    # Two frames of slack: containers round durations, and the last frame's duration may be unset.
    if stream_end < expected_end - 2 * interval - 0.01 * container.duration / 1e6:
        raise CorruptVideo(
            path, f"truncated: its streams end by {stream_end:.3f} s, the container says {expected_end:.3f} s"
        )


def check_file(path: str) -> Probe:
    """Validate a video before a library that crashes on bad input gets it; return what it holds."""
    if not os.path.exists(path):
        raise VideoNotFound(path, "no such file or directory")
    return probe(path)
