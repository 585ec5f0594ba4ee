"""Stores at training size, transcoded stores and cold reads, as the benchmarks measure them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require_loader
from frame_checks import all_frames, nearest_reference

import loaders
from benchmarks import cache, cli, core, patterns, perframe, records, stores, verify
from benchmarks.analysis import crossover
from benchmarks.patterns import Sample
from benchmarks.records import Record
from benchmarks.spec import Store, Target
from loaders.probe import probe
from loaders.store import VIDEO_FILE, read_manifest, transcoded_video
from loaders.vocabulary import DECODE, FRAMES

SIZE = 64


# -- the page cache ---------------------------------------------------------------------------


def test_eviction_leaves_a_file_out_of_the_page_cache_and_reading_brings_it_back(tmp_path: Path) -> None:
    path = tmp_path / "store" / "frames.npy"
    path.parent.mkdir()
    data = np.random.default_rng(0).integers(0, 255, 4 << 20, dtype=np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(data)  # dirty pages: evict() must write them back before they can be dropped
    assert cache.residency([path]).resident_bytes > 0
    after = cache.evict([path.parent])  # a folder: every file in it
    assert (after.files, after.bytes) == (1, len(data))
    assert after.resident_bytes <= 2 * os.sysconf("SC_PAGE_SIZE"), after  # ~0: the kernel may keep a page
    assert cache.residency([path]) == after
    loaded = cache.load([path])
    assert loaded.resident_bytes >= len(data) and loaded.fraction == 1.0
    assert path.read_bytes() == data  # eviction loses nothing


def test_residency_counts_only_what_is_resident(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"x" * (1 << 20))
    b.write_bytes(b"")
    cache.evict([a, b])
    a.read_bytes()
    total = cache.residency([tmp_path])
    assert (total.files, total.bytes) == (2, 1 << 20) and total.resident_bytes >= 1 << 20


def test_loading_reads_only_the_files_not_wholly_in_the_page_cache(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    held, evicted, part = tmp_path / "held", tmp_path / "evicted", tmp_path / "part"
    for path, size in ((held, 1 << 20), (evicted, 1 << 20), (part, 4 << 20)):
        path.write_bytes(os.urandom(size))
    cache.evict([evicted, part])
    held.read_bytes()
    with open(part, "rb") as f:  # its start back in the cache, not the rest
        f.read(1 << 18)
    if (cache.residency([evicted]).fraction > 0.5 or cache.residency([held]).fraction < 1.0
            or cache.residency([part]).fraction in (0.0, 1.0)):
        pytest.skip("this file system does not drop or keep pages as asked")
    read: list[str] = []

    def recording(path: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(Path(path).name)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(cache, "open", recording, raising=False)
    loaded = cache.load([tmp_path])
    assert sorted(read) == ["evicted", "part"]  # the resident file is not read through again
    assert (loaded.files, loaded.bytes, loaded.fraction) == (3, 6 << 20, 1.0)
    read.clear()
    assert cache.load([tmp_path]).fraction == 1.0 and read == []


# -- stores at training size --------------------------------------------------------------------


def _samples(video: str, n: int) -> list[Sample]:
    return [Sample(video, (i,)) for i in range(0, n, 5)]


def test_a_resized_store_is_exact_at_its_size_and_wrong_against_full_size(tiny_videos: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    require_loader("npy")
    video = str(tiny_videos["tiny-h264-bframes"])
    spec = Store("ffmpeg", "npy", None, SIZE)
    assert spec.label == "ffmpeg-npy-s64"
    store = stores.ensure(tmp_path, video, spec)
    n = read_manifest(store).frames
    samples = _samples(video, n)
    indices = [s.indices[0] for s in samples]
    with loaders.open("npy", store) as src:
        got = src.get_frames(indices)
    assert min(got.shape[1:3]) == SIZE
    at_size = verify.check(got, indices, verify.reference_frames(video, samples, n, SIZE))
    assert at_size.wrong is None and at_size.exact and at_size.label(size=SIZE) == f"exact at size {SIZE}"
    full = verify.check(got, indices, verify.reference_frames(video, samples, n))
    assert full.wrong is not None and "size" in full.wrong  # never compared with the full-size frames
    # A frame off by one at the store's size is still caught.
    shifted = verify.check(got[1:], indices[:-1], verify.reference_frames(video, samples, n, SIZE))
    assert shifted.wrong is not None


def test_a_resized_jpeg_store_is_right_within_tolerance(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    require_loader("pil")
    video = str(tiny_videos["tiny-h264-bframes"])
    store = stores.ensure(tmp_path, video, Store("ffmpeg", "jpeg", 90, SIZE))
    n = read_manifest(store).frames
    samples = _samples(video, n)
    indices = [s.indices[0] for s in samples]
    with loaders.open("pil", store) as src:
        got = src.get_frames(indices)
    ref = verify.reference_frames(video, samples, n, SIZE)
    verdict = verify.check(got, indices, ref, luma=True)
    assert verdict.wrong is None and not verdict.exact
    assert verify.check(got[1:], indices[:-1], ref, luma=True).wrong is not None  # off by one: still caught
    assert verdict.label(lossy=True, size=SIZE).startswith(f"right frame at size {SIZE}, within tolerance, lossy")


# -- transcoded stores --------------------------------------------------------------------------


@pytest.mark.parametrize("gop", [1, 8])
def test_a_transcoded_store_keeps_every_frame_at_its_size(gop: int, tiny_videos: dict[str, Path], references: Any,
                                                          tmp_path: Path) -> None:
    require_loader("pyav")
    name = "tiny-h264-bframes"
    video = tiny_videos[name]
    done = loaders.extract(video, tmp_path / "t", extractor="ffmpeg", format="mp4", gop=gop, crf=18, size=SIZE)
    m = read_manifest(done.store)
    assert (m.format, m.gop, m.crf, m.size, m.quality) == ("mp4", gop, 18, SIZE, None)
    mp4 = transcoded_video(done.store)
    assert mp4 == done.store / VIDEO_FILE and done.bytes == mp4.stat().st_size
    p = probe(mp4)
    ref = loaders.resize_frames(all_frames(references[name]), SIZE)
    assert p.num_frames == len(ref) == m.frames and (p.height, p.width) == ref.shape[1:3]
    if gop == 1:
        assert list(p.keyframes) == list(range(p.num_frames))
    else:
        assert list(p.keyframes) == list(range(0, p.num_frames, gop))
    with loaders.open("pyav", mp4) as src:
        got = src.get_frames(list(range(p.num_frames)))
    # Lossy, but every frame is the right one: nearest to its own reference frame, and within
    # the verification's luma tolerance.
    assert (nearest_reference(got, ref) == np.arange(len(ref))).all()
    step = 2
    sub = {i: f[::step, ::step].astype(np.int16) for i, f in enumerate(ref)}
    verdict = verify.check(got, range(len(ref)), sub, luma=True)
    assert verdict.wrong is None and not verdict.exact
    again = loaders.extract(video, tmp_path / "t", extractor="ffmpeg", format="mp4", gop=gop, crf=18, size=SIZE)
    assert again.reused
    other = loaders.extract(video, tmp_path / "t", extractor="ffmpeg", format="mp4", gop=gop + 1, crf=18, size=SIZE)
    assert not other.reused and read_manifest(other.store).gop == gop + 1  # other settings: extracted again


def test_transcoding_refuses_bad_settings(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    video = tiny_videos["tiny-h264-bframes"]
    for kwargs, words in (({"extractor": "pyav"}, "ffmpeg extractor"), ({"gop": 0}, "gop"),
                          ({"crf": 60}, "crf"), ({"gop": True}, "gop")):
        with pytest.raises(loaders.LoaderError, match=words) as info:
            loaders.extract(video, tmp_path / "t", **{"format": "mp4", **kwargs})  # type: ignore[arg-type]
        assert str(tmp_path / "t") in str(info.value)
    assert not (tmp_path / "t").exists()
    frames = loaders.extract(video, tmp_path / "f", format="npy", size=SIZE)
    with pytest.raises(loaders.LoaderError, match="not a transcoded"):
        transcoded_video(frames.store)


def test_the_extract_command_transcodes(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    from loaders.__main__ import main

    src = tmp_path / "src"
    src.mkdir()
    (src / "clip.mp4").symlink_to(tiny_videos["tiny-h264-bframes"])
    assert main(["extract", str(src), str(tmp_path / "out"), "--format", "mp4", "--gop", "4", "--crf", "23",
                 "--size", str(SIZE)]) == 0
    store = tmp_path / "out" / "clip.mp4.ffmpeg-mp4-s64-g4"
    m = read_manifest(store)
    assert (m.gop, m.crf, m.size) == (4, 23, SIZE) and (store / VIDEO_FILE).is_file()


# -- the benchmarks -----------------------------------------------------------------------------


def test_store_sizes_and_caches_on_the_command_line() -> None:
    args = cli.parser().parse_args(["--store-sizes", "full,256,256", "--gops", "1", "--cache", "cold"])
    assert args.store_sizes == [None, 256] and args.gops == [1] and args.cache == ["cold"]
    defaults = cli.parser().parse_args([])
    # every format at 256, jpeg also at full size; cold epochs for the stores at 256, not the videos
    assert defaults.store_sizes == [256] and defaults.full_size == ["jpeg"] and defaults.gops == [1, 8]
    assert defaults.cache is None and defaults.cold_sizes == [256]  # cache None: cold,warm
    assert cli.parser().parse_args(["--cold-sizes", "transcodes,videos,full"]).cold_sizes == [None, "videos",
                                                                                               "transcodes"]
    for bad in (["--store-sizes", "255"], ["--store-sizes", "big"], ["--cache", "lukewarm"], ["--cold-sizes", "x"]):
        with pytest.raises(SystemExit):
            cli.parser().parse_args(bad)
    specs = stores.specs(["ffmpeg"], ["jpeg", "npy"], 90, [None, 256]) + stores.transcodes([1, 8], 18, [256])
    assert [s.label for s in specs] == ["ffmpeg-jpeg-q90", "ffmpeg-npy", "ffmpeg-jpeg-q90-s256", "ffmpeg-npy-s256",
                                        "ffmpeg-mp4-s256-g1", "ffmpeg-mp4-s256-g8"]
    assert specs[-1].coding() == {"gop": 8, "crf": 18} and specs[0].coding() == {}
    default = stores.specs(["ffmpeg"], ["jpeg", "npy"], 90, [256], full=["jpeg", "png"])
    assert [s.label for s in default] == ["ffmpeg-jpeg-q90", "ffmpeg-jpeg-q90-s256", "ffmpeg-npy-s256"]


def test_records_carry_store_size_and_cache() -> None:
    record = perframe.record(Target("pyav", DECODE, Store("ffmpeg", "mp4", 90, 256, 8, 18)),
                             "epoch", "set", cache="cold", options={"epochs": 3})
    assert (record.format, record.quality, record.store_size, record.cache) == ("mp4", None, 256, "cold")
    # The store is one object in the record (its gop and crf no longer ride in the options).
    assert record.options == {"epochs": 3} and record.store is not None
    assert record.store.coding() == {"gop": 8, "crf": 18}
    import dataclasses

    line = json.loads(json.dumps(dataclasses.asdict(record)))
    assert line["store"] == {"extractor": "ffmpeg", "format": "mp4", "quality": None, "store_size": 256, "gop": 8,
                             "crf": 18}
    assert records.parse(line) == record
    with pytest.raises(ValueError, match="store_size"):
        records.parse({**line, "store": {**line["store"], "store_size": "256"}})
    old = {k: v for k, v in line.items() if k not in ("store", "cache")}
    old.update(extractor="ffmpeg", format="mp4", quality=None)  # an older run's flat fields, no store_size
    assert records.parse(old).store_size is None and records.parse(old).cache is None  # older runs still read


def _extraction(fmt: str, seconds: float, size: int | None = None, gop: int | None = None, **kw: Any) -> Record:
    return records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="set",
                              seconds=[seconds], extractor="ffmpeg", format=fmt, store_size=size,
                              options={"gop": gop} if gop else {}, **kw))


def _epoch(loader: str, kind: str, seconds: float, cache: str, fmt: str | None = None, size: int | None = None,
           gop: int | None = None, **kw: Any) -> Record:
    return records.parse(dict(measure="epoch", loader=loader, kind=kind, stack="main", profile="set",
                              pattern="random-clip", frames=100, seconds=[seconds], workers=2, batch_size=8,
                              extractor="ffmpeg" if fmt else None, format=fmt, store_size=size, cache=cache,
                              options={"gop": gop} if gop else {}, **kw))


def test_crossover_pairs_match_caches_and_include_transcoded_stores() -> None:
    recs = [
        _extraction("npy", 12.0, 256),
        _extraction("npy", 30.0),  # another size: not the store the pairs below read
        _extraction("mp4", 4.0, 256, gop=8),
        _extraction("mp4", 9.0, 256, gop=1),
        _epoch("pyav", DECODE, 10.0, "warm"),
        _epoch("pyav", DECODE, 20.0, "cold"),
        _epoch("pyav", DECODE, 6.0, "warm", "mp4", 256, gop=8),
        _epoch("npy", FRAMES, 2.0, "warm", "npy", 256),
        _epoch("npy", FRAMES, 5.0, "cold", "npy", 256),
    ]
    got = {(p.decode_format, p.decode_gop, p.format, p.cache): p for p in crossover.pairs(recs, epochs=3)}
    assert set(got) == {(None, None, "npy", "warm"), (None, None, "npy", "cold"), (None, None, "mp4", "warm"),
                        ("mp4", 8, "npy", "warm")}  # no cold/warm mixes; the g1 store has no epochs
    warm, cold = got[None, None, "npy", "warm"], got[None, None, "npy", "cold"]
    assert (warm.extract_seconds, warm.store_size, warm.epochs) == (12.0, 256, pytest.approx(12 / 8))
    assert (cold.epoch_decode, cold.epoch_frames, cold.epochs) == (20.0, 5.0, pytest.approx(12 / 15))
    transcode = got[None, None, "mp4", "warm"]
    assert (transcode.frames, transcode.gop, transcode.extract_seconds) == ("pyav", 8, 4.0)
    assert transcode.epochs == pytest.approx(4 / 4)
    # Decoding the transcode against reading frames: X is what the frames cost beyond the transcode,
    # and both sides' totals start from what they cost to make.
    both = got["mp4", 8, "npy", "warm"]
    assert (both.decode_extract_seconds, both.extract_seconds) == (4.0, 8.0)
    assert both.epochs == pytest.approx(8 / 4)
    assert both.decode_total == [10, 16, 22] and both.frames_total == [14, 16, 18]


def test_cold_and_warm_epochs_are_interleaved_with_the_cache_they_name(tiny_videos: dict[str, Path],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import runner

    require_loader("pyav")
    require_loader("npy")
    seen: list[tuple[str, str | None, int]] = []

    def fake_run(dataset: runner.SampleDataset, workers: int, batch_size: int, epochs: int,
                 threads: int) -> runner.Epochs:
        # What the page cache holds of this epoch's files as it starts.
        held = cache.residency(dataset.paths.values())
        seen.append((dataset.loader, Path(next(iter(dataset.paths.values()))).suffix, held.resident_bytes))
        return runner.Epochs([1.0], 0, 1, {"torch": 1})

    monkeypatch.setattr(runner, "run", fake_run)
    video = str(tiny_videos["tiny-h264-bframes"])
    work = core.Workspace(core.spec_for({"v": video}, core.Settings(epochs=2)), tmp_path)
    pattern = patterns.Pattern("sequential")
    npy = Target("npy", FRAMES, Store("ffmpeg", "npy", None, SIZE))
    mp4 = Target("pyav", DECODE, Store("ffmpeg", "mp4", None, SIZE, 8, 18))
    group = [core.EpochCase(t, pattern, 0, "set", 4, 32, c) for t in (npy, mp4) for c in ("cold", "warm")]
    assert len({c.cell for c in group}) == 4
    got = {(case.target.key, case.cache): record for case, record in work.epochs(group, [video])}
    # 4 cases x 2 epochs, taking turns: the second round starts one case later.
    caches = ["cold", "warm", "cold", "warm", "warm", "cold", "warm", "cold"]
    assert [s[0] for s in seen] == ["npy", "npy", "pyav", "pyav", "npy", "pyav", "pyav", "npy"]
    page = os.sysconf("SC_PAGE_SIZE")
    for (_, suffix, held), state in zip(seen, caches, strict=True):
        files = cache.residency([work.store_of[video, npy.store] if suffix == "" else
                                 work.store_of[video, mp4.store] / VIDEO_FILE]).bytes
        # Cold: out of the page cache as the epoch starts (a page or two may stay); warm: all in it.
        assert held <= 2 * page if state == "cold" else held >= files
    for (_, state), record in got.items():
        assert record.status == "ok" and record.cache == state and record.store_size == SIZE
        assert record.options["files_bytes"] > 0
        if state == "cold":
            assert record.options["resident_bytes"] <= 2 * page
        else:
            assert record.options["resident_bytes"] >= record.options["files_bytes"]
    mp4_store = got[mp4.key, "warm"].store
    assert mp4_store is not None and mp4_store.gop == 8 and got[mp4.key, "warm"].exact is False  # lossy, right


def test_an_unknown_per_frame_only_loader_stops_the_run_before_it_writes(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown loader.*cv2-seeek"):
        cli.main(["--per-frame-only", "cv2-seeek", "--out", str(tmp_path / "results")])
    assert not (tmp_path / "results").exists()


def test_a_short_extraction_is_timed_again_and_a_long_one_once(tiny_videos: dict[str, Path], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    video = str(next(iter(tiny_videos.values())))
    spec = Store("ffmpeg", "npy", store_size=64)
    monkeypatch.setattr(stores, "SHORT", float("inf"))  # every extraction counts as short: ROUNDS of them
    short = stores.measure(tmp_path / "a", [video], spec, 1)
    monkeypatch.setattr(stores, "SHORT", 0.0)  # none does: timed once
    long = stores.measure(tmp_path / "b", [video], spec, 1)
    assert len(short.rounds) == stores.ROUNDS and len(long.rounds) == 1
    assert all(s > 0 for s in short.rounds)
    # Every round extracts afresh to the same store: what it holds is one extraction's.
    assert (short.bytes, short.frames, short.failed) == (long.bytes, long.frames, {})
