"""What a video holds, learnt by demuxing its packets with PyAV (nothing is decoded).

Frame ``i`` is the packet with the ``i``-th smallest pts: right with B-frames, a first pts that
is not 0 and a variable frame rate. A container whose header promises more frames than its
packets hold is truncated. PyAV is vidbench's reference decoder, so every stack has it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import av
import numpy as np

from loaders.errors import CorruptVideo, VideoNotFound, cause_of


@dataclasses.dataclass(frozen=True)
class Probe:
    num_frames: int
    fps: float  # the stream's average frame rate
    width: int
    height: int
    codec: str
    pts: np.ndarray  # pts of frame i, ascending, in the stream's time base
    keyframes: np.ndarray  # frame indices a decoder can start from, ascending, starting with 0
    time_base: float


def probe(path: str | os.PathLike[str]) -> Probe:
    """Open, demux and check ``path``: a LoaderError names what is wrong with it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise VideoNotFound(path, "no such file or directory")
    with open_container(path) as container:
        stream = container.streams.video[0]
        pts, keyframes = index_packets(container, stream, path)
        ctx = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        codec = ctx.codec.canonical_name if ctx.codec else ctx.name
        return Probe(len(pts), fps, ctx.width, ctx.height, codec, pts, keyframes, float(stream.time_base))


def open_container(path: str) -> Any:
    """Open a file with PyAV, turning every failure into a LoaderError naming the file."""
    if os.path.getsize(path) == 0:
        raise CorruptVideo(path, "empty file")
    try:
        container = av.open(path, metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise CorruptVideo(path, f"not a readable video: {cause_of(exc)}") from exc
    if not container.streams.video:
        container.close()
        raise CorruptVideo(path, "no video stream")
    return container


def index_packets(container: Any, stream: Any, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Demux every packet of ``stream`` (no decoding) -> (sorted frame pts, keyframe positions).

    Truncation shows as fewer packets than the header promises (MP4 stores a frame count) or as
    a stream that ends well before the container's duration says (Matroska, WebM).
    """
    pts: list[int] = []
    keys: list[int] = []
    end = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None or packet.is_discard:
                continue
            if packet.is_corrupt:
                raise CorruptVideo(path, f"the demuxer flagged the packet at pts {packet.pts} as corrupt")
            pts.append(packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
            if packet.is_keyframe:
                keys.append(packet.pts)
    except av.FFmpegError as exc:
        raise CorruptVideo(path, f"reading packets failed: {cause_of(exc)}") from exc
    if not pts:
        raise CorruptVideo(path, "the video stream holds no frames")
    if stream.frames and len(pts) < stream.frames:
        raise CorruptVideo(path, f"truncated: the header promises {stream.frames} frames, the file holds {len(pts)}")
    sorted_pts = np.sort(np.asarray(pts, dtype=np.int64))
    if np.any(np.diff(sorted_pts) == 0):
        raise CorruptVideo(path, "two frames share a timestamp")
    _check_duration(container, stream, sorted_pts, end, path)
    key_pos = np.searchsorted(sorted_pts, np.sort(np.asarray(keys, dtype=np.int64)))
    if key_pos.size == 0 or key_pos[0] != 0:
        # Frames before the first keyframe cannot be decoded on their own; seeking to frame 0
        # still starts from the stream's start, so treat it as a seek point.
        key_pos = np.concatenate([[0], key_pos])
    return sorted_pts, key_pos.astype(np.int64)


def _check_duration(container: Any, stream: Any, sorted_pts: np.ndarray, end: int, path: str) -> None:
    if not container.duration or container.start_time is None or len(sorted_pts) < 2:
        return
    tb = float(stream.time_base)
    interval = float(np.median(np.diff(sorted_pts))) * tb
    # Matroska's duration counts from 0 and MP4's from the start; the smaller end is the safe one.
    expected_end = (container.duration + min(container.start_time, 0)) / 1e6
    stream_end = max(end, int(sorted_pts[-1])) * tb
    # Two frames of slack: containers round durations, and the last frame's duration may be unset.
    if stream_end < expected_end - 2 * interval - 0.01 * container.duration / 1e6:
        raise CorruptVideo(
            path, f"truncated: the video stream ends at {stream_end:.3f} s, the container says {expected_end:.3f} s"
        )


def check_file(path: str) -> Probe:
    """Validate a video before a library that crashes on bad input gets it; return what it holds."""
    if not os.path.exists(path):
        raise VideoNotFound(path, "no such file or directory")
    return probe(path)
