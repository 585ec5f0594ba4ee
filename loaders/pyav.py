"""PyAV: seek to the keyframe at or before a target by pts, decode forward, threaded.

On open the packets are demuxed once (no decoding) to learn every frame's pts and which are
keyframes: frame ``i`` is the ``i``-th smallest pts, which is right with B-frames (decode order
differs from presentation order), with a first pts that is not 0 and with a variable frame rate,
where arithmetic on ``fps`` would pick the wrong frame. Frames are turned upright by the
display matrix (:mod:`loaders.orientation`), as the other loaders do.

A seek goes to the keyframe's pts, which lands on it in containers with an index (MP4, MKV). An
MPEG-TS (M2TS too) has no index: FFmpeg searches its packets by decoding time, lands on a packet
after the keyframe when asked for the keyframe's pts, and the decoder then starts at the next
keyframe. When a seek lands past its keyframe, this source seeks by the keyframe's decoding
timestamp from then on, and failing that decodes from the file's start: every frame is exact.

Requests are served in ascending order, each frame decoded once (duplicates fanned out), reading
forward from where the decoder stands when no keyframe lies between it and the next frame.
"""

from __future__ import annotations

import os
from typing import Any

import av
import numpy as np

from loaders import orientation
from loaders.base import Source, read_sorted_unique
from loaders.errors import CorruptVideo, cause_of
from loaders.probe import index_packets, open_container, video_stream


class PyAVSource(Source):
    kind = "decode"
    library = f"av {av.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, **options: Any) -> None:
        super().__init__(path, threads=threads, **options)
        self.threads = threads
        self._container = open_container(self.path)
        try:
            self._stream = video_stream(self._container, self.path)
            self._threads()
            index = index_packets(self._container, self._stream, self.path)
        except BaseException:
            self._container.close()
            raise
        ctx = self._stream.codec_context
        self.stream = self._stream.index
        self._pts, self._key_pos, self.rotation = index.pts, index.keyframes, index.rotation
        self._key_dts = index.key_dts
        self._by_dts = False  # a seek by pts landed past its keyframe: seek by decoding time
        self.num_frames = len(self._pts)
        self.width, self.height = orientation.displayed_size(ctx.width, ctx.height, self.rotation)
        self.fps = float(self._stream.average_rate or self._stream.guessed_rate or 0)
        self._decoder: Any = None  # the running frame iterator, positioned after self._next
        self._next = -1  # index of the next frame the running decoder will output
        self._held: Any = None  # a frame decoded after a seek, not yet consumed

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return read_sorted_unique(indices, self._read_ascending)

    def _read_ascending(self, wanted: np.ndarray) -> np.ndarray:
        out = np.empty((len(wanted), self.height, self.width, 3), dtype=np.uint8)
        for slot, target in enumerate(wanted.tolist()):
            # Decode forward when no keyframe lies between here and the target; else seek.
            key = int(self._key_pos[np.searchsorted(self._key_pos, target, side="right") - 1])
            if self._decoder is None or target < self._next or key > self._next:
                self._seek(key)
                if self._next - 1 > key and not self._by_dts:  # landed past the keyframe (no index: MPEG-TS)
                    self._by_dts = True
                    self._seek(key)
                if self._next - 1 > key:
                    self._restart()
            while True:
                frame, self._held = (self._held, None) if self._held is not None else (self._decode_one(), None)
                if frame.pts == self._pts[target]:
                    out[slot] = orientation.upright(frame.to_ndarray(format="rgb24"), self.rotation)
                    break
                if frame.pts is None or frame.pts > self._pts[target]:
                    missing = f"frame {target} (pts {self._pts[target]}) not produced by the decoder"
                    raise CorruptVideo(self.path, missing)
        return out

    def _threads(self) -> None:
        ctx = self._stream.codec_context
        ctx.thread_type = "AUTO"
        ctx.thread_count = self.threads

    def _seek(self, key: int) -> None:
        """Seek to keyframe ``key`` and decode its first frame, which sets ``_next`` (kept in ``_held``)."""
        target = int(self._key_dts[np.searchsorted(self._key_pos, key)] if self._by_dts else self._pts[key])
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            raise CorruptVideo(self.path, f"seek to frame {key} failed: {cause_of(exc)}") from exc
        self._start()

    def _restart(self) -> None:
        """Decode from the file's first packet: a fresh demuxer, which no seek can miss."""
        self._container.close()
        self._container = open_container(self.path)
        self._stream = self._container.streams[self.stream]
        self._threads()
        self._start()

    def _start(self) -> None:
        self._decoder = self._container.decode(self._stream)
        self._next = -1
        self._held = self._decode_one()  # sets _next: where the decoder landed

    def _decode_one(self) -> Any:
        try:
            frame = next(self._decoder)
        except StopIteration:
            self._decoder = None
            raise CorruptVideo(self.path, "the stream ended before the frame was decoded: truncated data") from None
        except av.FFmpegError as exc:
            self._decoder = None
            raise CorruptVideo(self.path, f"decoding failed: {cause_of(exc)}") from exc
        if frame.is_corrupt:
            self._decoder = None
            raise CorruptVideo(self.path, f"the decoder flagged the frame at pts {frame.pts} as corrupt")
        # After a seek the decoder may start at an earlier keyframe than asked for.
        self._next = int(np.searchsorted(self._pts, frame.pts, side="right")) if frame.pts is not None else self._next
        return frame

    def close(self) -> None:
        self._decoder = None
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None
