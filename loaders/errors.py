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


def cause_of(exc: BaseException) -> str:
    """What went wrong, in words, for a LoaderError's message: the text of an FFmpeg (PyAV) or OS
    error without its "[Errno N]" prefix and file name. The number means nothing to a reader
    (FFmpeg's are four-letter tags read as integers: 1094995529 is "INDA", invalid data) and the
    LoaderError names the path already; FFmpeg's last log line, when PyAV kept one, says more."""
    strerror = getattr(exc, "strerror", None)
    if not isinstance(strerror, str) or not strerror:
        return str(exc)
    log = getattr(exc, "log", None)
    if isinstance(log, tuple) and len(log) == 3 and str(log[2]).strip():
        return f"{strerror} ({str(log[2]).strip()})"
    return strerror


def first_line(exc: BaseException) -> str:
    """The first line of a library's exception text, for a one-line cause."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def one_line(exc: BaseException, limit: int = 400) -> str:
    """A library's whole exception text on one line (at most ``limit`` characters), for one whose
    first line says too little (PyNvVideoCodec's is often just "HandleVideoSequence :")."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__
