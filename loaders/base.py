"""The one interface every loader implements."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from loaders.errors import FrameIndexError, VideoNotFound
from loaders.paths import absolute

if TYPE_CHECKING:  # torch is imported when a tensor is asked for: the pillow-simd stack has none
    import torch

Kind = Literal["decode", "frames"]


class Source(abc.ABC):
    """A video (or an extracted frame store) opened by one backend.

    A source knows its metadata on open and serves frames by index:

    * ``kind`` is ``"decode"`` for a loader that reads a video file and ``"frames"`` for one
      that reads a store written by :func:`loaders.extract`.
    * ``num_frames``, ``fps``, ``width`` and ``height`` describe the video as decoded: frame
      ``i`` is the ``i``-th frame in presentation order, counted from 0, whatever the
      container's first timestamp, the B-frame reordering or the frame rate's regularity.
    * :meth:`get_frames` returns an ``(N, H, W, 3)`` uint8 RGB array holding the frames asked
      for, in the order asked; indices may repeat and need not be sorted. An index outside
      ``[0, num_frames)`` raises :class:`loaders.FrameIndexError` before any work is done, and a
      frame the library fails to produce raises :class:`loaders.CorruptVideo`: a source never
      returns fewer frames, or other frames, than were asked for.
    * Frames are upright, as a player shows them: a decode loader turns the coded picture by the
      video's display matrix (phones store portrait video as rotated landscape), and
      ``rotation`` says by how many degrees counterclockwise (0, 90, 180 or 270; ``width`` and
      ``height`` are those of the turned frame). A store holds frames already upright.
    * ``stream`` is the index of the video stream read: the one FFmpeg picks by default
      (``av_find_best_stream``; never an attached picture such as cover art), the same in every
      loader and extractor. A decode loader whose library reads another stream of the file refuses
      it with :class:`loaders.UnsupportedVideo`. A store's is 0.
    * ``library`` names the library that does the work, with its version, for the records.
    * ``exact`` is ``False`` for a loader known to return a neighbouring frame for some
      requests; reports show it, and the contract tests check that the flag tells the truth.
    * :meth:`get_tensors` returns the same frames as a ``(N, H, W, 3)`` uint8 torch tensor on a
      device. A CPU loader decodes into host memory and, for a CUDA device, copies the frames
      into pinned memory and on to the device without blocking, as a training loop's
      ``pin_memory`` DataLoader does; a GPU loader (``device = "cuda"``) keeps them on the device
      and overrides it.

    A source is a context manager; ``close()`` releases the library's handles and is safe to
    call twice. A source is not shared between processes: a DataLoader worker opens its own.

    Implementations set the metadata in ``__init__`` and implement :meth:`_read`, which gets
    the request already validated as an int64 array.
    """

    kind: ClassVar[Kind]
    exact: ClassVar[bool] = True
    device: ClassVar[str] = "cpu"  # where the library leaves decoded frames: "cpu" or "cuda"
    rotation: int = 0
    stream: int = 0  # index of the video stream in the file
    library: ClassVar[str]  # the library doing the work, with its version: "av 18.1.0"

    num_frames: int
    fps: float
    width: int
    height: int

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        # Absolute: the libraries below are FFmpeg's, which would read 'pipe:0.mp4' as a protocol.
        self.path = absolute(path)
        self.options = options
        if not os.path.exists(self.path):
            raise VideoNotFound(self.path, "no such file or directory")

    @abc.abstractmethod
    def _read(self, indices: np.ndarray) -> np.ndarray:
        """Return the frames at ``indices`` (validated, in the order asked) as (N, H, W, 3)."""

    def close(self) -> None:  # noqa: B027 - a source without handles has nothing to release
        """Release the library's handles."""

    def get_frames(self, indices: Iterable[int] | np.ndarray) -> np.ndarray:
        idx = self.check_indices(indices)
        if idx.size == 0:
            return np.empty((0, self.height, self.width, 3), dtype=np.uint8)
        return self._read(idx)

    def get_tensors(self, indices: Iterable[int] | np.ndarray, device: Any = "cpu") -> torch.Tensor:
        """The frames of :meth:`get_frames` as a ``(N, H, W, 3)`` uint8 tensor on ``device``."""
        import torch

        frames = torch.from_numpy(self.get_frames(indices))
        target = torch.device(device)
        if target.type == "cpu":
            return frames
        # A pageable host buffer would be staged and copied synchronously; a pinned one is
        # copied by DMA while the host goes on (the caching host allocator keeps it alive).
        return frames.pin_memory().to(target, non_blocking=True)

    def check_indices(self, indices: Iterable[int] | np.ndarray) -> np.ndarray:
        """The request as a one-dimensional int64 array; FrameIndexError before any work if invalid."""
        idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
        if idx.ndim != 1:
            raise FrameIndexError(self.path, f"indices must be one-dimensional, got shape {idx.shape}")
        if idx.size == 0:
            return idx.astype(np.int64)
        if not np.issubdtype(idx.dtype, np.integer):
            raise FrameIndexError(self.path, f"indices must be integers, got {idx.dtype}")
        idx = idx.astype(np.int64, copy=False)
        bad = idx[(idx < 0) | (idx >= self.num_frames)]
        if bad.size:
            raise FrameIndexError(self.path, f"frame index {int(bad[0])} out of range [0, {self.num_frames})")
        return idx

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        meta = getattr(self, "num_frames", None)
        return f"<{type(self).__name__} {self.path!r} frames={meta}>"


def read_sorted_unique(indices: np.ndarray, read_ascending: Any) -> np.ndarray:
    """Serve a request through ``read_ascending(sorted_unique_indices)``.

    Backends that walk forward through a video decode each wanted frame once, in order, and
    this puts the result back in the order asked, repeats included. A request already strictly
    ascending is served as it is: gathering would copy the whole answer, doubling the peak memory.
    """
    if indices.size < 2 or bool(np.all(indices[1:] > indices[:-1])):
        return read_ascending(indices)
    unique, inverse = np.unique(indices, return_inverse=True)
    frames = read_ascending(unique)
    return frames[inverse]
