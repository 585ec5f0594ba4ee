"""Loaders that refused some of the sampled videos: a valid video they would misread
(``UnsupportedVideo``: open-GOP HEVC for decord) or a codec their library lacks
(``UnsupportedCodec``).

Such a loader is no answer for the dataset: its strategies stay in the plan, marked with what
it refused, and are never recommended (:func:`benchmarks.analysis.verdict.decide`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from benchmarks.records import Record

REFUSALS = ("UnsupportedVideo", "UnsupportedCodec")  # the error types (records' reasons start with them)


@dataclasses.dataclass(frozen=True)
class Refusal:
    loader: str
    refused: tuple[str, ...]  # the sampled videos (profiles) it refused
    videos: int  # the sampled videos it was given
    causes: tuple[str, ...]  # what it gets wrong, once each

    def words(self) -> str:
        """``refused 1 of 3 videos: open-GOP hevc video: after a seek decord miscounts ...``"""
        return f"refused {len(self.refused)} of {self.videos} video{'s' if self.videos != 1 else ''}: " + \
            "; ".join(self.causes)


def _cause(reason: str, path: object) -> str:
    """The reason without its error type and path: ``UnsupportedVideo: /v/a.mp4: open-GOP ...``."""
    text = reason.split(":", 1)[1].strip() if ":" in reason else reason
    video = str(path) if path else ""
    if video and text.startswith(video + ":"):
        text = text[len(video) + 1:].strip()
    elif text.startswith("/") and ": " in text:
        text = text.split(": ", 1)[1]
    return text


def refusals(records: Iterable[Record]) -> dict[str, Refusal]:
    """Loader -> what it refused, from the per-frame and open records (one per video)."""
    given: dict[str, set[str]] = {}
    refused: dict[str, dict[str, str]] = {}
    for r in records:
        if r.loader is None or r.measure not in ("per_frame", "open"):
            continue
        given.setdefault(r.loader, set()).add(r.profile)
        reason = r.reason or ""
        if r.status == "error" and reason.split(":", 1)[0] in REFUSALS:
            options = r.options if isinstance(r.options, dict) else {}
            refused.setdefault(r.loader, {})[r.profile] = _cause(reason, options.get("video"))
    return {loader: Refusal(loader, tuple(sorted(videos)), len(given[loader]), tuple(dict.fromkeys(videos.values())))
            for loader, videos in refused.items()}
