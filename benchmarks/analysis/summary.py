"""What a run's records sum up to, per measurement: pure functions the reports' tables and the
harness's trust figures both read (:mod:`reports.tables`, :mod:`benchmarks.trust`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from benchmarks.records import Record, fps_stats, valid_seconds
from loaders.vocabulary import BASELINE, DECODE


def _key(record: Record) -> tuple[Any, ...]:
    # The whole store (its size and keyframe interval too): two stores of one format are two measurements.
    return (record.measure, record.stack, record.loader, record.store, record.profile, record.pattern,
            record.workers, record.batch_size, record.cache, record.cell or "")


def latest(records: Iterable[Record]) -> list[Record]:
    """One record per measurement: a cell measured twice (a re-run) keeps its last record."""
    by_key: dict[tuple[Any, ...], Record] = {}
    for record in records:
        by_key.pop(_key(record), None)  # re-insert, so the order is that of the last write
        by_key[_key(record)] = record
    return list(by_key.values())


def fps(record: Record) -> tuple[float | None, float | None, float | None]:
    """The record's own fps (median, p25, p75) when it has them, else computed from frames and rounds."""
    if record.fps_median is not None:
        return record.fps_median, record.fps_p25, record.fps_p75
    if record.status != "ok" or not record.frames:
        return None, None, None
    return fps_stats(record.frames, valid_seconds(record))


def target_label(record: Record) -> str:
    """``main | pil | jpeg | quality 90 | 256``: every field that tells two targets of a run apart
    (a store at full size and at 256 are two), the empty ones left out."""
    store = record.store
    parts: list[object] = [record.stack, record.loader]
    if store is not None:
        parts += [store.format, None if store.quality is None else f"quality {store.quality}", store.store_size,
                  store.gop]
    return " | ".join(str(p) for p in parts if p is not None)


def per_frame_fps(records: Iterable[Record]) -> dict[tuple[str, str, str], float]:
    """(target label, pattern, profile) -> median fps of every timed per-frame case; ValueError
    if two records share a key (the label would miss a field that tells them apart)."""
    out: dict[tuple[str, str, str], float] = {}
    for r in latest(records):
        median = fps(r)[0]
        if r.measure != "per_frame" or r.status != "ok" or not median:
            continue
        key = (target_label(r), r.pattern or "", r.profile)
        if key in out:
            raise ValueError(f"two per-frame rows for {key}: the key misses a field that tells them apart")
        out[key] = float(median)
    return out


def overhead(records: Iterable[Record]) -> list[dict[str, Any]]:
    """Per pattern and profile of the per-frame measurements, in that order: the baseline's
    seconds per frame as a share of the fastest loader's and of the fastest decoder's, i.e. how
    much of a measured time is the harness's own."""
    groups: dict[tuple[str, str], list[tuple[float, Record]]] = {}
    for r in latest(records):
        median = fps(r)[0]
        if r.measure == "per_frame" and r.status == "ok" and median:
            groups.setdefault((r.pattern or "", r.profile), []).append((1 / median, r))
    rows = []
    for (pattern, profile), group in sorted(groups.items()):
        baseline = [spf for spf, r in group if r.loader == BASELINE]
        others = [(spf, r) for spf, r in group if r.loader != BASELINE]
        if not baseline or not others:
            continue
        base = min(baseline)
        # Ties go as the summary table orders its rows: decoders first, then as recorded.
        others.sort(key=lambda x: (x[0], x[1].kind or ""))
        fastest = others[0]
        decoders = [(spf, r) for spf, r in others if r.kind == DECODE]
        decode = decoders[0] if decoders else None
        rows.append({
            "pattern": pattern, "profile": profile, "baseline_seconds_per_frame": base,
            "fastest_loader": fastest[1].loader, "fastest_seconds_per_frame": fastest[0],
            "share_of_fastest": base / fastest[0],
            "fastest_decode_loader": None if decode is None else decode[1].loader,
            "fastest_decode_seconds_per_frame": None if decode is None else decode[0],
            "share_of_fastest_decode": None if decode is None else base / decode[0],
        })
    return rows
