"""Which videos a run measures, and why the others are left out.

A ``--videos`` folder is looked up by file suffix; each video found is then probed, and one that
cannot be read is skipped with a record saying why (a "probe" record: no loader, no extractor,
status error, ``options["video"]`` its path). A run left with no readable video stops before
measuring anything, naming every file and its fault.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from benchmarks.records import Record
from loaders.batch import VIDEO_SUFFIXES  # what `python -m loaders extract` takes too
from loaders.errors import LoaderError, cause_of


class NothingToMeasure(LoaderError):
    """No video to measure: the folder does not exist, holds no video, or none is readable."""


def find(folder: str | os.PathLike[str]) -> list[Path]:
    """The videos of a ``--videos`` folder, sorted; NothingToMeasure says what the folder lacks."""
    folder = Path(folder)
    if not folder.exists():
        raise NothingToMeasure(folder, "does not exist")
    if not folder.is_dir():
        raise NothingToMeasure(folder, "is not a folder")
    try:
        files = [p for p in folder.iterdir() if p.is_file()]
    except OSError as exc:
        raise NothingToMeasure(folder, f"cannot be read: {cause_of(exc)}") from None
    found = sorted(p for p in files if p.suffix.lower() in VIDEO_SUFFIXES)
    if not found:
        held = f"its {len(files)} files have other suffixes" if files else "the folder is empty"
        raise NothingToMeasure(folder, f"no videos ({', '.join(VIDEO_SUFFIXES)}) found: {held}")
    return found


def cause(exc: BaseException) -> str:
    """Why a video could not be read, without its path (the line that shows it names it)."""
    if isinstance(exc, LoaderError):
        return exc.cause
    return f"{type(exc).__name__}: {exc}"


def none_readable(where: str, unreadable: Mapping[str, str]) -> NothingToMeasure:
    """The error for a run whose every video was skipped: each file and why."""
    lines = "".join(f"\n  {video}: {why}" for video, why in unreadable.items())
    count = len(unreadable)
    return NothingToMeasure(where, f"no readable video, so nothing to measure; "
                                   f"{count} file{'s' if count != 1 else ''} skipped:{lines}")


def unreadable(records: Iterable[Record]) -> dict[str, str]:
    """Video path -> why it was left out of the run, from the run's probe records."""
    return {str(r.options.get("video") or r.profile): r.reason or "no reason given" for r in records
            if r.status == "error" and r.loader is None and r.extractor is None}
