"""OpenCV the way most code uses it: ``CAP_PROP_POS_FRAMES`` then ``read()`` for every index.

Each frame of a request is read once, in ascending order, and repeats are fanned out
(:func:`loaders.base.read_sorted_unique`); a frame right after the one read last is read on
without a seek.
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from loaders.base import Source, read_sorted_unique
from loaders.errors import CorruptVideo, UnsupportedCodec, UnsupportedVideo
from loaders.probe import UNINDEXED, probe


class Cv2Source(Source):
    """Shared by the two OpenCV loaders: open, metadata and one checked ``retrieve``.

    OpenCV's ``CAP_PROP_FRAME_COUNT`` is an estimate (duration x fps) for containers that store
    no frame count, and wrong for streams whose first timestamp is not 0, so the count comes from
    :func:`loaders.probe.probe` (packets demuxed, nothing decoded), which also catches truncation.
    OpenCV turns frames upright by the display matrix itself (``CAP_PROP_ORIENTATION_AUTO``).

    OpenCV reads the file's first video stream and cannot choose another (its open parameter
    ``CAP_PROP_VIDEO_STREAM`` takes only 0 or -1): a file whose default video stream, the one the
    probe and every other loader read, is another one is refused as :class:`UnsupportedVideo`.
    """

    kind = "decode"
    library = f"opencv {cv2.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, **options: Any) -> None:
        super().__init__(path, threads=threads, **options)
        info = probe(self.path)
        if info.video_streams[0] != info.stream:
            raise UnsupportedVideo(
                self.path,
                f"OpenCV reads the first video stream ({info.video_streams[0]}), not the default one "
                f"({info.stream}), and cannot choose another",
            )
        self.threads = threads
        self.stream = info.stream
        self._params = [cv2.CAP_PROP_N_THREADS, threads] if threads else []
        self._cap: Any = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, self._params)
        if not self._cap.isOpened():
            self._cap.release()
            raise CorruptVideo(self.path, f"OpenCV cannot open it ({info.codec} video): {opencv_video_io()}")
        self.num_frames, self.fps, self.rotation = info.num_frames, info.fps, info.rotation
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._codec, self._info = info.codec, info
        # OpenCV opens files it cannot decode (its FFmpeg has no AV1 decoder, for one) and only
        # fails on the first read: find out now, at the cost of one keyframe.
        if not self._cap.grab():
            self._cap.release()
            raise UnsupportedCodec(
                self.path,
                f"OpenCV cannot decode the first frame of this {info.codec} video: its FFmpeg build "
                "lacks the decoder, or the frame is damaged",
            )
        self._reopen()

    def _reopen(self) -> None:
        """A fresh capture at frame 0: OpenCV cannot seek back to frame 0 of a one-frame video."""
        self._cap.release()
        self._cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG, self._params)

    def _retrieve(self, ok: bool, bgr: np.ndarray | None, index: int, out: np.ndarray) -> None:
        if not ok or bgr is None:
            raise CorruptVideo(
                self.path, f"OpenCV could not decode frame {index} ({self._codec}): truncated, damaged or unsupported"
            )
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=out)

    def close(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None:
            cap.release()
            self._cap = None


class Cv2SeekSource(Cv2Source):
    """``CAP_PROP_POS_FRAMES`` turns a frame number into a time with the average frame rate, which
    a variable-frame-rate video (a concat of clips at different rates) does not keep: it can land
    on another frame. Each frame read is checked against its timestamp from the probe, and a miss
    raises :class:`loaders.UnsupportedVideo` instead of returning the wrong frame.

    An MPEG-TS or M2TS (or MPEG program stream) has no index: OpenCV's seek searches it by
    decoding time and lands past the keyframe (frame 12 for frame 0 of a GOP-12 ``.ts``), whatever
    the frame rate, so such a file is refused on open (``cv2-grab`` reads it exactly).
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, **options: Any) -> None:
        super().__init__(path, threads=threads, **options)
        if self._info.container in UNINDEXED:
            self.close()
            raise UnsupportedVideo(
                self.path,
                f"{self._info.container} container: it has no index, and OpenCV's frame-number seek searches it "
                "by decoding time and lands past the keyframe (cv2-grab, which reads forward, reads it exactly)",
            )
        self._position = 0  # index of the frame the next read() returns
        # OpenCV's CAP_PROP_POS_MSEC: milliseconds from the first frame's pts.
        self._msec = (self._info.pts - self._info.pts[0]) * self._info.time_base * 1000
        gaps = np.diff(self._msec)
        self._slack = float(gaps.min()) / 2 if gaps.size else 1.0
        # Frames whose time the average rate does not give: OpenCV's seek may miss them.
        self._uneven = bool(np.any(np.abs(self._msec - np.arange(len(self._msec)) * 1000 / self.fps) > self._slack))

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return read_sorted_unique(indices, self._read_ascending)

    def _read_ascending(self, wanted: np.ndarray) -> np.ndarray:
        out = np.empty((len(wanted), self.height, self.width, 3), dtype=np.uint8)
        for slot, index in enumerate(wanted.tolist()):
            if index != self._position:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            self._position = -1  # unknown until the frame is checked
            ok, bgr = self._cap.read()
            if not ok and index == 0:  # a one-frame video: seeking back fails, a fresh capture reads it
                self._reopen()
                ok, bgr = self._cap.read()
            if not ok and self._uneven:
                raise self._missed(index, "found no frame")
            self._retrieve(ok, bgr, index, out[slot])
            at = self._cap.get(cv2.CAP_PROP_POS_MSEC)
            if abs(at - self._msec[index]) > self._slack:
                raise self._missed(index, f"landed on the frame at {at / 1000:.3f} s")
            self._position = index + 1
        return out

    def _missed(self, index: int, what: str) -> UnsupportedVideo:
        why = (
            "it counts frames at the average rate, which this variable-frame-rate video does not keep"
            if self._uneven
            else "its seek by time missed the frame in this constant-rate video"
        )
        return UnsupportedVideo(
            self.path, f"OpenCV's frame-number seek {what} for frame {index} ({self._msec[index] / 1000:.3f} s): {why}"
        )


def opencv_video_io() -> str:
    """The FFmpeg line of OpenCV's build information, for error messages."""
    for line in cv2.getBuildInformation().splitlines():
        if "FFMPEG" in line:
            return "OpenCV video I/O: " + " ".join(line.split())
    return "OpenCV was built without FFmpeg"
