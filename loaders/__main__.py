"""``python -m loaders extract SRC STORES``: extract every video under SRC into its own store.

Progress goes to stderr (a bar on a terminal, log lines otherwise), the summary to stdout. The
exit status is 1 when any video failed (they are listed, and written to STORES/extract-failures.txt),
2 for a usage error (SRC missing, no videos, bad options).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loaders import batch
from loaders.errors import LoaderError
from loaders import options
from loaders.extraction import CRF, EXTRACTORS, GOP
from loaders.resize import check_size
from loaders.store import STORE_FORMATS


def _size(text: str) -> int:
    try:
        size = check_size(int(text))
    except (ValueError, LoaderError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: a positive even number of pixels") from exc
    assert size is not None
    return size


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m loaders", description=__doc__.split("\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    p = commands.add_parser(
        "extract",
        help="extract every video under SRC into stores under STORES",
        description="Extract every video under SRC (recursively) into one frame store per video under STORES, "
        "at the video's relative path. Complete stores are reused; a failed video does not stop the others.",
    )
    p.add_argument("src", type=Path, metavar="SRC", help="a video, or a directory searched recursively")
    p.add_argument("stores", type=Path, metavar="STORES", help="the directory the stores go to")
    p.add_argument("--extractor", choices=EXTRACTORS, default="ffmpeg")
    p.add_argument(
        "--format",
        choices=STORE_FORMATS,
        default="jpeg",
        help="frame store format, or mp4: transcode to H.264 (ffmpeg extractor; see --gop, --crf)",
    )
    p.add_argument(
        "--quality", type=options.integer(*options.QUALITY, "JPEG quality"), default=90, help="JPEG quality 1-100"
    )
    p.add_argument(
        "--gop", type=options.integer(options.GOP_MIN, None, "frames"), default=GOP, help="mp4: a keyframe every GOP frames"
    )
    p.add_argument(
        "--crf",
        type=options.integer(*options.CRF, "H.264 crf"),
        default=CRF,
        help="mp4: H.264 constant rate factor, 0 (lossless)..51",
    )
    p.add_argument("--size", type=_size, default=None, help="short side in pixels, even (default: as decoded)")
    p.add_argument(
        "--jobs", type=options.integer(1, None, "videos"), default=None, help="videos at a time (default: CPU count)"
    )
    p.add_argument(
        "--threads",
        type=options.integer(*options.THREADS, "threads"),
        default=1,
        help=f"decoder threads per video, 0 (the library's choice) to {options.MAX_THREADS}",
    )
    p.add_argument("--engine", choices=batch.ENGINES, default="local", help="local (default) or ray")
    p.add_argument(
        "--address",
        default=None,
        help="Ray cluster: 'auto' or HOST:PORT (default: start a local one); stores must be on storage every node sees",
    )
    return top


def extract_command(args: argparse.Namespace) -> int:
    settings = batch.Settings(args.extractor, args.format, args.quality, args.size, args.threads, args.gop, args.crf)
    try:
        jobs = batch.tree_jobs(args.src, args.stores, settings)
    except LoaderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not jobs:
        print(f"error: {args.src}: no videos ({', '.join(batch.VIDEO_SUFFIXES)}) found", file=sys.stderr)
        return 2
    args.stores.mkdir(parents=True, exist_ok=True)
    progress = batch.Progress(len(jobs), f"extract {settings.label()}")
    try:
        for outcome in batch.run(jobs, settings, args.engine, args.jobs, args.address):
            progress.add(outcome)
    except LoaderError as exc:  # the engine itself cannot run (e.g. Ray missing)
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = progress.close()
    failures = args.stores / batch.FAILURES_FILE
    if summary.failures:
        lines = [f"{video}\t{batch.one_line(why)}\n" for video, why in sorted(summary.failures.items())]
        failures.write_text("".join(lines))
    else:
        failures.unlink(missing_ok=True)  # an earlier run's list would describe stores that now exist
    print(f"extracted {args.src} into {args.stores} ({settings.label()}, engine {args.engine})")
    print("\n".join(summary.lines()))
    if summary.failures:
        print(f"failures listed in {failures}")
    return 1 if summary.failures else 0


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    if args.command == "extract" and args.address is not None and args.engine != "ray":
        top.error("--address names a Ray cluster: it needs --engine ray")
    if args.command == "extract":
        return extract_command(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
