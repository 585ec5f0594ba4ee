"""Cold and warm reads: a store's or a video's files evicted from the page cache, or loaded into it.

A cold epoch reads what a store much larger than RAM costs: every byte from the disk. Before it,
:func:`evict` writes back any dirty pages of every file (``fdatasync``: a dirty page cannot be
dropped), asks the kernel to drop the clean ones (``posix_fadvise(POSIX_FADV_DONTNEED)``) and
checks it did with ``mincore(2)`` on a read-only mapping of each file, the check ``fincore(1)``
makes. The kernel may keep pages all the same (another process has the file mapped, or the file
system ignores the advice); what stays resident is counted in :class:`Residency` and goes into
the epoch's record, never ignored. A warm epoch reads every file not wholly resident first
(:func:`load`), so it finds them in the page cache whatever ran before it.

Linux only (``mincore`` through ctypes); elsewhere :func:`evict` raises :class:`CacheControlError`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import functools
import mmap
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

_PAGE = mmap.PAGESIZE
_CHUNK = 1 << 20  # bytes read at a time when loading a file into the cache


class CacheControlError(OSError):
    """The page cache cannot be controlled here (no posix_fadvise or mincore)."""


@dataclasses.dataclass(frozen=True)
class Residency:
    """How much of some files sits in the page cache."""

    files: int
    bytes: int  # noqa: A003 - their total size
    resident_bytes: int  # in the page cache (whole pages, so up to a page per file over ``bytes``)

    @property
    def fraction(self) -> float:
        return min(1.0, self.resident_bytes / self.bytes) if self.bytes else 0.0

    def __add__(self, other: Residency) -> Residency:
        return Residency(self.files + other.files, self.bytes + other.bytes,
                         self.resident_bytes + other.resident_bytes)


def files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Every regular file of ``paths``: a file itself, a folder's files recursively (sorted)."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            yield path


@functools.cache
def _libc() -> ctypes.CDLL:
    """libc with mmap, munmap and mincore typed; found once (``find_library`` runs ``ldconfig``,
    milliseconds a call: once per file it took a second per epoch over a store of 345 frames)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                          ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
    return libc


_MAP_FAILED = ctypes.c_void_p(-1).value


def resident(path: str | os.PathLike[str]) -> int:
    """Bytes of ``path`` in the page cache (whole pages), from ``mincore`` on a mapping of it."""
    if not hasattr(os, "posix_fadvise"):
        raise CacheControlError(f"{path}: the page cache cannot be inspected on this system")
    libc = _libc()
    fd = os.open(path, os.O_RDONLY)
    try:
        length = os.fstat(fd).st_size
        if length == 0:
            return 0
        addr = libc.mmap(None, length, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, _MAP_FAILED):
            raise OSError(ctypes.get_errno(), f"{path}: cannot map it to inspect the page cache")
        try:
            pages = (length + _PAGE - 1) // _PAGE
            vec = (ctypes.c_ubyte * pages)()
            if libc.mincore(addr, length, vec) != 0:
                raise OSError(ctypes.get_errno(), f"{path}: mincore failed")
            # Only the low bit says "resident"; the others are reserved.
            return int(np.count_nonzero(np.frombuffer(memoryview(vec), dtype=np.uint8) & 1)) * _PAGE
        finally:
            libc.munmap(addr, length)
    finally:
        os.close(fd)


def residency(paths: Iterable[str | os.PathLike[str]]) -> Residency:
    """Files, bytes and resident bytes of every file of ``paths``."""
    total = Residency(0, 0, 0)
    for path in files(paths):
        total += Residency(1, path.stat().st_size, resident(path))
    return total


def evict(paths: Iterable[str | os.PathLike[str]]) -> Residency:
    """Drop every file of ``paths`` from the page cache; returns what is still resident after."""
    if not hasattr(os, "posix_fadvise"):
        raise CacheControlError("the page cache cannot be controlled on this system (no posix_fadvise)")
    found = list(files(paths))
    for path in found:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)  # dirty pages are not dropped: write them back first
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return residency(found)


def load(paths: Iterable[str | os.PathLike[str]]) -> Residency:
    """Read every file of ``paths`` that is not wholly in the page cache through once, so it is;
    returns what is resident. A warm epoch after another over the same store finds it resident and
    reads nothing again (a warm 735 MB npy store: 0.17 s to read through, 0.02 s to check)."""
    total = Residency(0, 0, 0)
    buffer = bytearray(_CHUNK)
    for path in files(paths):
        size, held = path.stat().st_size, resident(path)
        if held < size:
            with open(path, "rb", buffering=0) as f:
                while f.readinto(buffer):
                    pass
            held = resident(path)
        total += Residency(1, size, held)
    return total
