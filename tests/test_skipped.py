"""Nothing dropped in silence: every file and folder a run leaves out is named with why, on the
console, in ``dataset.json`` and at the top of the report, with or without ``--sample``; a stores
folder the run cannot write stops it, naming the folder.

The run goes where file permissions apply (:mod:`unprivileged`), so a ``chmod 000`` file or folder
is really unreadable; as root it would be read.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from unprivileged import unprivileged

import reports
from benchmarks import cli, corpus
from loaders import batch
from loaders.vocabulary import BASELINE

# file -> words its reason holds
BAD = {"audio.mp4": "no video stream", "zero.mp4": "empty file", "notes.mp4": "", "locked.mp4": "Permission denied",
       "half.mp4": ""}
LOCKED_FOLDER = "private"  # chmod 000, a video inside


@pytest.fixture
def folder(tiny_videos: dict[str, Path], tmp_path: Path) -> Iterator[Path]:
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("tiny-h264-odd", "tiny-h264-bframes"):
        shutil.copy(tiny_videos[name], videos / f"{name}.mp4")
    subprocess.run([corpus.ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac",
                    str(videos / "audio.mp4")], check=True)
    (videos / "zero.mp4").write_bytes(b"")
    (videos / "notes.mp4").write_text("a text file with a video's name\n" * 20)
    whole = tiny_videos["tiny-h264-bframes"].read_bytes()
    (videos / "half.mp4").write_bytes(whole[: len(whole) // 2])
    shutil.copy(tiny_videos["tiny-h264-odd"], videos / "locked.mp4")
    (videos / "locked.mp4").chmod(0o000)
    (videos / LOCKED_FOLDER).mkdir()
    shutil.copy(tiny_videos["tiny-h264-odd"], videos / LOCKED_FOLDER / "inside.mp4")
    (videos / LOCKED_FOLDER).chmod(0o000)
    yield videos
    (videos / LOCKED_FOLDER).chmod(0o755)  # so pytest can remove it


def _run(args: list[str], cache: str) -> tuple[int | str | None, str]:
    """``python -m benchmarks ARGS`` in this process: its exit code (or message) and its console."""
    os.environ["VIDBENCH_CACHE_DIR"] = cache
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
        try:
            code: int | str | None = cli.main(args)
        except SystemExit as exc:
            code = exc.code if exc.code is not None else 0
    return code, err.getvalue()


def _bench(videos: Path, run_id: str, *extra: str) -> list[str]:
    out = videos.parent / "out"
    return ["--quick", "--videos", str(videos), "--out", str(out), "--run-id", run_id, "--loaders", BASELINE,
            "--measures", "per_frame", "--patterns", "sequential", "--min-time", "0", "--min-rounds", "1",
            "--frames", "2", "--stores", str(out / "stores"), "--jobs", "1", *extra]


@pytest.mark.parametrize("sample", [True, False])
def test_every_skipped_file_and_folder_is_named_with_why(sample: bool, folder: Path) -> None:
    run_id = "sampled" if sample else "all"
    code, said = unprivileged(_run, _bench(folder, run_id, *(["--sample", "1"] if sample else [])),
                           str(folder.parent / "out" / "cache"))
    assert code == 0, said
    left = {str(folder / name): words for name, words in BAD.items()}
    if sample:  # only --sample looks into sub-folders
        left[str(folder / LOCKED_FOLDER)] = "folder cannot be read: Permission denied"
    for path, words in left.items():
        line = next((x for x in said.splitlines() if x.startswith(f"skipping {path}: ")), None)
        assert line is not None and words in line, (path, said)
    if sample:
        assert "sample: 1 of 7 videos" in said and f"{len(left)} skipped, named above" in said, said
    run = folder.parent / "out" / run_id
    kept = json.loads((run / "dataset.json").read_text())
    listed = {d["path"]: d["reason"] for d in kept["skipped"]}
    assert set(listed) == set(left) and all(words in listed[p] for p, words in left.items()), listed
    assert [d["path"] for d in kept["skipped"]] == sorted(listed)

    reports.build(run)
    page = (run / "report.html").read_text()
    start = page.index("Your dataset</h2>")
    ours = page[start:page.index("</section>", start)]
    # At the top of "Your dataset": before the dataset's line or the plan (here: no plan, no epochs timed).
    assert ours.index('class="skipped"') < ours.index("No plan:")
    assert f"{len(left)} files or folders left out" in ours
    for path, words in left.items():
        assert path in ours and words in ours


def test_a_stores_folder_the_run_cannot_write_stops_it(folder: Path) -> None:
    stores = folder.parent / "stores"
    stores.mkdir(mode=0o555)
    args = _bench(folder, "ro", "--stores", str(stores), "--loaders", "npy", "--formats", "npy", "--gops", "",
                  "--measures", "extraction,epoch")
    code, said = unprivileged(_run, args, str(folder.parent / "out" / "cache"))
    assert code not in (0, None), said
    assert str(stores) in str(code) and "cannot be written" in str(code) and "Permission denied" in str(code)


def _discover(src: Path) -> tuple[list[str], list[str]]:
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logging.getLogger("loaders.batch").addHandler(Keep())
    return [str(p) for p in batch.discover(src)], messages


def test_the_extraction_command_names_a_folder_it_cannot_read(folder: Path) -> None:
    found, messages = unprivileged(_discover, folder)
    assert str(folder / "tiny-h264-odd.mp4") in found and not any(LOCKED_FOLDER in p for p in found)
    assert messages == [f"skipping {folder / LOCKED_FOLDER}: folder cannot be read: Permission denied"]


def test_a_videos_folder_that_cannot_be_read_stops_the_run(folder: Path) -> None:
    code, said = unprivileged(_run, _bench(folder / LOCKED_FOLDER, "locked"), str(folder.parent / "cache"))
    assert str(folder / LOCKED_FOLDER) in str(code) and "cannot be read: Permission denied" in str(code), (code, said)
