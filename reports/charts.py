"""Charts as inline SVG, drawn with matplotlib: the report works offline and needs no script.

Each data mark (a bar, a line) carries an SVG id ``<chart>-mark-<n>`` so a browser test can
check that every chart really drew its data. Text stays text (``svg.fonttype: none``) and is
never parsed as mathtext, so a ``$`` in a loader or profile name is shown as it is; matplotlib
escapes the text it writes into the SVG.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from loaders.units import HOURS_FROM, MINUTES_FROM
from reports.advice import loader_label
from reports.fmt import bytes_, number
from reports.results import BASELINE, describe_pattern
from reports.results import cumulative as cumulative_seconds

COLORS = {"decode": "#2f6db5", "frames": "#e07b24", "baseline": "#9aa1ab", "wrong": "#c0392b"}
STYLE: Any = {"svg.fonttype": "none", "text.parse_math": False, "font.family": "sans-serif",
         "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
         "axes.titlesize": 10, "axes.titleweight": "bold"}


@dataclasses.dataclass
class Chart:
    id: str
    title: str
    svg: str
    marks: int  # data marks drawn: the browser test expects this many


def _svg(fig: Figure, chart_id: str) -> str:
    buffer = io.StringIO()
    # The salt keeps the clip-path ids of different charts on one page distinct and stable.
    with matplotlib.rc_context({**STYLE, "svg.hashsalt": chart_id}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # Scale with the page instead of a fixed size in points; the viewBox keeps the proportions.
    head, rest = text.split(">", 1)
    width = re.search(r'width="([\d.]+)pt"', head)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    style = f"width:100%;height:auto;max-width:{width.group(1) if width else 900}pt"
    return f'{head} class="chart-svg" role="img" style="{style}">{rest}'


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _color(row: dict[str, Any]) -> str:
    if row.get("loader") == BASELINE:
        return COLORS["baseline"]
    return COLORS.get(str(row.get("kind")), "#777777")


def _legend(fig: Figure, rows: pd.DataFrame) -> None:
    handles = [Patch(color=COLORS["decode"], label="decode on the fly"),
               Patch(color=COLORS["frames"], label="read extracted frames")]
    if (rows["loader"] == BASELINE).any():
        handles.append(Patch(color=COLORS["baseline"], label="harness overhead (no decoding)"))
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False)


def throughput(chart_id: str, pattern: str, rows: pd.DataFrame) -> Chart:
    """Frames per second per loader, one panel per profile, p25-p75 as error bars; loaders that
    returned wrong frames are named in red with no bar. The harness's overhead baseline is far
    faster than any real loader, so it is named under the panel instead of squashing the bars."""
    baseline = rows[rows["loader"] == BASELINE]
    rows = rows[rows["loader"] != BASELINE]
    profiles = list(dict.fromkeys(rows["profile"]))
    cols = min(len(profiles), 2)
    lines = math.ceil(len(profiles) / cols)
    per_panel = max(len(rows[rows["profile"] == p]) for p in profiles)
    timed = rows.loc[(rows["status"] == "ok") & (rows["fps_median"] > 0), "fps_median"]
    # Frame readers can be a hundred times faster than decoders: a linear axis would leave the
    # decoders' bars unreadable, so a wide spread gets a log axis.
    log = len(timed) > 1 and timed.max() / timed.min() > 30
    with matplotlib.rc_context(STYLE):
        fig = _figure(5.2 * cols, lines * (0.9 + 0.3 * per_panel) + 0.4)
        axes = fig.subplots(lines, cols, squeeze=False).ravel()
        marks = 0
        for ax, profile in zip(axes, profiles, strict=False):
            group = rows[rows["profile"] == profile].sort_values("fps_median", na_position="first")
            records = group.to_dict("records")
            ok = [i for i, r in enumerate(records) if r["status"] == "ok" and r["fps_median"] > 0]
            fps = [records[i]["fps_median"] for i in ok]
            low = [f - (records[i]["fps_p25"] if not pd.isna(records[i]["fps_p25"]) else f)
                   for i, f in zip(ok, fps, strict=True)]
            high = [(records[i]["fps_p75"] if not pd.isna(records[i]["fps_p75"]) else f) - f
                    for i, f in zip(ok, fps, strict=True)]
            bars = ax.barh(ok, fps, color=[_color(records[i]) for i in ok], xerr=[low, high],
                           error_kw={"ecolor": "#333333", "capsize": 3, "elinewidth": 1})
            for bar in bars:
                bar.set_gid(f"{chart_id}-mark-{marks}")
                marks += 1
            ax.bar_label(bars, labels=[number(f) for f in fps], padding=4, fontsize=8)
            ax.set_yticks(range(len(records)), [loader_label(r) for r in records])
            ax.set_ylim(-0.6, len(records) - 0.4)
            for i, (tick, row) in enumerate(zip(ax.get_yticklabels(), records, strict=True)):
                if i not in ok:  # wrong frames, or no rounds: named, never drawn as a speed
                    tick.set_color(COLORS["wrong"])
                    ax.text(0.01, i, f"{row['status']}: not timed", transform=ax.get_yaxis_transform(),
                            va="center", fontsize=8, color=COLORS["wrong"])
            ax.set_title(str(profile), loc="left")
            alone = baseline.loc[baseline["profile"] == profile, "fps_median"].dropna()
            note = f"\nharness overhead alone: {number(alone.iloc[0])} frames/s" if len(alone) else ""
            scale = ", log scale" if log else ""
            ax.set_xlabel(f"frames per second (median, bars: p25-p75{scale})" + note)
            if log:
                ax.set_xscale("log")
                ax.set_xlim(timed.min() / 2, timed.max() * 4)
                # Plain numbers: the default log labels are mathtext, which is switched off here.
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v)))
                ax.xaxis.set_minor_formatter(NullFormatter())
            else:
                ax.margins(x=0.18)
        for ax in axes[len(profiles):]:
            ax.set_visible(False)
        _legend(fig, rows)
        what = describe_pattern(pattern)
        return Chart(chart_id, f"Throughput: {pattern}" + (f" ({what})" if what else ""), _svg(fig, chart_id), marks)


def cumulative(chart_id: str, pattern: str, row: dict[str, Any]) -> Chart:
    """Total seconds against epochs for decoding on the fly and for extracting first, with the
    crossover marked."""
    extract, t_decode, t_frames = (row["extraction_seconds"], row["epoch_seconds_decode"],
                                   row["epoch_seconds_frames"])
    k = None if pd.isna(row["crossover_epochs"]) else float(row["crossover_epochs"])
    epochs = max(10, math.ceil(2 * k) if k is not None else 0)
    decode, frames = cumulative_seconds(extract, t_decode, t_frames, epochs)
    unit, div = time_unit(max(decode[-1], frames[-1]))
    decode, frames = [v / div for v in decode], [v / div for v in frames]
    x = list(range(epochs + 1))
    with matplotlib.rc_context(STYLE):
        fig = _figure(6.4, 3.4)
        ax = fig.subplots()
        (a,) = ax.plot(x, [0.0, *decode], color=COLORS["decode"], lw=2,
                       label=f"decode with {row['decode_loader']}")
        (b,) = ax.plot(x, [extract / div, *frames], color=COLORS["frames"], lw=2, ls="--",
                       label=f"extract ({row['format']}), read with {row['frame_loader']}")
        a.set_gid(f"{chart_id}-mark-0")
        b.set_gid(f"{chart_id}-mark-1")
        if k is not None:
            ax.axvline(k, color="#555555", ls="--", lw=1)
            ax.plot([k], [k * t_decode / div], "o", color="#222222")
        # In a corner, where no line runs: beside the crossover it can fall onto an axis.
        ax.text(0.02, 0.97, "extraction never pays" if k is None else
                f"extraction pays after {k:.1f} epochs (dashed line)", transform=ax.transAxes, va="top",
                fontsize=9, fontweight="bold")
        workers = row.get("workers")
        ax.set_title(f"{pattern}" + ("" if pd.isna(workers) else f", {workers} workers"), loc="left")
        ax.set_xlabel("epochs")
        ax.set_ylabel(f"total {unit}")
        ax.set_xlim(0, epochs)
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="lower right")
        return Chart(chart_id, f"Cumulative time: {pattern}", _svg(fig, chart_id), 2)


def memory(chart_id: str, rows: pd.DataFrame) -> Chart:
    """Peak resident memory (main process plus workers) per loader and workers, the largest
    over patterns and profiles."""
    rows = rows.assign(label=[loader_label(r) + ("" if pd.isna(r["workers"]) else f", {r['workers']} workers")
                              for r in rows.to_dict("records")])
    peak = rows.groupby(["label", "loader", "kind"], as_index=False)["peak_rss_bytes"].max()
    peak = peak.sort_values("peak_rss_bytes")
    with matplotlib.rc_context(STYLE):
        fig = _figure(6.4, 0.9 + 0.28 * len(peak))
        ax = fig.subplots()
        bars = ax.barh(peak["label"], peak["peak_rss_bytes"] / 2**20,
                       color=[_color(r) for r in peak.to_dict("records")])
        for i, bar in enumerate(bars):
            bar.set_gid(f"{chart_id}-mark-{i}")
        ax.bar_label(bars, labels=[bytes_(v) for v in peak["peak_rss_bytes"]], padding=4, fontsize=8)
        ax.set_xlabel("peak RSS, MiB (main process plus workers)")
        ax.margins(x=0.18)
        _legend(fig, rows)
        return Chart(chart_id, "Peak memory", _svg(fig, chart_id), len(bars))


# Distinct colours for the plan's lines (colour-blind safe, Okabe-Ito): told apart without the legend's dashes.
LINE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")


def time_unit(seconds: float) -> tuple[str, float]:
    """The unit a time axis reads best in, as :func:`loaders.units.duration` would say its top value."""
    if seconds >= HOURS_FROM:
        return "hours", 3600.0
    if seconds >= MINUTES_FROM:
        return "minutes", 60.0
    return "seconds", 1.0


def plan_hours(chart_id: str, pattern: str, rows: list[dict[str, Any]], epochs: int,
               crossover: tuple[float, str] | None = None, title: str | None = None) -> Chart:
    """Cumulative time after 0..E epochs for the strategies in ``rows`` (the best few of the plan and
    the best decoder): each starts at its extraction (0 for decoding the videos) and climbs by its
    projected epoch. ``crossover``: (k*, words) of the verdict, marked where its lines meet; the
    chart runs on past E epochs to show it, up to 10 E."""
    last = epochs if crossover is None or crossover[0] <= epochs else min(10 * epochs, math.ceil(crossover[0] * 1.2))
    x = list(range(last + 1))
    top = max(r["extraction_seconds"] + last * r["epoch_seconds"] for r in rows)
    unit, div = time_unit(top)
    with matplotlib.rc_context(STYLE):
        fig = _figure(6.4, 3.6)
        ax = fig.subplots()
        for i, r in enumerate(rows):
            y = [(r["extraction_seconds"] + k * r["epoch_seconds"]) / div for k in x]
            (line,) = ax.plot(x, y, lw=2, color=LINE_COLORS[i % len(LINE_COLORS)],
                              ls="-" if r["kind"] == "decode" else "--", label=r["name"])
            line.set_gid(f"{chart_id}-mark-{i}")
        if last > epochs:  # the user's epochs, where the chart goes on to show the crossover
            ax.axvline(epochs, color="#999999", lw=1, ls=":")
            ax.text(epochs, 0.02, f" {epochs} epochs", transform=ax.get_xaxis_transform(), fontsize=8,
                    color="#555555")
        if crossover is not None and crossover[0] <= last:
            k, words = crossover
            meets = next((r for r in rows if r["kind"] == "decode"), rows[0])
            ax.plot([k], [k * meets["epoch_seconds"] / div], "o", ms=7, mfc="white", mec="#222222", mew=2)
            right = k > last / 2  # the words on the side with room, inside the axes
            ax.annotate(words, (k, k * meets["epoch_seconds"] / div), xytext=(-10 if right else 10, -4),
                        textcoords="offset points", ha="right" if right else "left", va="top", fontsize=8,
                        fontweight="bold")
        elif crossover is not None:
            ax.text(0.98, 0.03, crossover[1], transform=ax.transAxes, ha="right", fontsize=8, fontweight="bold")
        ax.set_title(pattern, loc="left")
        ax.set_xlabel("epochs")
        ax.set_ylabel(f"total {unit}, whole dataset")
        ax.set_xlim(0, last)
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="upper left", fontsize=8)
        return Chart(chart_id, title or f"Your dataset, cumulative time: {pattern}", _svg(fig, chart_id), len(rows))


def training(chart_id: str, panels: dict[str, tuple[float, list[dict[str, Any]]]], gpus: int) -> Chart:
    """Per pattern (a panel): the most frames per second each strategy delivers over the workers
    measured, against a line at the rate the GPUs consume; each bar names the read bandwidth it
    needs at that rate. A bar short of the line is a strategy the GPUs wait for."""
    lines = sum(len(rows) for _, rows in panels.values())
    with matplotlib.rc_context(STYLE):
        fig = _figure(6.8, 0.8 * len(panels) + 0.3 * lines + 0.4)
        axes = fig.subplots(len(panels), 1, squeeze=False).ravel()
        marks = 0
        for ax, (pattern, (target, rows)) in zip(axes, panels.items(), strict=True):
            rows = sorted(rows, key=lambda r: r["most_fps"])
            fps = [r["most_fps"] for r in rows]
            colors = [COLORS["decode"] if r["kind"] == "decode" else COLORS["frames"] if r["kind"] == "extract"
                      else "#6c3483" for r in rows]
            bars = ax.barh(range(len(rows)), fps, color=colors)
            for bar in bars:
                bar.set_gid(f"{chart_id}-mark-{marks}")
                marks += 1
            labels = [number(f) + (f", reads {bytes_(r['read_bytes_per_second'])}/s"
                                   if not pd.isna(r.get("read_bytes_per_second")) else "")
                      + ("" if f >= target * (1 - 1e-9) else " (GPU waits)")
                      + (" (over the disk budget)" if not pd.isna(r.get("fits_disk")) and not r["fits_disk"] else "")
                      for f, r in zip(fps, rows, strict=True)]
            ax.bar_label(bars, labels=labels, padding=4, fontsize=8)
            ax.set_yticks(range(len(rows)), [str(r["name"]) for r in rows], fontsize=8)
            line = ax.axvline(target, color="#222222", ls="--", lw=1.2)
            line.set_gid(f"{chart_id}-target-{pattern}")
            ax.text(target, len(rows) - 0.4, f" {gpus} GPU{'s' if gpus != 1 else ''} consume {number(target)}",
                    fontsize=8, va="bottom")
            ax.set_title(pattern, loc="left")
            ax.set_xlabel("frames per second delivered (the most over the workers measured; dashed: the target)")
            ax.set_xlim(0, max([target, *fps]) * 1.6)
        return Chart(chart_id, "Will the GPUs wait? Delivered frames/s against the step", _svg(fig, chart_id), marks)
