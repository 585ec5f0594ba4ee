"""torchcodec: ``VideoDecoder`` with an exact frame index, one batched ``get_frames_at`` per request.

An index is a frame, not a timestamp guess. The index comes from the probe every decode loader
runs (``custom_frame_mappings``: each frame's pts, duration and whether a decoder can start
there) rather than from torchcodec's own scan in exact mode: that scan, in 0.13, leaves out
the packets an MP4 edit list flags discard, a leading keyframe among them, so a ``-c copy`` cut
returned a later frame for its first frames and stopped early on others (torchcodec #1502,
fixed after 0.13). ``validate=False`` skips the probe and uses torchcodec's scan.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import torchcodec
from torchcodec.decoders import VideoDecoder

from loaders.base import Source
from loaders.errors import CorruptVideo, UnsupportedVideo, first_line
from loaders.probe import Probe, check_file


class TorchCodecSource(Source):
    kind = "decode"
    library = f"torchcodec {torchcodec.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, validate: bool = True, **options: Any) -> None:
        super().__init__(path, threads=threads, validate=validate, **options)
        # A demux pass: catches what torchcodec would crash on or silently cut short.
        info = check_file(self.path) if validate else None
        self.threads = threads
        mode: dict[str, Any] = {"seek_mode": "exact"} if info is None else {"custom_frame_mappings": _mappings(info)}
        try:
            self._decoder: Any = VideoDecoder(self.path, dimension_order="NHWC", num_ffmpeg_threads=threads, **mode)
        except (RuntimeError, ValueError) as exc:
            # The probe found a sound video: the failure is torchcodec's, not the file's.
            error = CorruptVideo if info is None else UnsupportedVideo
            raise error(self.path, f"torchcodec cannot open it: {first_line(exc)}") from exc
        meta = self._decoder.metadata
        self.rotation = int(meta.rotation or 0) % 360  # torchcodec turns frames upright itself
        if info is None:
            self.num_frames = int(meta.num_frames or 0)
            self.width, self.height = int(meta.width or 0), int(meta.height or 0)  # as displayed
        else:
            self.num_frames, self.width, self.height = info.num_frames, info.width, info.height
        self.fps = float(meta.average_fps or 0)
        if self.num_frames <= 0:
            raise CorruptVideo(self.path, "the video stream holds no frames")

    def _read(self, indices: np.ndarray) -> np.ndarray:
        try:
            batch = self._decoder.get_frames_at(indices=indices.tolist())
        except (RuntimeError, IndexError, ValueError) as exc:
            raise CorruptVideo(self.path, f"torchcodec failed decoding frames: {first_line(exc)}") from exc
        frames = batch.data.numpy()
        if frames.shape != (len(indices), self.height, self.width, 3):
            raise CorruptVideo(
                self.path, f"torchcodec returned frames of shape {frames.shape} for {len(indices)} asked"
            )
        return frames

    def close(self) -> None:
        self._decoder = None


def _mappings(info: Probe) -> str:
    """The probe's frame index in the JSON form torchcodec reads (ffprobe's ``-show_frames``)."""
    pts = info.pts
    # A frame lasts until the next one; the last lasts as long as the one before it.
    last = int(pts[-1] - pts[-2]) if len(pts) > 1 else 1
    durations = np.diff(pts, append=pts[-1] + last)
    key = np.zeros(len(pts), dtype=bool)
    # After a seek to an open-GOP keyframe torchcodec 0.13 can run out of frames before the one
    # asked for ("no more frames left to decode"): such a video is decoded from its start.
    key[[0] if info.open_gop else info.keyframes] = True
    frames = [
        {"pts": int(p), "duration": int(d), "key_frame": int(k)} for p, d, k in zip(pts, durations, key, strict=True)
    ]
    return json.dumps({"frames": frames})
