"""How a path reaches a library built on FFmpeg (PyAV, OpenCV, torchcodec, decord, torchvision, the
ffmpeg binary): absolute.

FFmpeg reads ``NAME:rest`` as a protocol and the rest as its argument, so a file called
``pipe:0.mp4`` would read standard input and ``file:x.mp4`` would open ``x.mp4``; an absolute path
starts with ``/`` (or a drive on Windows), which no protocol name does, so it is always a plain
file. Every place a user's path goes to one of those libraries passes it through :func:`absolute`.
"""

from __future__ import annotations

import os


def absolute(path: str | os.PathLike[str]) -> str:
    """``path`` made absolute (not resolved: links are kept), as a string for any library."""
    return os.path.abspath(os.fspath(path))
