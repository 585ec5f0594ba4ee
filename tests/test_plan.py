"""The plan for a whole dataset: probing and sampling every video, and projecting each strategy.

The projection's arithmetic is checked on hand-made records whose figures are chosen so every
expected value can be worked out on paper (see the comments); disk bytes are checked against a
real extraction of a small generated dataset.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

import loaders
from benchmarks import corpus, dataset, plan_accuracy, records
from benchmarks.analysis import epochs as epochs_model
from benchmarks.analysis import plan, verdict
from benchmarks.dataset import ClassSummary, Dataset
from benchmarks.records import Record
from benchmarks.spec import Store, Video
from loaders.fileid import file_id

HD, SD = "720p h264", "360p h264"


def _dataset(ram: int = 10**12, budget: int | None = None) -> Dataset:
    """960 frames of 1280x720 (10 videos) and 3,840 of 640x360 (20); the sample: 96 frames of each
    (multiples of the sequential pattern's 16-frame clips, so frames read are the frames)."""
    classes = {HD: ClassSummary(10, 960, 40.0, 500_000, {"1280x720": 960}),
               SD: ClassSummary(20, 3840, 160.0, 2_000_000, {"640x360": 3840})}  # bytes a frame as sampled
    measured = {"a": Video("/v/a.mp4", 50_000, 96, 25.0, 1280, 720, "h264"),
                "b": Video("/v/b.mp4", 50_000, 96, 25.0, 640, 360, "h264")}
    return Dataset("/v", classes, 0, measured, 2 * ram, ram, 10**15, epochs=10, disk_budget_bytes=budget)


def _epoch(loader: str, kind: str, seconds: list[float], cache: str | None = None, **store: object) -> Record:
    return records.parse(dict(measure="epoch", loader=loader, kind=kind, stack="main", profile="sample",
                              pattern="sequential", frames=200, seconds=seconds, workers=2, cache=cache, **store))


def _per_frame(loader: str, profile: str, fps: float) -> Record:
    return Record(measure="per_frame", loader=loader, kind="decode", stack="main", profile=profile,
                  pattern="sequential", frames=100, seconds=[100 / fps]).with_fps()


def _extraction(fmt: str, seconds: float, size: int | None = None, quality: int | None = None) -> Record:
    return records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="sample", frames=200,
                              seconds=[seconds], extractor="ffmpeg", format=fmt, quality=quality, bytes=1_000_000,
                              store_size=size))


def _records() -> list[Record]:
    return [
        # pyav: 0.01 s a frame on the 720p video, 0.0025 s on the 360p one.
        _per_frame("pyav", "a", 100), _per_frame("pyav", "b", 400),
        _epoch("pyav", "decode", [2.0, 4.0, 6.0], "warm"), _epoch("pyav", "decode", [20.0, 40.0, 60.0], "cold"),
        _epoch("npy", "frames", [1.0, 1.0, 1.0], "warm", extractor="ffmpeg", format="npy"),
        _extraction("npy", 10.0),
        _epoch("simplejpeg", "frames", [3.0, 3.0, 3.0], "warm", extractor="ffmpeg", format="jpeg", quality=90,
               store_size=256),
        _extraction("jpeg", 10.0, size=256, quality=90),
    ]


def _by_name(strategies: list[plan.Strategy]) -> dict[str, plan.Strategy]:
    return {s.name: s for s in strategies}


def test_projection_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epochs_model, "REPEATS", 1.0)  # the range's other terms alone
    got = _by_name(plan.project(_records(), _dataset(), epochs=10))
    pyav = got["decode the videos with pyav"]
    # Work = frames x seconds per frame, per class: dataset 960 x 0.01 + 3840 x 0.0025 = 19.2,
    # sample 96 x 0.01 + 96 x 0.0025 = 1.2: the dataset is 16x the sample. Median epoch 4 s, with no
    # start-up or open timings all of it frames; the range runs over the epochs timed (2 to 6 s),
    # and over how far the two classes, each sampled once, stray from what their frame sizes and
    # bitrates say (x0.93-1.07 of their mean): wider than 32-96 s.
    assert pyav.epoch_seconds == pytest.approx(64.0)
    assert pyav.epoch_seconds_low == pytest.approx(29.76, abs=0.01)
    assert pyav.epoch_seconds_high == pytest.approx(102.72, abs=0.01)
    assert (pyav.startup_seconds, pyav.open_seconds, pyav.frame_seconds) == (0.0, 0.0, pytest.approx(64.0))
    assert (pyav.extraction_seconds, pyav.disk_bytes, pyav.cache) == (0.0, 0, "warm")
    assert pyav.total_seconds == pytest.approx(640.0)
    npy = got["extract to ffmpeg-npy, read with npy"]
    # Source pixels: dataset 960 x 921,600 + 3840 x 230,400 = 16 x the sample's 96 x both (a
    # frame's cost whatever its size, and its bytes, move the cost of the dataset's mix by 0.5%).
    assert npy.extraction_seconds == pytest.approx(160.0, rel=0.01)
    assert npy.disk_bytes == 16_000_000
    assert npy.epoch_seconds == pytest.approx(16.0)  # no per-frame figure: scaled by pixels
    assert npy.total_seconds == pytest.approx(320.0, rel=0.01)
    assert (npy.dataset_videos, npy.dataset_frames) == (30, 4800)
    jpeg = got["extract to ffmpeg-jpeg-q90-s256, read with simplejpeg"]
    # At short side 256 both sizes store 456x256 frames: 4800 frames against the sample's 192.
    assert jpeg.disk_bytes == 25_000_000
    assert jpeg.epoch_seconds == pytest.approx(75.0)
    assert [s.name for s in plan.project(_records(), _dataset(), epochs=10)][:2] == [npy.name, pyav.name]


def test_a_jpeg_reader_s_frames_cost_by_their_bytes_as_well_as_their_pixels() -> None:
    # The sampled 720p video's JPEG store holds 0.1 bytes a stored pixel, the 360p one's 0.3; the
    # dataset's classes hold what their sampled videos do (the same bytes a pixel of video). A JPEG
    # frame read costs a part per pixel and a part per byte: the dataset, four 360p frames to each
    # 720p one, reads more bytes a frame than the sample's one of each, so its epoch is more than
    # the 25 times the sample's pixels (75 s) that it is without each video's bytes.
    pixels = 96 * 456 * 256  # each sampled video's frames, stored at 456x256
    per_video = {"/v/a.mp4": round(0.1 * pixels), "/v/b.mp4": round(0.3 * pixels)}
    made = dataclasses.replace(_extraction("jpeg", 10.0, size=256, quality=90), options={"video_bytes": per_video})
    recs = [r for r in _records() if r.measure != "extraction" or r.store.format != "jpeg"] + [made]
    got = _by_name(plan.project(recs, _dataset(), epochs=10))
    hd, sd = 1 + epochs_model.STORED_BYTE * 0.1, 1 + epochs_model.STORED_BYTE * 0.3
    jpeg = got["extract to ffmpeg-jpeg-q90-s256, read with simplejpeg"]
    assert jpeg.epoch_seconds == pytest.approx(3.0 * (960 * hd + 3840 * sd) / (96 * hd + 96 * sd), rel=1e-3)
    assert jpeg.epoch_seconds > 75.0 * 1.1
    # npy's frames hold no fewer bytes for a quieter video: by their pixels alone, as before.
    assert got["extract to ffmpeg-npy, read with npy"].epoch_seconds == pytest.approx(16.0)
    # Projected onto the sampled videos themselves, the bytes change nothing: 3 s as timed.
    itself = Dataset("/v", dataset.summarize(list(_dataset().measured.values())), 0, _dataset().measured,
                     2 * 10**12, 10**12, 10**15)
    assert _by_name(plan.project(recs, itself, epochs=10))[jpeg.name].epoch_seconds == pytest.approx(3.0)


def test_a_compressed_stores_bytes_follow_the_videos_bytes_a_pixel_within_a_class() -> None:
    # 4 like clips, two quiet (10 kB) and two noisy (30 kB); the sample holds one quiet one. A JPEG
    # store of it took 1,000 bytes: the dataset's pixels alone say 4,000; its videos hold 80 kB
    # against the sample's 10 kB a clip, so its JPEG frames hold twice as much: 8,000. An npy
    # store holds the pixels whatever they show.
    quiet = Video("/v/q0.mp4", 10_000, 30, 25.0, 192, 144, "h264")
    noisy = [dataclasses.replace(quiet, path=f"/v/n{i}.mp4", bytes=30_000) for i in range(2)]
    whole = dataset.summarize([quiet, dataclasses.replace(quiet, path="/v/q1.mp4"), *noisy])
    data = Dataset("/v", whole, 0, {"q0": quiet}, 10**12, 10**12, 10**15)

    def made(fmt: str) -> Record:
        return records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="videos",
                                  frames=30, seconds=[0.5], extractor="ffmpeg", format=fmt, bytes=1_000))

    assert plan.project_store(made("jpeg"), data, None)[1] == 8_000
    assert plan.project_store(made("npy"), data, None)[1] == 4_000
    # A class the sample missed has no bytes of its own to go by: its pixels alone.
    other = dataclasses.replace(quiet, path="/v/h.mp4", codec="hevc", bytes=99_000)
    data2 = Dataset("/v", dataset.summarize([quiet, other]), 0, {"q0": quiet}, 10**12, 10**12, 10**15)
    assert plan.project_store(made("jpeg"), data2, None)[1] == 2_000


def test_a_compressed_store_follows_the_videos_bytes_as_far_as_the_sample_s_own_store_does() -> None:
    # Two sampled clips of one codec: the noisy one holds 4 times the quiet one's bytes a pixel, and
    # its JPEG store 2 times: the store's bytes follow the videos' to the power 0.5 (a JPEG frame has
    # a floor, and a video's bytes hold its motion too). The dataset adds two clips of 16 times the
    # quiet one's bytes: its class holds 3.7 times the sample's bytes a pixel, so its pixels (2 times
    # the sample's) store 3.7 ** 0.5 times as much each, not 3.7 times.
    quiet = Video("/v/q.mp4", 10_000, 30, 25.0, 192, 144, "h264")
    noisy = dataclasses.replace(quiet, path="/v/n.mp4", bytes=40_000)
    loud = [dataclasses.replace(quiet, path=f"/v/l{i}.mp4", bytes=160_000) for i in range(2)]
    data = Dataset("/v", dataset.summarize([quiet, noisy, *loud]), 0, {"q": quiet, "n": noisy}, 10**12, 10**12,
                   10**15)

    def made(per_video: dict[str, int] | None) -> Record:
        options = {} if per_video is None else {"video_bytes": per_video}
        return records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="videos",
                                  frames=60, seconds=[0.5], extractor="ffmpeg", format="jpeg", bytes=3_000,
                                  options=options))

    measured = made({quiet.path: 1_000, noisy.path: 2_000})
    assert plan.store_elasticity(measured, data, None) == pytest.approx(0.5)
    assert plan.project_store(measured, data, None)[1] == int(3_000 * 2 * 3.7 ** 0.5)
    # Without the store's bytes of each video (a run made before they were kept): in proportion.
    assert plan.project_store(made(None), data, None)[1] == int(3_000 * 2 * 3.7)
    # A store that grew more than its videos' bytes is taken in proportion, one that shrank as flat;
    # videos of one codec too alike to tell (within half again of each other) are taken in proportion.
    assert plan.store_elasticity(made({quiet.path: 1_000, noisy.path: 9_000}), data, None) == 1.0
    assert plan.store_elasticity(made({quiet.path: 1_000, noisy.path: 900}), data, None) == 0.0
    alike = Dataset("/v", data.classes, 0, {"q": quiet, "n": dataclasses.replace(noisy, bytes=12_000)}, 10**12,
                    10**12, 10**15)
    assert plan.store_elasticity(made({quiet.path: 1_000, noisy.path: 1_100}), alike, None) == 1.0


def test_each_sampled_class_is_stored_at_its_own_bytes_a_pixel_and_a_missing_one_at_their_mean() -> None:
    # Sampled: an H.264 clip whose JPEG store took 3,000 bytes and an HEVC clip of the same size
    # whose store took 1,000 (same content: the same bytes a pixel within each class). The dataset
    # holds 2 clips of each and 2 VP9 clips the sample missed, stored at the sampled classes' mean.
    h264 = Video("/v/a.mp4", 10_000, 30, 25.0, 192, 144, "h264")
    hevc = dataclasses.replace(h264, path="/v/b.mp4", codec="hevc")
    vp9 = dataclasses.replace(h264, path="/v/c.webm", codec="vp9")
    whole = [h264, dataclasses.replace(h264, path="/v/a2.mp4"), hevc, dataclasses.replace(hevc, path="/v/b2.mp4"),
             vp9, dataclasses.replace(vp9, path="/v/c2.webm")]
    data = Dataset("/v", dataset.summarize(whole), 0, {"a": h264, "b": hevc}, 10**12, 10**12, 10**15)
    made = records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="videos",
                              frames=60, seconds=[0.5], extractor="ffmpeg", format="jpeg", bytes=4_000,
                              options={"video_bytes": {h264.path: 3_000, hevc.path: 1_000}}))
    assert plan.project_store(made, data, None)[1] == 2 * 3_000 + 2 * 1_000 + 2 * 2_000
    # Without each video's bytes (a run made before they were kept), every class at the sample's mean.
    older = dataclasses.replace(made, options={})
    assert plan.project_store(older, data, None)[1] == 3 * 4_000


def test_extraction_scales_with_what_its_videos_cost_to_decode_not_their_pixels_alone() -> None:
    # A sample of one noisy 360p clip (63 kB a frame) extracted in 1 s; the dataset holds it and 3
    # quiet clips of its size (10 kB a frame). By pixels: 4 s. Decoding follows the bytes, so the
    # quiet clips cost less each, as the estimate's guesses say.
    noisy = Video("/v/n.mp4", 6_300_000, 100, 25.0, 640, 360, "h264")
    quiet = [dataclasses.replace(noisy, path=f"/v/q{i}.mp4", bytes=1_000_000) for i in range(3)]
    data = Dataset("/v", dataset.summarize([noisy, *quiet]), 0, {"n": noisy}, 10**12, 10**12, 10**15)
    g = epochs_model.GUESS
    store = Store(format="npy", store_size=128)

    def one(video: Video) -> float:  # extracting one clip: start it, decode, convert, write at 128
        mp, mb = video.megapixels, video.bytes / video.frames / 1e6
        return g.extract_video + video.frames * (mp * (g.decode + g.output) + g.decode_frame + mb * g.decode_byte
                                                 + epochs_model.megapixels(640, 360, 128) * g.extract["npy"])

    assert plan.extraction_scale(data, 1, store) == pytest.approx((one(noisy) + 3 * one(quiet[0])) / one(noisy))
    assert 1 < plan.extraction_scale(data, 1, store) < 3  # not the 4 of the pixels


def test_extraction_scales_between_its_pixels_and_how_its_jobs_share_the_videos_out() -> None:
    # 3 like clips on 2 jobs, one core each, take two clips' time in a row; 12 take six: 3x the
    # sample's wall time. Extractions that keep every core busy alone scale with pixels: 4x. The
    # plan takes the geometric mean of the two; with one job they agree.
    clip = Video("/v/c0.mp4", 10_000, 30, 25.0, 192, 144, "h264")
    sample = {f"c{i}": dataclasses.replace(clip, path=f"/v/c{i}.mp4") for i in range(3)}
    whole = dataset.summarize([dataclasses.replace(clip, path=f"/v/c{i}.mp4") for i in range(12)])
    data = Dataset("/v", whole, 0, sample, 10**12, 10**12, 10**15)
    assert plan.extraction_scale(data, 2) == pytest.approx(12 ** 0.5)
    assert plan.extraction_scale(data, 1) == pytest.approx(4.0)
    itself = dataclasses.replace(data, classes=data.measured_classes())
    assert plan.extraction_scale(itself, 2) == 1.0  # the videos measured, projected to themselves
    made = records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="videos", frames=90,
                              seconds=[0.5], extractor="ffmpeg", format="npy", bytes=1_000, options={"jobs": 2}))
    assert plan.project_store(made, data, None)[0] == pytest.approx(0.5 * 12 ** 0.5)
    # Past the exact schedule, the total over the jobs: a million like videos on 8 jobs.
    assert plan.makespan([(1_000_000, 2.0)], 8) == pytest.approx(250_000.0)
    assert plan.makespan([(1, 100.0), (3, 1.0)], 2) == 100.0  # one long video outlasts the rest


def test_disk_budget_and_cold_reads() -> None:
    # A 10 MB budget leaves npy (16 MB) and the jpeg store (25 MB) out: decoding wins.
    strategies = plan.project(_records(), _dataset(), epochs=10, disk_budget=10_000_000)
    got = _by_name(strategies)
    assert not got["extract to ffmpeg-npy, read with npy"].fits_disk
    [sequential] = verdict.decide(strategies, "sequential")
    assert sequential.best is not None and sequential.best.name == "decode the videos with pyav"
    assert all(s.fits_disk for s in strategies[:1]) and not strategies[-1].fits_disk  # over budget ranked last
    assert sequential.contrast is None and sequential.crossover is None  # no reader within the budget
    # 800 kB of memory: the videos (1 MB) and every store exceed it, so epochs should be cold.
    got = _by_name(plan.project(_records(), _dataset(ram=800_000), epochs=10))
    pyav = got["decode the videos with pyav"]
    assert (pyav.cache, pyav.epoch_seconds, pyav.fits_ram) == ("cold", pytest.approx(640.0), False)
    assert got["extract to ffmpeg-npy, read with npy"].cache == "warm (no cold timing)"


def test_crossover_of_the_best_pair() -> None:
    [sequential] = verdict.decide(plan.project(_records(), _dataset(), epochs=10), "sequential")
    assert sequential.crossover is not None
    decode, frames = sequential.crossover.decode, sequential.crossover.store
    assert (decode.decode_loader, frames.frame_loader) == ("pyav", "npy")
    assert sequential.crossover.epochs == pytest.approx(160.0 / (64.0 - 16.0), rel=0.01)


def test_a_run_without_a_dataset_plans_for_its_measured_videos() -> None:
    got = _by_name(plan.project(_records(), None, epochs=3))
    assert got["decode the videos with pyav"].epoch_seconds == pytest.approx(4.0)
    assert got["extract to ffmpeg-npy, read with npy"].total_seconds == pytest.approx(13.0)
    assert all(s.cache == "warm" for s in got.values())


def test_parse_bytes() -> None:
    assert plan.parse_bytes("2T") == 2 * 2**40
    assert plan.parse_bytes("1.5GiB") == int(1.5 * 2**30)
    assert plan.parse_bytes("800") == 800
    with pytest.raises(ValueError, match="not a size"):
        plan.parse_bytes("lots")


def test_sample_is_stratified_and_seeded() -> None:
    videos = [Video(f"/v/{c}{i}.mp4", 1, 100 * (3 if c == "h" else 1), 25.0, *dims, codec)
              for c, dims, codec, n in (("h", (1280, 720), "h264", 12), ("s", (640, 360), "h264", 6),
                                        ("e", (1920, 1080), "hevc", 2)) for i in range(n)]
    videos.append(Video("/v/broken.mp4", 1, error="not a video"))
    picked = dataset.sample(videos, 5, seed=1)
    assert len(picked) == 5 and all(v.error is None for v in picked)
    assert {v.video_class for v in picked} == {"720p h264", "360p h264", "1080p hevc"}
    assert dataset.sample(videos, 5, seed=1) == picked
    assert len({tuple(v.path for v in dataset.sample(videos, 5, seed=s)) for s in range(6)}) > 1
    assert len(dataset.sample(videos, 100)) == 20  # every readable video


def test_dataset_frames_are_the_sum_of_its_videos(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    paths = [str(p) for p in tiny_videos.values()]
    probed = dataset.probe_all(paths, cache=tmp_path / "probes.sqlite", jobs=2)
    described = dataset.describe("tiny", probed, {}, disk=tmp_path)
    frames = 0
    for p in paths:
        with loaders.open("pyav", p) as src:
            frames += src.num_frames
    assert described.frames == frames
    assert described.videos == len(paths)
    assert sum(c.videos for c in described.classes.values()) == len(paths)
    assert {"360p hevc", "360p vp9", "360p av1"} <= set(described.classes)
    again = Dataset.from_json(described.to_json())
    assert (again.frames, again.line()) == (described.frames, described.line())


def test_dataset_json_holds_the_dataset_and_run_json_the_run(tmp_path: Path) -> None:
    import json

    data = _dataset(budget=2**30)
    data.budgets, data.settings = {"main": "budget 3 min: epochs per cell 3 -> 1"}, {"main": ["videos: 2"]}
    data.save(tmp_path)
    held = json.loads((tmp_path / "dataset.json").read_text())
    run = json.loads((tmp_path / "run.json").read_text())
    assert not set(dataset.RUN_FIELDS) & set(held) and "measured" in held and "classes" in held
    assert set(run) == set(dataset.RUN_FIELDS)
    assert {k: run[k] for k in ("epochs", "disk_budget_bytes", "budgets", "settings")} == {
        "epochs": 10, "disk_budget_bytes": 2**30, "budgets": data.budgets, "settings": data.settings}
    assert dataset.load(tmp_path) == data
    # A run made before run.json kept its settings in dataset.json: still read.
    (tmp_path / "run.json").unlink()
    (tmp_path / "dataset.json").write_text(json.dumps({**held, "epochs": 4, "disk_budget_bytes": None,
                                                       "budgets": {"main": "old"}}))
    old = dataset.load(tmp_path)
    assert old is not None and (old.epochs, old.disk_budget_bytes, old.budgets, old.settings) == (4, None,
                                                                                                  {"main": "old"}, {})
    assert old.measured == data.measured


def test_probes_are_cached_by_path_size_and_mtime(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(tiny_videos["tiny-h264-odd"].read_bytes())
    cache = tmp_path / "probes.sqlite"
    (first,) = dataset.probe_all([video], cache=cache, jobs=1)
    store = dataset.ProbeCache(cache)  # a cached answer is read back, not probed again
    store.put([(Video(str(video), first.bytes, 12345, first.fps, first.width, first.height, first.codec),
                file_id(video))])
    store.close()
    assert dataset.probe_all([video], cache=cache, jobs=1)[0].frames == 12345
    os.utime(video, ns=(1, 1))  # changed since: probed afresh
    assert dataset.probe_all([video], cache=cache, jobs=1)[0].frames == first.frames
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    (bad,) = dataset.probe_all([tmp_path / "bad.mp4"], cache=cache, jobs=1)
    assert bad.error and bad.frames == 0


def _clip(path: Path, size: str, seconds: float) -> str:
    subprocess.run([corpus.ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    return str(path)


# How far a projection of disk bytes may be from the real store: npy holds raw pixels, so only
# its per-frame headers break proportion to pixels (measured: 0.001 %); JPEG's bytes per pixel
# vary with the picture's detail and size (measured: 7-8 % over on this test pattern at 240p and
# 480p, full size and at 128): 15 % leaves room for other encoder builds.
BAND = {"npy": 0.02, "jpeg": 0.15}


@pytest.mark.parametrize(("fmt", "size"), [("npy", None), ("npy", 128), ("jpeg", None), ("jpeg", 128)])
def test_projected_store_bytes_match_a_real_extraction(tmp_path: Path, fmt: str, size: int | None) -> None:
    # Two classes; the sample holds one video of each, the dataset a third, longer, 480p video.
    small = _clip(tmp_path / "small.mp4", "320x240", 1.0)
    big = _clip(tmp_path / "big.mp4", "854x480", 1.0)
    longer = _clip(tmp_path / "longer.mp4", "854x480", 2.0)
    probed = dataset.probe_all([small, big, longer], cache=tmp_path / "probes.sqlite", jobs=2)
    by_path = {v.path: v for v in probed}
    whole = dataset.describe("gen", probed, {"small": by_path[small], "big": by_path[big]}, disk=tmp_path)

    def extract(video: str) -> loaders.Extraction:
        return loaders.extract(video, tmp_path / f"{fmt}-{size}" / Path(video).stem, format=fmt, size=size)

    sample = [extract(small), extract(big)]
    made = records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="gen",
                              frames=sum(e.frames for e in sample), seconds=[1.0], extractor="ffmpeg", format=fmt,
                              bytes=sum(e.bytes for e in sample), store_size=size))
    _, projected = plan.project_store(made, whole, size)
    actual = sum(e.bytes for e in sample) + extract(longer).bytes
    assert abs(projected - actual) / actual <= BAND[fmt], (projected, actual)


def test_closing_summary_says_what_the_report_headline_says(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import report_fixture as fx

    from benchmarks import cli
    from reports import advice, tables

    run_dir = fx.make_run(tmp_path / "run")
    data = fx.write_dataset(run_dir, disk_budget=3 * 2**30)  # the jpeg store (2.9 GiB) fits, npy (39 GiB) not
    cli.summary(run_dir / "records.jsonl", data)
    printed = capsys.readouterr().out
    assert printed.startswith(f"plan for {data.line()}, 6 epochs:")
    for a in advice.recommend(tables.build(fx.make_records(), data)):
        assert a.winner is not None
        assert f"  {a.pattern}: {a.winner['name']}:" in printed
    # The crossover line pairs the fastest decoder with the fastest reader within the budget.
    assert printed.count("simplejpeg on ffmpeg-jpeg-q90 against torchcodec: extraction") == 2
    assert "ffmpeg-npy against" not in printed
    assert "left out: 2 strategies whose store does not fit the disk budget" in printed


def test_epochs_over_the_first_frames_of_each_video_are_scaled_to_the_whole_sample() -> None:
    # The sample's videos hold 192 frames; the epochs read the first 48 of each (96 in all): a
    # sequential epoch covers half the sample, uniform-k the same frames whatever the cap. (In the
    # main process: with workers, the capped clips are dealt to them otherwise than the whole.)
    def capped(pattern: str) -> Record:
        return Record(measure="epoch", loader="pyav", kind="decode", stack="main", profile="sample", pattern=pattern,
                      frames=100, seconds=[4.0], workers=0, cache="warm",
                      options={"frames_per_video": 48, "video_frames": 96})

    whole = _by_name(plan.project([dataclasses.replace(_epoch("pyav", "decode", [4.0], "warm"), workers=0)],
                                  _dataset()))
    first = _by_name(plan.project([capped("sequential")], _dataset()))
    name = "decode the videos with pyav"
    assert first[name].epoch_seconds == pytest.approx(2 * whole[name].epoch_seconds)
    uncapped = dataclasses.replace(capped("uniform-8"), options={})
    uniform = plan.project([capped("uniform-8")], _dataset())
    assert uniform[0].epoch_seconds == pytest.approx(plan.project([uncapped], _dataset())[0].epoch_seconds)


def test_the_range_spans_the_sampled_videos_of_each_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epochs_model, "REPEATS", 1.0)  # the range's other terms alone
    # Two sampled 720p videos, one three times as slow to decode as the other: the dataset's 1,000
    # frames of their class cost 1000 x 0.02 s (the median) against the sample's 200 x 0.02, and
    # its range runs from 1000 x 0.01 to 1000 x 0.03 against the same sample.
    classes = {HD: ClassSummary(10, 1000, 40.0, 500_000, {"1280x720": 1000})}
    measured = {"a": Video("/v/a.mp4", 50_000, 100, 4.0, 1280, 720, "h264"),
                "c": Video("/v/c.mp4", 50_000, 100, 4.0, 1280, 720, "h264")}
    data = Dataset("/v", classes, 0, measured, 10**12, 10**12, 10**15)
    recs = [_per_frame("pyav", "a", 100), _per_frame("pyav", "c", 100 / 3), _epoch("pyav", "decode", [4.0], "warm")]
    (pyav,) = plan.project(recs, data)
    assert pyav.epoch_seconds == pytest.approx(20.0)
    assert (pyav.epoch_seconds_low, pyav.epoch_seconds_high) == (pytest.approx(10.0), pytest.approx(30.0))


def test_sample_names_the_classes_it_could_not_cover() -> None:
    kinds = {"a": (640, 360, "h264"), "b": (1280, 720, "hevc"), "c": (1920, 1080, "vp9")}
    videos = [Video(f"/v/{c}{i}.mp4", 1, 10 * (i + 1), 25.0, w, h, codec)
              for c, (w, h, codec) in kinds.items() for i in range(3)]
    picked = dataset.sample(videos, 2, seed=0)
    assert len({v.video_class for v in picked}) == 2  # one video per class while N allows
    missing = dataset.uncovered(videos, picked)
    assert len(missing) == 1 and missing[0] not in {v.video_class for v in picked}
    assert dataset.uncovered(videos, dataset.sample(videos, 3, seed=0)) == []


def test_the_summary_keeps_each_length_so_clips_are_counted_per_video() -> None:
    from benchmarks.analysis import epochs

    videos = [Video(f"/v/{i}.mp4", 1, n, 25.0, 640, 360, "h264", keyframes=1) for i, n in enumerate((25, 37, 25, 5000))]
    (summary,) = dataset.summarize(videos).values()
    assert summary.lengths == {"25": 2, "37": 1, "5000": 1}
    assert dataset.length_bucket(12_345) == 12_000 and dataset.length_bucket(200) == 200
    assert sorted(epochs.lengths_of(summary)) == [(1, 37.0), (1, 5000.0), (2, 25.0)]


def _comparison(key: str, projected: float, low: float, high: float, measured: float) -> plan_accuracy.Comparison:
    return plan_accuracy.Comparison(key, projected, low, high, measured)


def test_plan_accuracy_compares_projected_with_measured() -> None:
    rows = plan_accuracy.compare({"a": (11.0, 9.0, 12.0), "b": (2.0, 1.5, 2.5), "c": (1.0, 1.0, 1.0)},
                                 {"a": 10.0, "b": 3.0, "d": 4.0})
    assert [r.key for r in rows] == ["a", "b"]  # only cases both sides have
    a, b = rows
    assert (a.ratio, a.held) == (pytest.approx(1.1), True)
    assert (b.ratio, b.error, b.held) == (pytest.approx(2 / 3), pytest.approx(1 / 3), False)


def test_plan_accuracy_winners_agree_per_group() -> None:
    rows = [_comparison("x/pyav", 5, 4, 6, 5), _comparison("x/npy", 1, 1, 2, 1),
            _comparison("y/pyav", 1, 1, 2, 3), _comparison("y/npy", 2, 1, 3, 1), _comparison("z/npy", 1, 1, 1, 1)]
    agree = plan_accuracy.winners_agree(rows, lambda k: str(k).split("/")[0])
    assert agree == {"x": True, "y": False}  # z has one case: no contest


def test_plan_accuracy_winner_gap_is_how_much_slower_the_projected_winner_measured() -> None:
    rows = [_comparison("x/pyav", 5, 4, 6, 5), _comparison("x/npy", 1, 1, 2, 1),
            _comparison("y/pyav", 1, 1, 2, 3), _comparison("y/npy", 2, 1, 3, 1.2),
            _comparison("y/jpeg", 4, 1, 5, 1.5), _comparison("z/npy", 1, 1, 1, 1)]
    gaps = plan_accuracy.winner_gaps(rows, lambda k: str(k).split("/")[0])
    # y: pyav projected fastest, measured 3 s against npy's 1.2: 2.5 times the fastest; x agrees, z no contest
    assert gaps == {"y": pytest.approx(2.5)}


def test_plan_accuracy_goals_pass_and_fail_on_their_limits() -> None:
    # Errors 0.05, 0.10, 0.25: median 10% (within 15%), worst 25% (within 30%); 2 of 3 ranges held.
    rows = [_comparison("a", 1.05, 1.0, 1.1, 1.0), _comparison("b", 1.1, 1.0, 1.2, 1.0),
            _comparison("c", 1.25, 1.2, 1.3, 1.0)]
    got = {g.name: g for g in plan_accuracy.goals(rows, {"p": True}, [0.95, 1.08], [1.25])}
    assert got["epoch, median case"].passed and got["epoch, worst case"].passed
    assert not got["range holds the measurement"].passed and "2 of 3" in got["range holds the measurement"].detail
    assert "median width x1.10" in got["range holds the measurement"].detail  # 1.1, 1.2 and 1.083
    assert got["same winner"].passed and got["disk"].passed
    assert not got["extraction"].passed  # 25% off, the goal is 20%
    assert got["extraction"].line().startswith("FAIL")
    nothing = {g.name: g for g in plan_accuracy.goals([], {}, [], [])}
    assert not any(g.passed for g in nothing.values())  # nothing measured proves nothing


def test_plan_accuracy_judges_each_run_s_own_estimate_either_way() -> None:
    within = plan_accuracy.estimate_goal([("full of clips", 50.0, 60.0), ("sample of clips", 30.0, 21.0)])
    assert within.passed and "2 of 2 runs within x1.5" in within.detail
    assert "the worst x1.43 (sample of clips: estimated 30 s, took 21 s)" in within.detail  # an estimate too high
    over = plan_accuracy.estimate_goal([("full of clips", 50.0, 60.0), ("sample+budget of mixed", 76.0, 125.0)])
    assert not over.passed and "1 of 2 runs" in over.detail and "x1.64 (sample+budget of mixed" in over.detail
    assert not plan_accuracy.estimate_goal([]).passed  # nothing kept proves nothing


def test_plan_accuracy_reuses_only_a_run_that_ran_to_its_end(tmp_path: Path) -> None:
    run = tmp_path / "full"
    run.mkdir()
    (run / "records.jsonl").write_text("")
    started = f"run full: records to {run / 'records.jsonl'}, stores in {tmp_path / 'stores-full'}\n"
    (tmp_path / "full.log").write_text("bench: 3/40 cells\n" + started)  # stopped after it started
    assert not plan_accuracy.finished(tmp_path, "full")
    (tmp_path / "full.log").write_text(started + "bench: 40/40 cells\n" + f"run full: {run / 'records.jsonl'}\n"
                                       + "  pattern  best strategy\n")
    assert plan_accuracy.finished(tmp_path, "full")
    assert not plan_accuracy.finished(tmp_path, "sample")  # no log, no records


def test_plan_accuracy_judges_a_measurement_taken_again_against_the_first() -> None:
    # The second measurement of each case stands where a projection would; long and short epochs apart.
    rows = plan_accuracy.repeated({"long": 12.0, "short": 0.05, "only-again": 1.0}, {"long": 10.0, "short": 0.1})
    assert [(r.key, r.ratio) for r in rows] == [("long", pytest.approx(1.2)), ("short", pytest.approx(0.5))]
    got = {g.name: g for g in plan_accuracy._repeat_goals(rows, [1.1])}
    assert "off by 50%" in got["epoch, worst case"].detail and not got["epoch, worst case"].passed
    long = got[f"epoch, worst case, epochs of {plan_accuracy.LONG_EPOCH:g} s or longer"]
    assert "off by 20%" in long.detail and long.passed
    assert got["extraction"].passed and "10%" in got["extraction"].detail
    assert not any("range" in name or "winner" in name for name in got)  # nothing projected: no range, no contest
    # How many moved by less than what a projection's range allows for it, either way.
    assert plan_accuracy.moved_within(rows, 1.25) == 1 and plan_accuracy.moved_within(rows, 2.0) == 2
    assert plan_accuracy.moved_within(rows, 1.1) == 0


def test_plan_accuracy_tells_runs_on_a_steady_machine_from_the_rest(tmp_path: Path) -> None:
    def anchor(when: str, fps: float) -> Record:
        return Record(measure="anchor", loader="pyav", kind="decode", stack="main", profile="a", pattern="sequential",
                      frames=100, seconds=[100 / fps], options={"anchor": when}, cell=f"anchor|main|{when}").with_fps()

    run = tmp_path / "run"
    run.mkdir()
    records.append(run / "records.jsonl", anchor("start", 900))
    records.append(run / "records.jsonl", anchor("end", 300))  # the machine three times slower at the end
    assert plan_accuracy.run_drift(run) == pytest.approx(3.0)
    assert plan_accuracy.steady(1.0, 1.1) and not plan_accuracy.steady(1.0, 3.0)
    assert not plan_accuracy.steady(1.0, None)  # a run without an anchor cannot show it held steady
    # The machine's pace in another run against this one's, where both timed the anchor on the same video.
    other = tmp_path / "other"
    other.mkdir()
    records.append(other / "records.jsonl", anchor("start", 400))
    records.append(other / "records.jsonl", anchor("end", 400))
    assert plan_accuracy.pace(other, run) == pytest.approx(400 / (900 * 300) ** 0.5)
    elsewhere = tmp_path / "elsewhere"  # its anchor on another video: no comparison
    elsewhere.mkdir()
    records.append(elsewhere / "records.jsonl", dataclasses.replace(anchor("start", 400), profile="b"))
    assert plan_accuracy.pace(elsewhere, run) is None


def test_plan_accuracy_judges_each_epoch_at_the_pace_of_the_run_that_projected_it(tmp_path: Path) -> None:
    def anchor(when: str, fps: float, video: str = "anchor-video") -> Record:
        return Record(measure="anchor", loader="pyav", kind="decode", stack="main", profile=video,
                      pattern="sequential", frames=100, seconds=[100 / fps], options={"anchor": when},
                      cell=f"anchor|main|{when}").with_fps()

    def epoch(pattern: str, seconds: float) -> Record:
        return Record(measure="epoch", loader="pyav", kind="decode", stack="main", profile="v", pattern=pattern,
                      frames=100, seconds=[seconds], workers=0, cache="warm", cell=f"epoch|{pattern}")

    def run(name: str, *recs: Record) -> Path:
        path = tmp_path / name
        path.mkdir()
        for r in recs:
            records.append(path / "records.jsonl", r)
        return path

    # The projection's run at a steady 100 frames/s; its truth at 100 for sequential, then half as
    # fast for random (the machine slowed between the two groups of epochs, as its anchors saw).
    sample = run("sample", anchor("start", 100), epoch("sequential", 1.0), anchor("after sequential", 100),
                 epoch("random", 2.0), anchor("end", 100))
    truth = run("truth", anchor("start", 100), epoch("sequential", 4.0), anchor("after sequential", 100),
                epoch("random", 8.0), anchor("end", 25))
    video, at = plan_accuracy.paces(truth)
    key = ("random", "pyav", None, 0, "warm", "main")
    assert video == "anchor-video" and at[key] == pytest.approx(50)
    assert at[("sequential", *key[1:])] == pytest.approx(100)
    both = plan_accuracy.paced_runs(sample, truth)
    assert both is not None
    rows = plan_accuracy.compare({k: (v * 1.0, v * 0.8, v * 1.2) for k, v in {
        ("sequential", *key[1:]): 4.0, key: 4.0}.items()}, plan_accuracy.measured_epochs(truth))
    assert [r.ratio for r in rows] == [pytest.approx(1.0), pytest.approx(0.5)]  # random: off by half, missed
    paced = plan_accuracy.at_pace(rows, *both)
    # at the sample's pace (100), the truth's random epoch would have taken 8 x 50 / 100 = 4 s: held
    assert [(r.measured, r.held) for r in paced] == [(pytest.approx(4.0), True), (pytest.approx(4.0), True)]
    assert not rows[1].held
    # Anchors on two videos cannot be compared: no pace.
    other = run("other", anchor("start", 100, video="elsewhere"), epoch("random", 2.0), anchor("end", 100, "elsewhere"))
    assert plan_accuracy.paced_runs(other, truth) is None
    # A case one side has no pace for is left out, not judged at pace 1.
    [alone] = plan_accuracy.at_pace(rows, {key: 100.0}, both[1])
    assert alone.key == key and alone.measured == pytest.approx(4.0)


def test_plan_accuracy_names_a_truth_whose_own_order_dealt_its_workers_unequal_work(tmp_path: Path) -> None:
    # uniform-8 over two videos, one 720p and one 360p, in batches of 1 for 2 workers: each worker
    # reads one video, so by their samples both were busy, but by the work the 720p one's worker
    # held 4 times the other's: 1.25 workers busy, and the epoch lasted as long as the busier one.
    run = tmp_path / "full"
    run.mkdir()
    _dataset().save(run)

    def epoch(loader: str, kind: str, workers: int, batch: int) -> Record:
        return Record(measure="epoch", loader=loader, kind=kind, stack="main", profile="sample", pattern="uniform-8",
                      frames=16, seconds=[1.0], workers=workers, batch_size=batch, cache="warm", env={"cores": 2},
                      options={"samples": 2, "pattern": {"k": 8}}, cell=f"epoch|{loader}|{workers}|{batch}")

    for r in (epoch("npy", "frames", 2, 1), epoch("npy", "frames", 0, 1), epoch("npy", "frames", 2, 2)):
        records.append(run / "records.jsonl", r)
    got = plan_accuracy.dealt_unevenly(run)
    big, small = epochs_model.megapixels(1280, 720, None), epochs_model.megapixels(640, 360, None)
    assert got == {("uniform-8", "npy", None, 2, "warm", "main"): (pytest.approx((big + small) / big), 2.0)}
    # Workers 0, and one batch of both videos (one worker busy either way), are not named.


def test_a_run_past_its_budget_starts_no_new_case_and_names_what_it_skipped(tiny_videos: dict[str, Path],
                                                                            tmp_path: Path) -> None:
    import json
    import shutil
    import subprocess
    import sys
    import time

    from benchmarks import budget, records

    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(tiny_videos["tiny-h264-odd"], videos / "clip.mp4")
    root = Path(__file__).resolve().parent.parent
    # The whole bench's deadline passed a second ago (as `nox -s bench -- --budget` sets it).
    env = {**os.environ, "VIDBENCH_CACHE_DIR": str(tmp_path / "cache"), "VIDBENCH_STACK": "main",
           "PYTHONPATH": str(root), budget.DEADLINE_ENV: str(time.time() - 1), budget.STACKS_LEFT_ENV: "2"}
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--videos", str(videos), "--out", str(tmp_path / "results"),
         "--run-id", "r", "--loaders", "pyav,npy", "--formats", "npy", "--patterns", "uniform-k", "--min-time", "0",
         "--min-rounds", "1", "--warmup", "0", "--epochs", "1", "--workers", "0", "--frames", "2", "--size", "32",
         "--store-sizes", "full", "--gops", "", "--cache", "warm"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    assert "past the budget: 5 steps not started (extraction ffmpeg-npy, open pyav-clip" in run.stdout
    path = tmp_path / "results" / "r" / "records.jsonl"
    assert not path.exists() or [r for r in records.read(path) if r.status == "ok"] == []  # nothing started
    budgets = json.loads((tmp_path / "results" / "r" / "run.json").read_text())["budgets"]  # the run's manifest
    assert "past the budget: 5 steps not started" in budgets["main"]


def test_the_deadline_comes_from_the_environment() -> None:
    from benchmarks import budget

    assert budget.deadline_from_env({}) == (None, 1)
    assert budget.deadline_from_env({budget.DEADLINE_ENV: "1700000000", budget.STACKS_LEFT_ENV: "3"}) == \
        (1_700_000_000.0, 3)
    with pytest.raises(SystemExit, match="VIDBENCH_DEADLINE"):
        budget.deadline_from_env({budget.DEADLINE_ENV: "tomorrow"})
    line = budget.skipped_line([f"step {i}" for i in range(8)], shown=2)
    assert line.startswith("past the budget: 8 steps not started (step 0, step 1 and 6 more)")


def test_plan_accuracy_labels_every_epoch_case_the_plan_keys() -> None:
    epoch = _epoch("npy", "frames", [1.0], "warm", extractor="ffmpeg", format="npy")
    key = plan.epoch_key(epoch)
    assert plan_accuracy.label(key) == "sequential w2 warm npy@ffmpeg-npy"
    assert plan_accuracy.label(plan.epoch_key(dataclasses.replace(epoch, stack="pillow-simd"))).endswith(
        " [pillow-simd]")
    assert plan_accuracy._group(key) == ("sequential", 2, "warm")  # pattern, workers and cache


def test_plan_accuracy_generates_every_clip_of_a_large_shape_and_says_why_one_fails(tmp_path: Path) -> None:
    # 22 clips: a noise strength that grew with the clip's number passed FFmpeg's 100 at the 19th.
    many = plan_accuracy.Shape((plan_accuracy.Clip("c", "64x48", 0.2, "libx264", 1, 22),), 2)
    plan_accuracy.generate(tmp_path / "many", many)
    made = sorted((tmp_path / "many").iterdir())
    assert len(made) == 22 and all(p.stat().st_size > 0 and not p.name.startswith(".") for p in made)
    assert len({p.read_bytes() for p in made}) == 22  # no two alike
    bad = plan_accuracy.Shape((plan_accuracy.Clip("x", "64x48", 0.2, "no-such-encoder", 1, 1),), 1)
    with pytest.raises(SystemExit, match=r"cannot generate .*x-0\.mp4 with FFmpeg"):
        plan_accuracy.generate(tmp_path / "bad", bad)
    assert list((tmp_path / "bad").iterdir()) == []  # nothing half-written left to be taken for a video
