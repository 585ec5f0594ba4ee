"""Errors for bad input. Every message names the path and the cause."""

from __future__ import annotations

import os


class LoaderError(Exception):
    """Base of every error vidbench raises for bad input or a missing backend."""

    def __init__(self, path: str | os.PathLike[str] | None, cause: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}" if self.path is not None else cause)


class VideoNotFound(LoaderError, FileNotFoundError):
    """The file or store does not exist."""


class CorruptVideo(LoaderError):
    """The file is not a video, or its data is truncated or damaged."""


class FrameIndexError(LoaderError, IndexError):
    """A requested frame index is outside ``[0, num_frames)``."""


class BackendUnavailable(LoaderError):
    """The backend's library is missing or unusable in this environment."""


class InsufficientSpace(LoaderError):
    """An extraction would not fit in the free disk space, so it was not started."""


class UnsupportedCodec(BackendUnavailable):
    """The backend's library cannot decode this video's codec (e.g. a build without AV1)."""


class UnsupportedVideo(LoaderError):
    """A valid video this backend cannot read correctly (it would fail or hand back wrong frames).

    The file is fine: another loader reads it. The message says what the backend gets wrong.
    """


def first_line(exc: BaseException) -> str:
    """The first line of a library's exception text, for a one-line cause."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
