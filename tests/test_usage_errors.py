"""Bad option values are usage errors (exit 2, argparse's words, before any work); odd sizes of
mp4 stores; file names FFmpeg would read as protocols; a Ray address where nothing, or something
other than Ray, listens."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_extract import ROOT

import loaders
from benchmarks import cli
from loaders import __main__ as extract_cli
from loaders import batch, extraction
from loaders.errors import BackendUnavailable, LoaderError
from loaders.probe import probe
from loaders.store import transcoded_video
from loaders.vocabulary import BASELINE

HUGE = "9" * 400  # a number float() turns into inf

BENCH_BAD = [
    (["--train-epochs", "0"], "--train-epochs"), (["--train-epochs", "-3"], "--train-epochs"),
    (["--train-epochs", "2.5"], "--train-epochs"), (["--sample", "0"], "--sample"), (["--jobs", "0"], "--jobs"),
    (["--disk-budget", "inf"], "--disk-budget"), (["--disk-budget", "1e400"], "--disk-budget"),
    (["--disk-budget", "nan"], "--disk-budget"), (["--disk-budget", "0"], "--disk-budget"),
    (["--disk-budget", "1e30"], "--disk-budget"), (["--budget", "inf"], "--budget"), (["--budget", HUGE], "--budget"),
    (["--budget", "0s"], "--budget"), (["--quality", "0"], "--quality"), (["--quality", "101"], "--quality"),
    (["--crf", "52"], "--crf"), (["--crf", "-1"], "--crf"), (["--gops", "1,0"], "--gops"),
    (["--epochs", "0"], "--epochs"), (["--epochs", "-1"], "--epochs"), (["--batch-size", "0"], "--batch-size"),
    (["--frames", "0"], "--frames"), (["--size", "0"], "--size"), (["--clip-len", "0"], "--clip-len"),
    (["-k", "0"], "-k"), (["--strides", "1,0"], "--strides"), (["--workers", "0,-2"], "--workers"),
    (["--min-rounds", "0"], "--min-rounds"), (["--warmup", "-1"], "--warmup"), (["--min-time", "-1"], "--min-time"),
    (["--min-time", "nan"], "--min-time"), (["--min-time", "x"], "--min-time"),
]
EXTRACT_BAD = [
    (["--quality", "0"], "--quality"), (["--quality", "101"], "--quality"), (["--gop", "0"], "--gop"),
    (["--crf", "52"], "--crf"), (["--threads", "-1"], "--threads"), (["--threads", "100000"], "--threads"),
    (["--jobs", "0"], "--jobs"), (["--jobs", "x"], "--jobs"),
]


@pytest.mark.parametrize(("args", "option"), BENCH_BAD)
def test_bad_values_stop_python_m_benchmarks_as_usage_errors(args: list[str], option: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.parser().parse_args(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {option}: " in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "option"), EXTRACT_BAD)
def test_bad_values_stop_the_extraction_command_as_usage_errors(args: list[str], option: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        extract_cli.main(["extract", str(tmp_path), str(tmp_path / "stores"), *args])
    assert stop.value.code == 2 and f"error: argument {option}: " in capsys.readouterr().err
    assert not (tmp_path / "stores").exists()  # before any work


def test_good_values_pass() -> None:
    args = cli.parser().parse_args(["--train-epochs", "1", "--sample", "1", "--jobs", "1", "--disk-budget", "2T",
                                    "--budget", "90s", "--quality", "100", "--crf", "0", "--gops", "1,8"])
    assert (args.train_epochs, args.sample, args.jobs, args.disk_budget) == (1, 1, 1, 2 * 2**40)
    assert (args.budget, args.quality, args.crf, args.gops) == (90.0, 100, 0, [1, 8])
    given = extract_cli.parser().parse_args(["extract", "a", "b", "--threads", "0", "--gop", "1", "--crf", "51"])
    assert (given.threads, given.gop, given.crf) == (0, 1, 51)


def test_extract_refuses_the_same_values_called_from_python(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    video = tiny_videos["tiny-h264-bframes"]
    for options in ({"threads": -1}, {"threads": 100000}, {"quality": 0}, {"format": "mp4", "crf": 52},
                    {"format": "mp4", "gop": 0}):
        with pytest.raises(LoaderError):
            loaders.extract(video, tmp_path / "s", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "s").exists()


def test_an_mp4_store_of_an_odd_sized_video_is_made_even(tmp_path: Path) -> None:
    video = tmp_path / "odd.mp4"
    subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=321x241:rate=25", "-frames:v", "10", "-c:v", "libx264", "-pix_fmt", "yuv444p",
                    str(video)], check=True)
    assert (probe(video).width, probe(video).height) == (321, 241)
    store = loaders.extract(video, tmp_path / "store", format="mp4").store
    stored = probe(transcoded_video(store))
    assert (stored.width, stored.height, stored.num_frames) == (320, 240, 10)
    # at a size whose long side comes out even anyway, nothing changes
    resized = probe(transcoded_video(loaders.extract(video, tmp_path / "s120", format="mp4", size=120).store))
    assert (resized.width, resized.height) == (160, 120)


PROTOCOL_NAMES = ["pipe:0.mp4", "file:x.mp4", "concat:a.mp4"]


@pytest.mark.parametrize("name", PROTOCOL_NAMES)
def test_names_ffmpeg_would_read_as_protocols_are_plain_files(name: str, tiny_videos: dict[str, Path],
                                                              references: dict[str, object], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    profile = "tiny-h264-bframes"
    shutil.copy(tiny_videos[profile], tmp_path / name)
    if name == "file:x.mp4":  # the file the protocol would open instead: a different video
        shutil.copy(tiny_videos["tiny-h264-odd"], tmp_path / "x.mp4")
    monkeypatch.chdir(tmp_path)
    reference = references[profile]
    assert probe(name).num_frames == reference.num_frames  # type: ignore[attr-defined]
    want = reference.frames[3]  # type: ignore[attr-defined]
    for loader, why in loaders.available().items():
        if why is not None or loaders.REGISTRY[loader].kind != "decode" or loader == BASELINE:
            continue
        with loaders.open(loader, name) as src:
            assert np.array_equal(src.get_frames([3])[0], want), loader
    for extractor in extraction.EXTRACTORS:
        store = loaders.extract(name, f"{name}.{extractor}", extractor=extractor, format="npy").store
        with loaders.open("npy", store) as frames:
            assert frames.num_frames == reference.num_frames and np.array_equal(frames.get_frames([3])[0], want)


def _closed_port() -> int:
    with socket.socket() as s:  # bound, then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_ray_address_where_nothing_listens_is_refused_at_once() -> None:
    for address in (f"127.0.0.1:{_closed_port()}", "127.0.0.1:1", f"ray://127.0.0.1:{_closed_port()}"):
        with pytest.raises(BackendUnavailable, match="nothing answers there"):
            batch.check_reachable(address, timeout=5)
    for address in ("127.0.0.1", "127.0.0.1:port", "127.0.0.1:70000", ":6379"):
        with pytest.raises(BackendUnavailable, match="expected 'auto' or HOST:PORT"):
            batch.check_reachable(address)
    with socket.socket() as listening:  # something listens, but says nothing: not Ray
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        for address in (f"127.0.0.1:{listening.getsockname()[1]}", f"ray://127.0.0.1:{listening.getsockname()[1]}"):
            with pytest.raises(BackendUnavailable, match=r"something listens there but it is not a Ray cluster "
                                                         r"\(it said nothing in 0.5 s\); is the address the head"):
                batch.check_reachable(address, timeout=0.5)


@contextlib.contextmanager
def _peer(*replies: bytes) -> Iterator[str]:
    """HOST:PORT of a server that answers every connection with ``replies`` (one write each), then
    hangs up."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                with conn:
                    conn.recv(1024)
                    for reply in replies:
                        conn.sendall(reply)

    threading.Thread(target=answer, daemon=True).start()
    with server:
        yield f"127.0.0.1:{server.getsockname()[1]}"


NOT_RAY = [
    (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
     "it answered 'HTTP/1.1 400 Bad Request'"),
    (b"-ERR unknown command 'PRI', with args beginning with: '*' 'HTTP/2.0' \r\n",  # Redis, not Ray
     "it answered '-ERR unknown command 'PRI', with args beginning with: '*' 'H...'"),
    (b"\x15\x03\x03\x00\x02\x02\x46", r"it answered '\x15\x03\x03\x00\x02\x02F'"),  # a TLS alert
    (b"", "it closed the connection without a word"),
]


@pytest.mark.parametrize(("reply", "said"), NOT_RAY)
def test_a_ray_address_where_something_else_listens_is_refused_quoting_it(reply: bytes, said: str) -> None:
    with _peer(*[reply] if reply else []) as address, pytest.raises(BackendUnavailable) as refused:
        batch.check_reachable(address, timeout=5)
    assert str(refused.value) == (f"Ray cluster {address}: something listens there but it is not a Ray cluster "
                                  f"({said}); is the address the head node's GCS port (ray start --head prints it)?")


def test_a_peer_that_answers_as_http2_servers_do_passes() -> None:
    settings = b"\x00\x00\x06\x04\x00\x00\x00\x00\x00" + b"\x00\x03\x00\x00\x00\x64"  # max streams 100
    with _peer(settings[:2], settings[2:]) as address:  # the frame header in two pieces
        batch.check_reachable(address, timeout=5)
    window_update = b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x01"  # a frame, but not SETTINGS
    with _peer(window_update) as address, pytest.raises(BackendUnavailable, match="not a Ray cluster"):
        batch.check_reachable(address, timeout=5)


def test_with_tls_the_protocol_check_steps_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_USE_TLS", "1")  # Ray's servers then wait for a TLS handshake, silent
    with socket.create_server(("127.0.0.1", 0)) as listening:
        batch.check_reachable(f"127.0.0.1:{listening.getsockname()[1]}", timeout=0.5)


def test_ray_address_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    closed = f"127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RAY_ADDRESS", closed)  # ray.init would take it for None or "auto"
    for address in (None, "auto"):
        with pytest.raises(BackendUnavailable, match=f"Ray cluster {closed} \\(from RAY_ADDRESS\\): nothing answers"):
            batch.connect_ray(address)
    assert not ray.is_initialized()


def test_a_ray_client_address_without_ray_client_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    monkeypatch.setattr(batch, "check_reachable", lambda *a, **k: None)  # a Ray Client server answers there

    def init(*args: object) -> None:  # as ray.init("ray://...") fails where grpcio is not installed
        raise ModuleNotFoundError("No module named 'grpc'")

    monkeypatch.setattr(batch, "_init_ray", init)
    with pytest.raises(BackendUnavailable) as missing:
        batch.connect_ray("ray://10.0.0.9:10001")
    assert str(missing.value) == ("Ray cluster ray://10.0.0.9:10001: cannot connect: Ray Client is missing "
                                  "(pip install 'ray[client]'): No module named 'grpc'")
    assert not ray.is_initialized()


def test_the_extraction_command_fails_fast_on_a_dead_ray_address(tiny_videos: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    pytest.importorskip("ray")
    run = subprocess.run([sys.executable, "-m", "loaders", "extract", str(tiny_videos["tiny-h264-bframes"]),
                          str(tmp_path / "stores"), "--engine", "ray", "--address", "127.0.0.1:1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,  # a hang guard, not a speed figure
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert run.returncode == 2, run.stderr
    assert "error: Ray cluster 127.0.0.1:1: nothing answers there" in run.stderr and "Traceback" not in run.stderr


def test_the_extraction_command_fails_fast_where_something_silent_listens(tiny_videos: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    pytest.importorskip("ray")
    with socket.create_server(("127.0.0.1", 0)) as listening:  # accepts, then never says a word
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        run = subprocess.run([sys.executable, "-m", "loaders", "extract", str(tiny_videos["tiny-h264-bframes"]),
                              str(tmp_path / "stores"), "--engine", "ray", "--address", address],
                             cwd=ROOT, capture_output=True, text=True, timeout=120,  # a hang guard, not a speed figure
                             env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    assert run.returncode == 2, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: Ray cluster {address}: something listens there but it is not a Ray cluster "
                      f"(it said nothing in {batch.CONNECT_TIMEOUT:g} s); is the address the head node's GCS port "
                      "(ray start --head prints it)?"], run.stderr
    assert "Traceback" not in run.stderr
