"""A plain-language recommendation per access pattern: the strategy with the least total time for
the dataset and its epochs among those whose store fits the disk budget (from the plan), then
which loader is fastest, after how many epochs extraction pays, and what it costs on disk.

Every sentence says where its number comes from: the per-frame benchmark, the run's epoch
timings (warm, cold, or with the page cache not controlled), or the plan's projection of them
to the whole dataset."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pandas as pd

from benchmarks.analysis import drift as drift_
from benchmarks.analysis import verdict
from benchmarks.analysis.refusals import Refusal
from loaders.units import missing
from reports.fmt import bytes_, number, seconds
from reports.results import BASELINE, DECODE, FRAMES, TRANSCODED


@dataclasses.dataclass
class Advice:
    pattern: str
    decode: str | None  # the loader to decode with, when decoding
    frames: str | None  # the loader (and store) to read extracted frames with
    extract: str  # "yes", "no" or "unknown"
    crossover_epochs: float | None
    sentences: list[str]
    chart_row: dict[str, Any] | None  # the crossover row the cumulative chart of this pattern draws
    winner: dict[str, Any] | None = None  # the plan's row of the strategy to use, within the disk budget


def loader_label(row: dict[str, Any] | pd.Series) -> str:
    """``simplejpeg (jpeg q90)`` for a frame loader, ``pil [pillow-simd]`` off the main stack."""
    name = str(row.get("loader") or row.get("frame_loader") or row.get("decode_loader") or "?")
    if name == BASELINE:
        return f"{name} (harness overhead)"
    fmt = row.get("format")
    if row.get("kind", FRAMES) == FRAMES and isinstance(fmt, str) and fmt != name or fmt == TRANSCODED:
        # The store read (a transcoded one for a decode loader): format, quality, size, keyframe interval.
        extras = [f"{prefix}{row.get(field)}" for field, prefix in (("quality", "q"), ("store_size", "s"), ("gop", "g"))
                  if row.get(field) is not None and not pd.isna(row.get(field))]
        name += f" ({' '.join([fmt, *extras])})"
    if row.get("cache") == "cold":
        name += ", cold"
    stack = row.get("stack")
    if isinstance(stack, str) and stack != "main":
        name += f" [{stack}]"
    return name


def _ranking(rows: pd.DataFrame) -> list[tuple[str, float, list[float]]]:
    """Loaders of one kind, fastest first: mean over profiles of fps relative to that profile's
    fastest (a loader missing from a profile scores 0 there: it is no general answer)."""
    profiles = rows["profile"].unique()
    scores: dict[str, list[float]] = {}
    fps: dict[str, list[float]] = {}
    for profile in profiles:
        group = rows[rows["profile"] == profile]
        best = group["fps_median"].max()
        for row in group.to_dict("records"):
            scores.setdefault(loader_label(row), []).append(row["fps_median"] / best)
            fps.setdefault(loader_label(row), []).append(row["fps_median"])
    ranked = [(name, sum(s) / len(profiles), fps[name]) for name, s in scores.items()]
    return sorted(ranked, key=lambda item: -item[1])


def tied(rows: pd.DataFrame, a: str, b: str) -> bool:
    """Whether loaders ``a`` and ``b`` (labels) cannot be told apart: on every profile both were
    measured on, the quartile ranges of their rounds overlap. Rounds taken in turns share the
    machine's drift, so only ranges that do not overlap rank one above the other."""
    rows = rows.assign(label=[loader_label(r) for r in rows.to_dict("records")])
    mine, theirs = rows[rows["label"] == a].set_index("profile"), rows[rows["label"] == b].set_index("profile")
    shared = mine.index.intersection(theirs.index)
    if shared.empty:
        return False
    for profile in shared:
        lo_a, hi_a = mine.loc[profile, "fps_p25"], mine.loc[profile, "fps_p75"]
        lo_b, hi_b = theirs.loc[profile, "fps_p25"], theirs.loc[profile, "fps_p75"]
        if any(missing(v) for v in (lo_a, hi_a, lo_b, hi_b)) or not (lo_a < hi_b and lo_b < hi_a):
            return False
    return True


def _speed_sentence(kind: str, ranked: list[tuple[str, float, list[float]]], measure: str,
                    rows: pd.DataFrame, drifts: list[drift_.StackDrift] | None = None) -> str:
    """The fastest loader of ``kind`` and the next; two from different dependency stacks (measured one
    after the other) are ranked only when they differ by more than the machine's drift between those
    stacks (``drifts``: :func:`benchmarks.analysis.drift.drift`), and said to be within it otherwise."""
    name, score, fps = ranked[0]
    what = "decoder" if kind == DECODE else "frame reader"
    span = number(min(fps)) if min(fps) == max(fps) else f"{number(min(fps))}-{number(max(fps))}"
    where = f"{len(fps)} profile" + ("s" if len(fps) != 1 else "")
    stacks: list[str] = []
    drift = None
    if len(ranked) > 1:
        stacks = sorted({str(r["stack"]) for r in rows.to_dict("records") if loader_label(r) in (name, ranked[1][0])})
        if len(stacks) > 1:
            found = [drift_.between(drifts or [], a, b) for i, a in enumerate(stacks) for b in stacks[i + 1:]]
            drift = None if None in found else max(f for f in found if f is not None)
    if len(ranked) > 1 and drift is not None and drift_.within_drift(score, ranked[1][1], drift):
        runner, runner_score, _ = ranked[1]
        return (f"{name} and {runner} are within the machine's drift as the fastest {what} in the {measure} "
                f"benchmark ({name} {span} frames/s, {where}; {runner} at {runner_score / score:.2f}x): they were "
                f"measured by different dependency stacks ({', '.join(stacks)}), one after the other, and the "
                f"same anchor case moved by up to {100 * (drift - 1):.0f}% between and within them, more than "
                "they differ, so neither is ranked above the other.")
    if len(ranked) > 1 and tied(rows, name, ranked[1][0]):
        runner, runner_score, _ = ranked[1]
        text = (f"{name} and {runner} are tied as the fastest {what} in the {measure} benchmark ({name} "
                f"{span} frames/s, {where}; {runner} at {runner_score / score:.2f}x): the quartile ranges of "
                "their rounds overlap on every profile, so neither is ranked above the other")
    else:
        text = f"{name} is the fastest {what} in the {measure} benchmark ({span} frames/s, {where})"
        if len(ranked) > 1:
            runner, runner_score, _ = ranked[1]
            text += f"; next is {runner} at {runner_score / score:.2f}x its speed"
    if len(stacks) > 1 and drift is not None:
        text += (f"; the two were measured by different dependency stacks ({', '.join(stacks)}), one after the "
                 f"other, and differ by more than the machine's drift between them ({100 * (drift - 1):.0f}%, "
                 "from the anchor case each stack timed from its start to its end)")
    elif len(stacks) > 1:  # one stack ran after the other: the machine's load may have changed between them
        text += (f"; the two were measured by different dependency stacks ({', '.join(stacks)}), one "
                 "after the other, and this run measured no drift between stacks: part of the difference "
                 "may be the machine's, not the loaders'")
    return text + "."


RANK_GAP = 2  # places between a loader's per-frame and epoch ranks beyond which the report says why


def _ordinal(n: int) -> str:
    return f"{n}{'tsnrhtdd'[(n // 10 % 10 != 1) * (n % 10 < 4) * n % 10::4]}"


def _threads(value: Any) -> str:
    """``ffmpeg 8, torch 1`` from the summary's JSON column."""
    if not isinstance(value, str) or not value:
        return ""
    return ", ".join(f"{k} {v}" for k, v in sorted(json.loads(value).items()))


def rank_gaps(ranked: list[tuple[str, float, list[float]]], per_frame: pd.DataFrame,
              epochs: pd.DataFrame) -> list[str]:
    """Where a loader's per-frame rank (``ranked``) and its epoch rank (its best workers setting,
    warm or not controlled) differ by more than RANK_GAP places, why, from the records: the cost
    of opening a video (every DataLoader worker opens the videos it reads again), the first
    epoch's start-up, and the threads it decoded with per frame against those of each worker."""
    warm = epochs[epochs["cache"].isna() | (epochs["cache"] == "warm")]
    if warm.empty:
        return []
    warm = warm.assign(label=[loader_label(r) for r in warm.to_dict("records")])
    best = {r["label"]: r for r in warm.sort_values("fps_median", ascending=False).drop_duplicates("label")
            .to_dict("records")}
    frames = per_frame.assign(label=[loader_label(r) for r in per_frame.to_dict("records")])
    in_frames = [name for name, _, _ in ranked if name in best]
    in_epochs = [name for name in best if name in in_frames]
    out = []
    for name in in_frames:
        a, b = in_frames.index(name) + 1, in_epochs.index(name) + 1
        if abs(a - b) <= RANK_GAP:
            continue
        other = in_epochs[0] if b > a else in_frames[0]  # what it fell behind, or what it overtook
        mine, theirs = best[name], best[other]
        opens = {n: frames.loc[frames["label"] == n, "open_seconds"].dropna() for n in (name, other)}
        why = []
        if all(len(v) for v in opens.values()):
            mine_open, their_open = float(opens[name].median()), float(opens[other].median())
            if max(mine_open, their_open) >= 2 * min(mine_open, their_open):
                workers = 0 if missing(mine["workers"]) else int(mine["workers"])
                why.append(f"opening a video costs {name} {seconds(mine_open)} against {seconds(their_open)} for "
                           f"{other}, and each of the {max(1, workers)} DataLoader worker{'s' if workers != 1 else ''} "
                           "opens every video it reads again")
        for r, label in ((mine, name), (theirs, other)):
            first = r.get("first_epoch_seconds")
            median = r["frames"] / r["fps_median"] if r["fps_median"] else float("nan")
            if not missing(first) and not missing(median) and first >= 1.5 * median:
                why.append(f"{label}'s first epoch took {seconds(first)} against {seconds(median)} for a median one "
                           "(start-up: workers starting, libraries loading)")
        threads = frames.loc[frames["label"] == name, "threads"].dropna()
        alone, in_workers = (_threads(threads.iloc[0]) if len(threads) else ""), _threads(mine.get("threads"))
        if alone and in_workers and alone != in_workers:
            why.append(f"per frame {name} ran with threads {alone}, in epochs with {in_workers} in each worker")
        batch = mine.get("batch_size")
        said = "; ".join(why) if why else (
            "the records show no open cost, start-up or thread count that explains it: an epoch reads in batches"
            + ("" if missing(batch) else f" of {batch}") + " across workers, which a per-frame round does not")
        out.append(f"{name} ranks {_ordinal(a)} of {len(in_frames)} per frame but {_ordinal(b)} in epochs "
                   f"({mine['workers']} workers): {said}.")
    return out


def _classic(cross: pd.DataFrame) -> pd.Series:
    """Pairs of decoding the originals against reading a frame store, with warm (or uncontrolled)
    page caches: what this advice weighs; transcoded stores and cold reads are in the tables."""
    warm = cross["cache"].isna() | (cross["cache"] == "warm")
    return cross["decode_format"].isna() & (cross["format"] != TRANSCODED) & warm


def _pick_crossover(rows: pd.DataFrame) -> dict[str, Any] | None:
    """At the workers setting with the fastest epoch, the fastest decoder against the fastest
    frame reader: the choice a user who tunes their DataLoader faces."""
    if rows.empty:
        return None
    fastest = rows[["epoch_seconds_decode", "epoch_seconds_frames"]].min(axis=1)
    at = rows[rows["workers"].astype("object") == rows.loc[fastest.idxmin(), "workers"]]
    decode = at["epoch_seconds_decode"].min()
    frames = at["epoch_seconds_frames"].min()
    pick = at[(at["epoch_seconds_decode"] == decode) & (at["epoch_seconds_frames"] == frames)]
    return pick.iloc[0].to_dict()


def _extraction_cost(row: dict[str, Any], extraction: pd.DataFrame) -> str:
    same = extraction[(extraction["extractor"] == row["extractor"])
                      & (extraction["format"] == row["format"])
                      & (extraction["store_size"].astype("object").fillna(-1)
                         == (-1 if pd.isna(row.get("store_size")) else row["store_size"]))
                      & (extraction["quality"].astype("object").fillna(-1)
                         == (-1 if pd.isna(row["quality"]) else row["quality"]))]
    if same.empty or pd.isna(same.iloc[0]["bytes"]):
        return ""
    first = same.iloc[0]
    ratio = first["size_vs_source"]
    return f", {bytes_(first['bytes'])} on disk" + (
        "" if pd.isna(ratio) else f", {ratio:.1f}x the source videos")


def _store(row: dict[str, Any]) -> str:
    quality = row.get("quality")
    q = "" if quality is None or pd.isna(quality) else f" q{quality}"
    return f"{row.get('format')}{q} by {row.get('extractor')}"


def _crossover_sentences(row: dict[str, Any], extraction: pd.DataFrame) -> tuple[str, list[str]]:
    decode, frames = row["decode_loader"], row["frame_loader"]
    workers = row["workers"]
    setup = f"with {workers} DataLoader worker{'s' if workers != 1 else ''}" if not pd.isna(workers) else ""
    t_d, t_f, k = row["epoch_seconds_decode"], row["epoch_seconds_frames"], row["crossover_epochs"]
    epoch = (f"In the run's epoch timings, an epoch {setup} over the measured videos takes {seconds(t_d)} decoding "
             f"with {decode}, and {seconds(t_f)} reading frames extracted to {_store(row)} with {frames}.")
    if pd.isna(row["extraction_seconds"]):
        return "unknown", [epoch, "The run has no extraction measurement for that store, so when "
                                  "extraction pays is unknown."]
    cost = (f"Extracting the measured videos once took {seconds(row['extraction_seconds'])}"
            f"{_extraction_cost(row, extraction)}.")
    if k is None or pd.isna(k):
        return "no", [epoch, cost, f"From those timings, {verdict.phrase(None, None, None, None, decode)}."]
    n = verdict.pays_from(row["extraction_seconds"], t_d, t_f)
    low, high = row.get("crossover_epochs_low"), row.get("crossover_epochs_high")
    return "yes", [epoch, cost, f"From those timings, {verdict.phrase(k, _value(low), _value(high), n, decode)}, "
                                f"otherwise decode with {decode}."]


def _value(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def epoch_range(row: dict[str, Any]) -> str:
    """`` (1.5-2.3)``: the crossover's range from the spread of the epoch times, `` (one epoch
    timed)`` where it is one figure; empty without one."""
    return verdict.epoch_range(_value(row.get("crossover_epochs_low")), _value(row.get("crossover_epochs_high")))


def spread(low: float, high: float, fmt: Any = seconds) -> str:
    """``low-high`` in ``fmt``, or one figure where both read the same (one epoch timed, one video
    per class)."""
    a, b = fmt(low), fmt(high)
    return a if a == b else f"{a}-{b}"


def refused(plan: pd.DataFrame, row: dict[str, Any]) -> Refusal | None:
    """What the loader of a plan row refused of the sampled videos, if anything."""
    found: dict[str, Refusal] = plan.attrs.get("refused") or {}
    return next((found[n] for n in (row.get("decode_loader"), row.get("frame_loader"))
                 if isinstance(n, str) and n in found), None)


def plan_sentences(plan: pd.DataFrame, pattern: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The plan's winner for ``pattern`` (least total time within the disk budget) and what to say
    of it: its total and disk, where the figures come from, and what it beat or left out."""
    rows = plan[plan["pattern"] == pattern].to_dict("records")
    if not rows:
        return None, []
    epochs = plan.attrs.get("epochs")
    budget = plan.attrs.get("disk_budget")
    dataset = plan.attrs.get("dataset")
    fitting = [r for r in rows if r["fits_disk"] and refused(plan, r) is None]  # never a loader that refused videos
    whole = f"{dataset}" if dataset else "the measured videos (this run has no dataset summary)"
    if not fitting:
        return None, [f"No strategy measured for {pattern} fits the disk budget of {bytes_(budget)}: "
                      "decode the videos on the fly, or allow more disk."]
    best = fitting[0]  # rows are ranked: within the budget first, then by total time
    disk = f", {bytes_(best['disk_bytes'])} on disk" if best["disk_bytes"] else ", no disk beyond the videos"
    out = [f"For {epochs} epochs over {whole}: {best['name']} takes {seconds(best['total_seconds'])} in all "
           f"(epochs {spread(epochs * best['epoch_seconds_low'], epochs * best['epoch_seconds_high'])} "
           f"of it){disk}; projected from the {best['epoch_from']}"
           + ("" if best["kind"] == "decode" else ", and the sample's extraction scaled by pixels") + "."]
    if len(fitting) > 1:
        second = fitting[1]
        apart = second.get("unranked")  # another stack than the best's: the verdict may not rank the two
        out.append(f"Next in the plan: {second['name']}, {seconds(second['total_seconds'])} in all "
                   f"(projected likewise, from the {second['epoch_from']})"
                   + (f"; {apart}" if isinstance(apart, str) else "") + ".")
    faster = [r for r in rows if not r["fits_disk"] and r["total_seconds"] < best["total_seconds"]]
    if faster:
        given = "the disk budget" if plan.attrs.get("budget_given") else "the free disk"
        out.append(f"{faster[0]['name']} would take {seconds(faster[0]['total_seconds'])}, but its store "
                   f"({bytes_(faster[0]['disk_bytes'])}, projected from the sample's store) does not fit {given} "
                   f"({bytes_(budget)}).")
    if "no cold timing" in str(best["cache"]):
        out.append(f"What an epoch of it reads ({bytes_(best['read_bytes'])}) exceeds the memory available for "
                   f"the page cache ({bytes_(plan.attrs.get('ram'))}), but the run has no cold epoch timing: "
                   "its epoch figure is a warm one, and optimistic.")
    return best, out


def recommend(tables: dict[str, pd.DataFrame]) -> list[Advice]:
    """One piece of advice per access pattern found in the run."""
    summary, cross, extraction = tables["summary"], tables["crossover"], tables["extraction"]
    plan = tables.get("plan")
    drift = tables.get("drift")
    drifts = drift.attrs.get("drifts") if drift is not None else None
    # "ok" means right frames (pixel-identical or within tolerance); "wrong" ones were never timed.
    good = summary[(summary["status"] == "ok") & summary["fps_median"].notna()
                   & (summary["loader"] != BASELINE)]
    advice = []
    patterns = sorted(p for p in summary["pattern"].dropna().unique())
    for pattern in patterns:
        rows = good[good["pattern"] == pattern]
        per_frame = rows[rows["measure"] == "per_frame"]
        measure = "per-frame"
        if per_frame.empty:  # only per-epoch runs: rank by epoch throughput, best workers
            per_frame = rows.sort_values("fps_median", ascending=False).drop_duplicates(
                ["stack", "loader", "extractor", "format", "quality", "profile"])
            measure = "per-epoch"
        sentences, best = [], {}
        for kind in (DECODE, FRAMES):
            ranked = _ranking(per_frame[per_frame["kind"] == kind])
            if ranked:
                best[kind] = ranked[0][0]
                sentences.append(_speed_sentence(kind, ranked, measure, per_frame[per_frame["kind"] == kind],
                                                 drifts))
                if measure == "per-frame":
                    sentences += rank_gaps(ranked, per_frame[per_frame["kind"] == kind],
                                           rows[(rows["measure"] == "epoch") & (rows["kind"] == kind)])
        winner, planned = (None, []) if plan is None else plan_sentences(plan, pattern)
        pick = _pick_crossover(cross[(cross["pattern"] == pattern) & _classic(cross)])
        if pick is not None:
            extract, more = _crossover_sentences(pick, extraction)
            sentences += more
            decode, frames = pick["decode_loader"], pick["frame_loader"]
            k = None if pd.isna(pick["crossover_epochs"]) else float(pick["crossover_epochs"])
        else:
            extract, k = "unknown", None
            decode, frames = best.get("decode"), best.get("frames")
            sentences.append("The run has no per-epoch measurement of both a decoder and a frame "
                             "reader for this pattern, so when extraction pays is unknown.")
        a = Advice(pattern, decode, frames, extract, k, planned + sentences, pick, winner)
        if winner is not None and pick is not None:
            a.sentences.append(f"The fastest decoder against the fastest frame reader, in the run's epoch "
                               f"timings: {crossover_headline(a)}")
        advice.append(a)
    return advice


def headline(a: Advice) -> str:
    """The one-line answer for a pattern: the plan's winner when there is a plan, else the fastest
    decoder against the fastest reader."""
    if a.winner is not None:
        w = a.winner
        disk = f", {bytes_(w['disk_bytes'])} on disk" if w["disk_bytes"] else ""
        return f"{w['name'][0].upper()}{w['name'][1:]}: {seconds(w['total_seconds'])} in all{disk}."
    return crossover_headline(a)


def crossover_headline(a: Advice) -> str:
    """The fastest decoder against the fastest frame reader, in one line."""
    if a.extract == "yes" and a.crossover_epochs is not None and a.chart_row is not None:
        r = a.chart_row
        n = verdict.pays_from(r["extraction_seconds"], r["epoch_seconds_decode"], r["epoch_seconds_frames"])
        return (f"Decode with {a.decode} for short training; extract and read with {a.frames} "
                f"if you train for {n} epoch{'s' if n != 1 else ''} or more.")
    if a.extract == "no":
        return f"Decode with {a.decode}; extraction does not pay."
    parts = [f"decode with {a.decode}" if a.decode else "", f"frames: {a.frames}" if a.frames else ""]
    return ("Fastest: " + "; ".join(p for p in parts if p) + ".") if any(parts) else "No usable loader."
