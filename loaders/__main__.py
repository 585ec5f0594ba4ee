"""``python -m loaders extract SRC STORES``: extract every video under SRC into its own store.

Progress goes to stderr (a bar on a terminal, log lines otherwise), the summary to stdout. The
exit status is 1 when any video failed (they are listed, and written to STORES/extract-failures.jsonl,
one JSON object per line, beside the lines of other SRCs), 2 for a usage error (SRC missing, no
videos, bad options, STORES a file, SRC itself or above it, or a folder that cannot be written), 130
when stopped with Ctrl-C: the extractions under way stop and leave no partial store, the finished
ones stay, and running the command again does the rest.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from loaders import batch, options
from loaders.errors import LoaderError
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
        "--gop",
        type=options.integer(options.GOP_MIN, None, "frames"),
        default=GOP,
        help="mp4: a keyframe every GOP frames",
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


def check_stores(src: Path, stores: Path) -> None:
    """Refuse a STORES the stores cannot go to: a file, or SRC itself or a folder above it (the
    stores would mix with the videos). A LoaderError naming it."""
    if stores.exists() and not stores.is_dir():
        raise LoaderError(stores, "STORES is a file, not a folder: name a folder for the stores")
    if src.exists():
        where, videos = stores.resolve(), src.resolve()
        if where == videos:
            raise LoaderError(stores, "STORES is SRC itself: name another folder for the stores")
        if videos.is_relative_to(where):
            raise LoaderError(stores, f"STORES lies above SRC ({src}): name a folder beside or inside SRC")


def check_writable(stores: Path) -> None:
    """Make STORES, and refuse it when a file cannot be written there (read-only, no permission,
    full): a LoaderError naming the folder, before any work."""
    try:
        stores.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=stores):
            pass
    except OSError as exc:
        raise LoaderError(stores, f"cannot write the stores there: {exc.strerror or exc}") from None


def extract_command(args: argparse.Namespace) -> int:
    settings = batch.Settings(args.extractor, args.format, args.quality, args.size, args.threads, args.gop, args.crf)
    try:
        check_stores(args.src, args.stores)
        jobs = batch.tree_jobs(args.src, args.stores, settings)
        if jobs:
            check_writable(args.stores)
    except LoaderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not jobs:
        print(f"error: {args.src}: no videos ({', '.join(batch.VIDEO_SUFFIXES)}) found", file=sys.stderr)
        return 2
    progress = batch.Progress(len(jobs), f"extract {settings.label()}")
    outcomes = batch.run(jobs, settings, args.engine, args.jobs, args.address)
    try:
        for outcome in outcomes:
            progress.add(outcome)
    except LoaderError as exc:  # the engine itself cannot run (e.g. Ray missing or not reachable)
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        outcomes.close()  # stops the extractions under way; their partial stores are removed
        summary = progress.close()
        done = summary.extracted + summary.reused
        print(
            f"interrupted: {done} of {len(jobs)} stores complete in {args.stores}, none partial; "
            "run the same command again to extract the rest",
            file=sys.stderr,
        )
        return 130
    summary = progress.close()
    failures, unwritten = None, None
    try:
        failures = batch.write_failures(args.stores, args.src, summary.failures)
    except OSError as exc:  # a full or read-only disk: the summary is still owed
        unwritten = f"could not write the list of failures into {args.stores}: {exc.strerror or exc}"
    print(f"extracted {args.src} into {args.stores} ({settings.label()}, engine {args.engine})")
    print("\n".join(summary.lines()))
    if failures is not None and summary.failures:
        print(f"failures listed in {failures}")
    if unwritten is not None:
        print(f"warning: {unwritten}", file=sys.stderr)
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
