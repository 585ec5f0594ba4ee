"""torchvision.io: ``read_video`` per run of frames, and ``VideoReader`` seek and next.

torchvision removed video decoding after 0.25, so these loaders live in their own dependency
stack (torch 2.10, torchvision 0.25, PyAV; see noxfile.py). Its registry wheels ship only the
``pyav`` video backend: ``video_reader`` needs torchvision built from source against FFmpeg and
``cuda`` a GPU build, so both loaders decode through PyAV, the way torchvision users get it.

Both APIs take timestamps, not frame indices. On open the packets are demuxed once
(:mod:`loaders.probe`) to learn every frame's pts, and a frame is asked for by its own pts:
``read_video(path, pts[a], pts[b], pts_unit="pts")``, as torchvision's ``VideoClips`` calls it.
Seconds as floats, the way most code calls it, pick a neighbouring frame whenever the product
of float and time base rounds the wrong way (tests/test_torchvision.py shows it on the corpus).
``VideoReader.seek`` lands on the keyframe before the target (the pyav backend has no accurate
seek), so the reader then reads on until the frame whose pts is the target's.

Both seek by a keyframe's pts, which in a container without an index (MPEG-TS, M2TS, MPEG program
streams) lands past the keyframe: such a file is refused as :class:`loaders.UnsupportedVideo`.
``read_video`` reads the file's first video stream: a file whose default video stream (the one
every loader reads) is another is refused; ``VideoReader`` is given that stream (``"video:N"``).
"""

from __future__ import annotations

import abc
import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from typing import Any

import av
import numpy as np

from loaders import orientation
from loaders.base import Source, read_sorted_unique
from loaders.errors import CorruptVideo, UnsupportedVideo, cause_of
from loaders.probe import UNINDEXED, probe

NEEDS = "needs the torchvision stack: torchvision <= 0.25"

# Importing torchvision turns on PyAV's Python log callback, which deadlocks a frame-threaded
# PyAV decoder stopped before the end (PyAV #1849, #1861); put the level back so importing this
# module leaves the other PyAV loaders of the process as they were.
_av_log_level = av.logging.get_level()
try:
    import torchvision

    _version = re.match(r"(\d+)\.(\d+)", torchvision.__version__)
    if _version is None or (int(_version[1]), int(_version[2])) > (0, 25):
        raise ImportError(f"torchvision {torchvision.__version__} has no video decoding")
    from torchvision.io import VideoReader, read_video
except ImportError as exc:
    raise ImportError(f"{NEEDS} ({exc})") from exc
finally:
    av.logging.set_level(_av_log_level)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the two warnings torchvision gives on every call, and only those.

    Video decoding is deprecated (we know: that is why this stack exists), and pts_unit="pts"
    "gives wrong results": true only for an audio stream, whose time base differs from the
    video's; the frames asked for here are video frames, by their own pts.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The video decoding and encoding capabilities of torchvision")
        warnings.filterwarnings("ignore", message="The pts_unit 'pts' gives wrong results")
        yield


def runs(wanted: np.ndarray, max_gap: int, max_run: int) -> list[np.ndarray]:
    """Split ascending frame indices into runs one decode serves: neighbours at most ``max_gap``
    apart, a run spanning at most ``max_run`` frames (read_video holds a whole span in memory)."""
    out: list[np.ndarray] = []
    start = 0
    for i in range(1, len(wanted) + 1):
        if i == len(wanted) or wanted[i] - wanted[i - 1] > max_gap or wanted[i] - wanted[start] >= max_run:
            out.append(wanted[start:i])
            start = i
    return out


class _TorchvisionSource(Source):
    kind = "decode"
    library = f"torchvision {torchvision.__version__} (pyav backend), av {av.__version__}"

    def __init__(
        self, path: str | os.PathLike[str], threads: int = 0, max_gap: int = 8, max_run: int = 64, **options: Any
    ) -> None:
        super().__init__(path, threads=threads, max_gap=max_gap, max_run=max_run, **options)
        info = probe(self.path)  # also turns empty, non-video and truncated files into CorruptVideo
        if info.container in UNINDEXED:
            raise UnsupportedVideo(
                self.path,
                f"{info.container} container: it has no index, and torchvision's pyav backend seeks by pts, which "
                "lands past the keyframe in it",
            )
        if info.open_gop:
            raise UnsupportedVideo(
                self.path,
                f"open-GOP {info.codec} video: torchvision seeks by time to the keyframe after a keyframe's "
                "leading frames, so it never returns them",
            )
        self.stream = info.stream
        self._nth_video = info.video_streams.index(info.stream)  # torchvision's "video:N"
        self.num_frames, self.fps, self.width, self.height = info.num_frames, info.fps, info.width, info.height
        self.rotation = info.rotation  # torchvision's pyav backend returns the coded picture: turned here
        self._pts = info.pts
        self._time_base = info.time_base
        self.threads, self.max_gap, self.max_run = threads, max(1, max_gap), max(1, max_run)

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return read_sorted_unique(indices, self._read_ascending)

    def _read_ascending(self, wanted: np.ndarray) -> np.ndarray:
        return np.concatenate([self._read_run(run) for run in runs(wanted, self.max_gap, self.max_run)])

    @abc.abstractmethod
    def _read_run(self, run: np.ndarray) -> np.ndarray:
        """The frames of one run of ascending indices (a result of :func:`runs`)."""

    def _index_of(self, seconds: float) -> int:
        """The frame whose pts is ``seconds`` (as torchvision computes it), or -1 if none is."""
        pts = round(seconds / self._time_base)
        i = int(np.searchsorted(self._pts, pts))
        return i if i < len(self._pts) and self._pts[i] == pts else -1


class ReadVideoSource(_TorchvisionSource):
    """One ``read_video`` call per run: it opens the file, seeks, decodes the span, closes.

    ``read_video`` has no thread setting: PyAV decodes with its defaults whatever ``threads`` says.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, **options: Any) -> None:
        super().__init__(path, threads=threads, **options)
        if self._nth_video != 0:
            raise UnsupportedVideo(
                self.path,
                f"read_video reads the first video stream, not the default one (stream {self.stream}), and "
                "cannot choose another",
            )

    def _read_run(self, run: np.ndarray) -> np.ndarray:
        first, last = int(run[0]), int(run[-1])
        # read_video swallows every FFmpeg error and returns what it decoded so far, or an empty
        # (0, 1, 1, 3) tensor: a count short of the span is the only sign of bad data.
        try:
            with _quiet():
                video, _, _ = read_video(self.path, int(self._pts[first]), int(self._pts[last]), pts_unit="pts")
        except (av.FFmpegError, ValueError) as exc:
            raise CorruptVideo(self.path, f"read_video failed on frames {first}..{last}: {cause_of(exc)}") from exc
        frames = orientation.upright(video.numpy(), self.rotation)
        if frames.shape != (last - first + 1, self.height, self.width, 3):
            raise CorruptVideo(
                self.path,
                f"read_video returned {frames.shape[0]} frames of {frames.shape[1:3]} for frames {first}..{last}"
                f" ({last - first + 1} of {(self.height, self.width)}): the data is damaged",
            )
        return frames[run - first]


class VideoReaderSource(_TorchvisionSource):
    """One ``VideoReader`` per source: ``seek`` to a target's time, then ``next`` until its pts."""

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, **options: Any) -> None:
        super().__init__(path, threads=threads, **options)
        self._reader: Any = None
        self._frame: Any = None  # the (3, H, W) tensor the reader returned last
        self._at = -1  # index of the frame the reader returned last; -1 when it must seek

    def _read_run(self, run: np.ndarray) -> np.ndarray:
        out = np.empty((len(run), self.height, self.width, 3), dtype=np.uint8)
        for slot, target in enumerate(run.tolist()):
            if self._reader is None:
                try:  # num_threads only reaches the video_reader backend; pyav decodes as PyAV defaults
                    with _quiet():
                        self._reader = VideoReader(self.path, f"video:{self._nth_video}", num_threads=self.threads)
                except av.FFmpegError as exc:
                    raise CorruptVideo(self.path, f"VideoReader cannot open it: {cause_of(exc)}") from exc
            if not self._at < target <= self._at + self.max_gap:
                self._at = -1
                try:
                    self._reader.seek(float(self._pts[target] * self._time_base), keyframes_only=True)
                except av.FFmpegError as exc:
                    self._drop_reader()
                    raise CorruptVideo(self.path, f"seeking to frame {target} failed: {cause_of(exc)}") from exc
            while self._at < target:
                self._at = self._next(target)
            if self._at != target:
                self._at = -1
                raise CorruptVideo(self.path, f"the reader skipped frame {target}: its pts was never returned")
            out[slot] = orientation.upright(self._frame.permute(1, 2, 0).numpy(), self.rotation)
        return out

    def _next(self, target: int) -> int:
        try:
            frame = next(self._reader)
        except StopIteration:
            self._at = -1
            raise CorruptVideo(self.path, f"the stream ended before frame {target}: truncated data") from None
        except av.FFmpegError as exc:
            self._drop_reader()  # its decoding generator died with the error
            raise CorruptVideo(self.path, f"decoding failed before frame {target}: {cause_of(exc)}") from exc
        self._frame = frame["data"]
        index = self._index_of(frame["pts"])
        if index < 0:
            self._at = -1
            raise CorruptVideo(
                self.path, f"the decoder returned a frame at {frame['pts']} s that the file does not index"
            )
        return index

    def _drop_reader(self) -> None:
        reader, self._reader, self._at = getattr(self, "_reader", None), None, -1
        if reader is not None:
            reader.container.close()  # the pyav backend's container; VideoReader has no close()

    def close(self) -> None:
        self._drop_reader()
