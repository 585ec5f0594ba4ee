"""torchcodec: ``VideoDecoder`` with an exact frame index.

An index is a frame, not a timestamp guess. The index comes from the probe every decode loader
runs (``custom_frame_mappings``: each frame's pts, duration and whether a decoder can start
there) rather than from torchcodec's own scan in exact mode: that scan, in 0.13, leaves out
the packets an MP4 edit list flags discard, a leading keyframe among them, so a ``-c copy`` cut
returned a later frame for its first frames and stopped early on others (torchcodec #1502,
fixed after 0.13). ``validate=False`` skips the probe and uses torchcodec's scan.

The stream is the one FFmpeg picks by default (``stream_index`` from the probe, never cover art).

MPEG-TS and M2TS (and MPEG program streams) have no index: torchcodec 0.13 seeks to a keyframe
by its pts, FFmpeg searches such a file by decoding time and lands after the keyframe, and the
decoder starts at the next one, so ``get_frames([0])`` returned frame 12 of a GOP-12 ``.ts``.
Such a file is remuxed on open, its video packets copied (no decoding) into an in-memory NUT
container, which has an index and keeps the time base: the decoder gets the same packets, so the
frames are the file's own. It costs one demux pass and the video stream's size in memory.

Requests go through :func:`loaders.base.read_sorted_unique` (each frame decoded once, ascending,
repeats fanned out), then by shape: a run of consecutive frames (a clip) is read with
``decoder[i]`` in order, anything else with one ``get_frames_at`` call. torchcodec reads forward
without seeking whenever the next frame shares the keyframe of the last one decoded, whatever
the form. The forms, timed on a single-keyframe 720p H.264 clip (192 frames) through this
loader's frame index, forms interleaved in random order each round, medians (IQR) of 15 rounds
at one FFmpeg thread and 21 at the default (0), on a shared 2-core machine at load 12-17, so only
the ranking means anything:

* consecutive 16-frame clips, frames/s, one thread / default threads: ``decoder[i]`` in order
  148 (108-171) / 109 (73-145); ``get_frames_at`` 131 (109-150) / 96 (70-156);
  ``get_frames_in_range`` 129 (105-153) / 91 (46-112); ``decoder[a:b]`` 131 (107-170) / 71 (44-106).
  ``decoder[i]`` led in both, as it did on a quiet machine (675-715 frames/s against 430-465
  for the batch forms); ``get_frames_in_range`` also clips its range to torchcodec's own frame
  count, which a Matroska file's header can put short (18 of 30 frames of a VFR concat).
* every 4th frame, sorted: ``get_frames_at`` 51 (40-58) / 34 (23-45), ``decoder[i]`` 47 (36-58) /
  33 (18-52), ``get_frames_in_range`` with a step 48 (41-56) / 45 (25-73): the same within the
  noise (decoding the frames between dominates), so the one batch call.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import av
import numpy as np
import torchcodec
from torchcodec.decoders import VideoDecoder

from loaders.base import Source, read_sorted_unique
from loaders.errors import CorruptVideo, UnsupportedVideo, cause_of, first_line
from loaders.probe import UNINDEXED, check_file, index_packets


class TorchCodecSource(Source):
    kind = "decode"
    library = f"torchcodec {torchcodec.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, validate: bool = True, **options: Any) -> None:
        super().__init__(path, threads=threads, validate=validate, **options)
        # A demux pass: catches what torchcodec would crash on or silently cut short.
        info = check_file(self.path) if validate else None
        self.threads = threads
        source: Any = self.path  # or, for a file without an index, its packets remuxed
        mode: dict[str, Any] = {"seek_mode": "exact"}
        if info is not None:
            self.stream = info.stream
            pts, keyframes, open_gop = info.pts, info.keyframes, info.open_gop
            if info.container in UNINDEXED:
                source, pts, keyframes, open_gop = _remux(self.path, info.stream)
                if len(pts) != info.num_frames:
                    raise UnsupportedVideo(
                        self.path,
                        f"its {info.container} packets copied to an indexed container hold "
                        f"{len(pts)} frames, not {info.num_frames}",
                    )
            mode = {
                "custom_frame_mappings": _mappings(pts, keyframes, open_gop),
                "stream_index": info.stream if isinstance(source, str) else 0,  # the remux holds one stream
            }
        try:
            self._decoder: Any = VideoDecoder(source, dimension_order="NHWC", num_ffmpeg_threads=threads, **mode)
        except (RuntimeError, ValueError) as exc:
            # The probe found a sound video: the failure is torchcodec's, not the file's.
            error = CorruptVideo if info is None else UnsupportedVideo
            raise error(self.path, f"torchcodec cannot open it: {first_line(exc)}") from exc
        meta = self._decoder.metadata
        self.rotation = int(meta.rotation or 0) % 360  # torchcodec turns frames upright itself
        if info is not None and self.rotation != info.rotation:
            raise UnsupportedVideo(
                self.path,
                f"torchcodec turns its frames by {self.rotation} degrees, the display matrix by {info.rotation}",
            )
        if info is None:
            self.stream = int(self._decoder.stream_index)
            self.num_frames = int(meta.num_frames or 0)
            self.width, self.height = int(meta.width or 0), int(meta.height or 0)  # as displayed
        else:
            self.num_frames, self.width, self.height = info.num_frames, info.width, info.height
        self.fps = float(meta.average_fps or 0)
        if self.num_frames <= 0:
            raise CorruptVideo(self.path, "the video stream holds no frames")

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return read_sorted_unique(indices, self._read_ascending)

    def _read_ascending(self, wanted: np.ndarray) -> np.ndarray:
        first, last = int(wanted[0]), int(wanted[-1])
        shape = (len(wanted), self.height, self.width, 3)
        try:
            if last - first + 1 == len(wanted):  # a clip: decoder[i] in order is the fastest form
                frames = np.empty(shape, dtype=np.uint8)
                for slot, index in enumerate(range(first, last + 1)):
                    frame = self._decoder[index].numpy()
                    if frame.shape != shape[1:]:
                        raise CorruptVideo(self.path, f"torchcodec returned frame {index} with shape {frame.shape}")
                    frames[slot] = frame
                return frames
            frames = self._decoder.get_frames_at(indices=wanted.tolist()).data.numpy()
        except (RuntimeError, IndexError, ValueError) as exc:
            raise CorruptVideo(self.path, f"torchcodec failed decoding frames: {first_line(exc)}") from exc
        if frames.shape != shape:
            raise CorruptVideo(self.path, f"torchcodec returned frames of shape {frames.shape} for {len(wanted)} asked")
        return frames

    def close(self) -> None:
        self._decoder = None


def _remux(path: str, stream: int) -> tuple[bytes, np.ndarray, np.ndarray, bool]:
    """Copy the packets of ``stream`` into an in-memory NUT container: its bytes and its frame index."""
    buffer = io.BytesIO()
    try:
        with av.open(path, metadata_errors="ignore") as src, av.open(buffer, "w", format="nut") as dst:
            video = src.streams[stream]
            out = dst.add_stream_from_template(video)
            for packet in src.demux(video):
                if packet.dts is None and packet.pts is None:
                    continue  # the demuxer's empty packet at the end
                packet.stream = out
                dst.mux(packet)
        data = buffer.getvalue()
        with av.open(io.BytesIO(data)) as copy:
            index = index_packets(copy, copy.streams.video[0], path)
    except av.FFmpegError as exc:
        raise UnsupportedVideo(path, f"copying its packets to an indexed container failed: {cause_of(exc)}") from exc
    return data, index.pts, index.keyframes, index.open_gop


def _mappings(pts: np.ndarray, keyframes: np.ndarray, open_gop: bool) -> str:
    """A frame index in the JSON form torchcodec reads (ffprobe's ``-show_frames``)."""
    # A frame lasts until the next one; the last lasts as long as the one before it.
    last = int(pts[-1] - pts[-2]) if len(pts) > 1 else 1
    durations = np.diff(pts, append=pts[-1] + last)
    key = np.zeros(len(pts), dtype=bool)
    # After a seek to an open-GOP keyframe torchcodec 0.13 can run out of frames before the one
    # asked for ("no more frames left to decode"): such a video is decoded from its start.
    key[[0] if open_gop else keyframes] = True
    frames = [
        {"pts": int(p), "duration": int(d), "key_frame": int(k)} for p, d, k in zip(pts, durations, key, strict=True)
    ]
    return json.dumps({"frames": frames})
