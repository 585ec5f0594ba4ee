"""Frames on the GPU: the GPU loaders' availability, get_tensors, and epochs that end on a CUDA device.

Without a CUDA device the GPU loaders are registered and unavailable with their reason, and
the ``--device cuda`` code path runs with CUDA mocked (torch.cuda.is_available, the tensor's
``pin_memory`` and ``to``, ``torch.cuda.synchronize``, the DataLoader's pinning). With a device,
the real path runs instead and the mocked tests skip, saying so; the device check
(``python -m benchmarks.gpu_check``) measures the rest.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import conftest
import numpy as np
import pytest
import torch
from conftest import require_loader

import loaders
from benchmarks import cli, core, runner, verify
from benchmarks.patterns import Sample
from benchmarks.spec import Target
from loaders import cuda, reference, registry
from loaders.base import Source
from loaders.cuda import OnDevice, device_missing
from loaders.vocabulary import DECODE

GPU = registry.gpu_names()
NO_DEVICE = device_missing()
needs_no_device = pytest.mark.skipif(NO_DEVICE is None, reason="a CUDA device is present: the real path runs instead")
needs_device = pytest.mark.skipif(NO_DEVICE is not None, reason=f"needs a CUDA device: {NO_DEVICE}")
INDICES = [5, 0, 5, 17, 3]
CLIPS = [(0, 1, 2), (3, 4, 5), (10, 11, 12), (20, 21, 22)]


def test_gpu_loaders_are_registered_and_in_no_stack() -> None:
    assert set(GPU) >= {"nvdec", "nvjpeg", "dali"}
    assert loaders.REGISTRY["nvdec"].kind == "decode" and loaders.REGISTRY["nvjpeg"].kind == "frames"
    for stack, names in loaders.STACKS.items():
        assert not set(GPU) & set(names), f"the {stack} stack would demand a GPU"


@needs_no_device
def test_without_cuda_every_gpu_loader_is_unavailable_with_its_reason(tmp_path: Path) -> None:
    reasons = loaders.available()
    for name in GPU:
        reason = reasons[name]
        assert reason is not None and "no CUDA device" in reason, (name, reason)
        with pytest.raises(loaders.BackendUnavailable, match=f"loader '{name}' is unavailable: .*no CUDA device"):
            loaders.open(name, tmp_path)
    # Each names its own library when that is missing too (here: no PyNvVideoCodec, no DALI).
    assert "PyNvVideoCodec" in str(reasons["nvdec"]) or _imports("PyNvVideoCodec")
    assert "nvidia.dali" in str(reasons["dali"]) or _imports("nvidia.dali")


def test_a_library_failing_at_import_in_any_way_is_named_with_its_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyNvVideoCodec raises RuntimeError (not ImportError) when the driver has no video libraries.
    (tmp_path / "vidbench_fake_codec.py").write_text('raise RuntimeError("libnvidia-encode.so.1: cannot open\\nmore")')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cuda, "device_missing", lambda: None)
    with pytest.raises(loaders.BackendUnavailable) as caught:
        cuda.require("vidbench_fake_codec", "vidbench_absent_codec")
    assert caught.value.cause == ("vidbench_fake_codec does not import: libnvidia-encode.so.1: cannot open; "
                                  "no module named vidbench_absent_codec")


def _imports(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_require_all_does_not_demand_a_gpu_but_still_demands_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "REQUIRE_ALL", True)
    reasons = {**loaders.available(), "nvdec": "no CUDA device: mocked", "pyav": "no module named av: mocked"}
    monkeypatch.setattr(loaders, "available", lambda: reasons)
    with pytest.raises(pytest.skip.Exception, match="GPU loader 'nvdec' .*exempt from VIDBENCH_REQUIRE_ALL.*mocked"):
        require_loader("nvdec")
    if loaders.current_stack() == "main":  # the exemption is the GPU's alone: a stack's loader still fails
        with pytest.raises(pytest.fail.Exception, match="VIDBENCH_REQUIRE_ALL=1 and loader 'pyav' unavailable"):
            require_loader("pyav")


def _cpu_loaders(kind: str) -> list[str]:
    return [n for n in loaders.STACKS[loaders.current_stack()] if loaders.REGISTRY[n].kind == kind]


@pytest.mark.parametrize("name", _cpu_loaders(DECODE))
def test_get_tensors_on_the_cpu_equals_get_frames(name: str, tiny_videos: dict[str, Path]) -> None:
    require_loader(name)
    with loaders.open(name, tiny_videos["tiny-h264-bframes"]) as src:
        frames = src.get_frames(INDICES)
        tensors = src.get_tensors(INDICES, "cpu")
        empty = src.get_tensors([], "cpu")
    assert tensors.device.type == "cpu" and tensors.dtype == torch.uint8
    assert np.array_equal(tensors.numpy(), frames)
    assert tuple(empty.shape) == (0, src.height, src.width, 3)


@pytest.mark.parametrize("fmt", ["jpeg", "npy"])
def test_get_tensors_of_a_frame_reader_equals_get_frames(fmt: str, tiny_videos: dict[str, Path],
                                                         tmp_path: Path) -> None:
    reader = {"jpeg": "pil", "npy": "npy"}[fmt]
    require_loader(reader)
    store = tmp_path / fmt
    loaders.extract(tiny_videos["tiny-h264-odd"], store, format=fmt, extractor="pyav")
    with loaders.open(reader, store) as src:
        assert np.array_equal(src.get_tensors(INDICES).numpy(), src.get_frames(INDICES))
        with pytest.raises(loaders.FrameIndexError, match="out of range"):
            src.get_tensors([0, src.num_frames])


class _Calls:
    """What the mocked CUDA calls saw."""

    def __init__(self) -> None:
        self.pinned = 0
        self.to: list[tuple[torch.device, bool]] = []
        self.synchronized = 0
        self.loaders: list[dict[str, Any]] = []


@pytest.fixture
def mocked_cuda(monkeypatch: pytest.MonkeyPatch) -> _Calls:
    """torch as if it had a CUDA device: tensors 'move' by staying where they are, and say where
    they were asked to go."""
    if NO_DEVICE is None:
        pytest.skip("a CUDA device is present: the real path runs instead")
    calls = _Calls()

    def pin_memory(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        calls.pinned += 1
        return self

    real_to = torch.Tensor.to

    def to(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        target = args[0] if args else kwargs.get("device")
        if isinstance(target, str | torch.device) and torch.device(target).type == "cuda":
            calls.to.append((torch.device(target), bool(kwargs.get("non_blocking"))))
            return self
        return real_to(self, *args, **kwargs)

    def synchronize(device: Any = None) -> None:
        calls.synchronized += 1

    class RecordingLoader(torch.utils.data.DataLoader):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            calls.loaders.append(dict(kwargs))
            kwargs["pin_memory"] = False  # pinning needs a device; that it was asked for is what counts
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", synchronize)
    monkeypatch.setattr(torch.Tensor, "pin_memory", pin_memory)
    monkeypatch.setattr(torch.Tensor, "to", to)
    monkeypatch.setattr(runner, "DataLoader", RecordingLoader)
    return calls


def test_a_cpu_loader_pins_and_copies_without_blocking(mocked_cuda: _Calls, tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    with loaders.open("pyav", tiny_videos["tiny-h264-bframes"]) as src:
        got = src.get_tensors(INDICES, "cuda")
        assert np.array_equal(got.numpy(), src.get_frames(INDICES))
    assert mocked_cuda.pinned == 1 and mocked_cuda.to == [(torch.device("cuda"), True)]


def _dataset(video: Path, loader: str, device: str) -> runner.SampleDataset:
    samples = [Sample(str(video), c) for c in CLIPS]
    return runner.SampleDataset(loader, samples, {str(video): video}, size=32, device=device)


def test_cpu_loader_epochs_end_on_the_device_through_pinned_batches(mocked_cuda: _Calls,
                                                                   tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    result = runner.run(_dataset(tiny_videos["tiny-h264-bframes"], "pyav", "cuda"), workers=2, batch_size=2, epochs=2)
    assert [kw["pin_memory"] for kw in mocked_cuda.loaders] == [True, True]
    assert [kw["num_workers"] for kw in mocked_cuda.loaders] == [2, 2]
    # Every batch's frames went to the device without blocking; each epoch waited for them.
    assert mocked_cuda.to == [(torch.device("cuda"), True)] * 4
    assert mocked_cuda.synchronized == 2
    assert (result.device, result.workers, result.frames) == ("cuda", 2, 12)


class FakeGpuSource(Source):
    """A GPU loader for the mocked path: pyav's frames, from get_tensors, saying which device was asked."""

    kind = "decode"
    device = "cuda"
    library = "fake 1.0"
    asked: list[str] = []

    def __init__(self, path: Any, **options: Any) -> None:
        super().__init__(path, **options)
        self._src = loaders.open("pyav", path)
        self.num_frames, self.fps = self._src.num_frames, self._src.fps
        self.width, self.height = self._src.width, self._src.height

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return self._src.get_frames(indices)

    def get_tensors(self, indices: Any, device: Any = None) -> torch.Tensor:
        FakeGpuSource.asked.append(str(device))
        return torch.from_numpy(self.get_frames(indices))

    def close(self) -> None:
        self._src.close()


def test_gpu_loader_epochs_decode_in_the_main_process(mocked_cuda: _Calls, tiny_videos: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    require_loader("pyav")
    monkeypatch.setitem(loaders.REGISTRY, "fake-gpu", registry.Entry(DECODE, __name__, "FakeGpuSource", gpu=True))
    monkeypatch.setattr(registry, "_reasons", {})
    FakeGpuSource.asked = []
    result = runner.run(_dataset(tiny_videos["tiny-h264-bframes"], "fake-gpu", "cuda"), workers=4, batch_size=2)
    assert [(kw["num_workers"], kw["pin_memory"]) for kw in mocked_cuda.loaders] == [(0, False)]
    assert FakeGpuSource.asked == ["cuda"] * len(CLIPS)  # the frames were asked for on the device
    assert mocked_cuda.synchronized == 1 and result.workers == 0
    # The epoch record says so: no workers, the device, in its own cell.
    case = core.EpochCase(Target("fake-gpu", DECODE), _pattern(), 4, "c", 2, 32, None, "cuda")
    assert case.workers_run == 0 and case.cell.endswith("|cuda")
    assert case.identity().options["device"] == "cuda" and case.identity().workers == 0


def _pattern() -> Any:
    from benchmarks import patterns

    return patterns.parse(["random-clip"], 3, [1], 4, 0, 2)[0]


def test_cuda_device_adds_the_gpu_loaders_to_a_run() -> None:
    stack = loaders.current_stack()
    assert not set(GPU) & set(core.loader_names(None, stack))
    assert set(GPU) <= set(core.loader_names(None, stack, "cuda"))
    assert core.loader_names(["pyav"], stack, "cuda") == ["pyav"]  # asked for: only those


@needs_no_device
def test_device_cuda_without_a_device_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--device", "cuda", "--quick", "--out", str(tmp_path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--device cuda: no CUDA device" in err
    assert not any(tmp_path.iterdir())  # nothing was written


@needs_no_device
def test_epochs_on_cuda_without_a_device_refuse_to_start(tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        runner.run(_dataset(tiny_videos["tiny-h264-bframes"], "pyav", "cuda"), workers=0, batch_size=2)


# -- with a real device (skipped here, run by the device check's machine) ---------------------------


@needs_device
@pytest.mark.parametrize("name", ["nvdec"])
@pytest.mark.parametrize("profile", ["tiny-h264-bframes", "tiny-h264-longgop", "tiny-h264-odd"])
def test_nvdec_reads_the_right_frames(name: str, profile: str, tiny_videos: dict[str, Path]) -> None:
    require_loader(name)
    path = tiny_videos[profile]
    ref = reference.decode(path)
    asked = [ref.num_frames - 1, 0, 7, 7, 3]
    with loaders.open(name, path) as src:
        assert src.num_frames == ref.num_frames
        verdict = _verdict(src.get_frames(asked), asked, ref)
        on_device = src.get_tensors(asked, "cuda")
    assert verdict.wrong is None, verdict.label()
    assert on_device.device.type == "cuda" and on_device.shape == (len(asked), ref.height, ref.width, 3)


@needs_device
@pytest.mark.parametrize(("profile", "why"), [("tiny-hevc", r"decodes hevc .* from 144x144 .* this video is 208x120"),
                                              ("tiny-h264-offset-vfr", "h264 in Matroska/WebM")])
def test_nvdec_refuses_what_it_would_misread(profile: str, why: str, tiny_videos: dict[str, Path]) -> None:
    require_loader("nvdec")
    with pytest.raises(loaders.UnsupportedVideo, match=why):
        loaders.open("nvdec", tiny_videos[profile])


# -- nvdec's refusals, with PyNvVideoCodec stood in for (it needs a device to import) -------------
class _Chroma420(int):
    def __new__(cls) -> _Chroma420:
        return super().__new__(cls, 1)

    def __str__(self) -> str:
        return "cudaVideoChromaFormat.420"


class _FakeNvc(types.ModuleType):
    """What loaders.nvdec uses of PyNvVideoCodec before decoding, with the capabilities an H100 gave."""

    __version__ = "stand-in"
    CAPS = {4: dict(supported=1, width_min=48, height_min=16, width_max=4096, height_max=4096),  # H.264
            8: dict(supported=1, width_min=144, height_min=144, width_max=8192, height_max=8192),  # HEVC
            11: dict(supported=0, width_min=0, height_min=0, width_max=0, height_max=0)}  # AV1
    CODECS = {"h264": 4, "hevc": 8, "av1": 11}

    def __init__(self) -> None:
        super().__init__("PyNvVideoCodec")
        self.asked = 0

    def CreateDemuxer(self, filename: str) -> Any:  # noqa: N802 - PyNvVideoCodec's name
        from loaders.probe import probe

        info = probe(filename)
        codec = self.CODECS[info.codec]
        return types.SimpleNamespace(GetNvCodecId=lambda: codec, ChromaFormat=lambda: _Chroma420(), BitDepth=lambda: 8,
                                     Width=lambda: info.width, Height=lambda: info.height)

    def GetDecoderCaps(self, gpuid: int, codec: int, chromaformat: int, bitdepth: int) -> dict[str, int]:  # noqa: N802
        self.asked += 1
        return self.CAPS[codec]


@pytest.fixture()
def nvdec_stand_in(monkeypatch: pytest.MonkeyPatch) -> Any:
    import importlib
    import sys

    fake = _FakeNvc()
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", fake)
    monkeypatch.setattr(cuda, "device_missing", lambda: None)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda gpu=None: "NVIDIA H100 (stand-in)")
    monkeypatch.delitem(sys.modules, "loaders.nvdec", raising=False)
    module = importlib.import_module("loaders.nvdec")
    yield module, fake
    sys.modules.pop("loaders.nvdec", None)


def test_nvdec_checks_its_gpus_limits_before_decoding(nvdec_stand_in: Any, tiny_videos: dict[str, Path]) -> None:
    nvdec, fake = nvdec_stand_in
    with pytest.raises(loaders.UnsupportedVideo, match=r"tiny-hevc.*NVDEC on this GPU \(NVIDIA H100 \(stand-in\)\) "
                                                       r"decodes hevc \(8-bit 4:2:0\) from 144x144 to 8192x8192; "
                                                       r"this video is 208x120"):
        nvdec._check_decodable(str(tiny_videos["tiny-hevc"]), "hevc", 0)
    with pytest.raises(loaders.UnsupportedVideo, match=r"does not decode av1"):
        nvdec._check_decodable(str(tiny_videos["tiny-av1"]), "av1", 0)
    nvdec._check_decodable(str(tiny_videos["tiny-h264-odd"]), "h264", 0)  # 202x118 H.264: within its limits
    nvdec._check_decodable(str(tiny_videos["tiny-h264-bframes"]), "h264", 0)
    assert fake.asked == 3  # the capabilities are asked once per codec


def test_nvdec_refuses_matroska_before_opening_a_decoder(nvdec_stand_in: Any, tiny_videos: dict[str, Path]) -> None:
    nvdec, fake = nvdec_stand_in
    with pytest.raises(loaders.UnsupportedVideo, match=r"h264 in Matroska/WebM.*ffmpeg -i IN -c copy OUT\.mp4"):
        nvdec.NvdecSource(tiny_videos["tiny-h264-offset-vfr"])
    assert fake.asked == 0


@needs_device
def test_nvjpeg_reads_the_right_frames(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    require_loader("nvjpeg")
    path = tiny_videos["tiny-h264-odd"]
    loaders.extract(path, tmp_path / "jpeg", format="jpeg", extractor="pyav")
    ref = reference.decode(path)
    asked = [ref.num_frames - 1, 0, 7, 7, 3]
    with loaders.open("nvjpeg", tmp_path / "jpeg") as src:
        verdict = _verdict(src.get_frames(asked), asked, ref)
        assert src.get_tensors(asked).device.type == "cuda"
    assert verdict.wrong is None, verdict.label(lossy=True)


def _verdict(got: np.ndarray, asked: list[int], ref: reference.Reference) -> verify.Verdict:
    frames = {i: f[::2, ::2].astype(np.int16) for i, f in ref.frames.items()}
    return verify.check(got, asked, frames)


@needs_device
def test_real_epochs_end_on_the_device(tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    result = runner.run(_dataset(tiny_videos["tiny-h264-bframes"], "pyav", "cuda"), workers=2, batch_size=2)
    assert result.device.startswith("cuda") and result.frames == 12


def test_device_check_verifies_and_summarises(monkeypatch: pytest.MonkeyPatch, tiny_videos: dict[str, Path],
                                              tmp_path: Path) -> None:
    """The check's verification and summary, with CPU loaders standing in for the GPU ones (the
    GPU loaders' own run needs a device: the check itself, on a GPU machine)."""
    from benchmarks import gpu_check

    require_loader("pyav")
    require_loader("pil")
    monkeypatch.setattr(gpu_check, "GPU_DECODE", ["pyav", "decord"])
    monkeypatch.setattr(gpu_check, "GPU_FRAMES", ["pil"])
    reasons = {**loaders.available(), "decord": "no module named decord: mocked"}
    monkeypatch.setattr(loaders, "available", lambda: reasons)
    videos = {"bframes": tiny_videos["tiny-h264-bframes"], "odd": tiny_videos["tiny-h264-odd"]}
    verified = gpu_check.verify_all(videos, tmp_path, "pyav")
    assert verified["unavailable"] == {"decord": "no module named decord: mocked"}
    for name in videos:
        row = verified["videos"][name]
        assert row["pyav"]["status"] == "exact" and row["pyav"]["frames"] > row["frames"]  # all, and repeats
        assert row["pil"]["status"] in ("exact", "right") and row["pil"]["vs_libjpeg"]["max_diff"] == 0
        assert "decord" not in row
    assert gpu_check.failed(verified) == []
    text = gpu_check.summary(tmp_path, verified, None)
    assert "| bframes | 75 | 208x120 | pyav | exact |" in text and "decord: unavailable: no module named" in text
    # A wrong frame fails the check, naming the video and the loader.
    verified["videos"]["odd"]["pyav"] = {"status": "wrong", "label": "WRONG: frame 3 is closer to frame 4"}
    assert gpu_check.failed(verified) == ["odd: pyav: WRONG: frame 3 is closer to frame 4"]


def test_device_check_asks_for_every_frame_with_jumps_back_and_repeats() -> None:
    from benchmarks import gpu_check

    for n in (1, 2, 7, 75, 250):
        asked = gpu_check.order(n)
        assert set(asked) == set(range(n))
        assert len(asked) > n
        assert n == 1 or any(b < a for a, b in zip(asked, asked[1:], strict=False))  # one frame cannot go back


def test_records_carry_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from benchmarks import env

    if NO_DEVICE is not None:
        assert env.gpu() is None
        props = SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 << 30, major=9, minor=0)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
        monkeypatch.setattr(env, "_first_line", lambda cmd: "550.54.15" if cmd[0] == "nvidia-smi" else None)
    gpu = env.gpu()
    assert gpu is not None and gpu["name"] and gpu["driver"] and gpu["memory_bytes"] > 0
    if NO_DEVICE is not None:
        assert (gpu["name"], gpu["driver"], gpu["capability"]) == ("NVIDIA H100 80GB HBM3", "550.54.15", "9.0")


class _FakeDevice(OnDevice, Source):
    """The GPU loaders' shared part over a fake decoder on the CPU: frame i is filled with i."""

    kind, num_frames, fps, width, height, rotation = DECODE, 10, 10.0, 4, 2, 0
    stream = 0

    def __init__(self, path: Any) -> None:
        super().__init__(path)
        self._device = torch.device("cpu")
        self.decoded: list[list[int]] = []

    def _decode(self, ascending: np.ndarray) -> Any:
        self.decoded.append([int(i) for i in ascending])
        return torch.stack([torch.full((self.height, self.width, 3), int(i), dtype=torch.uint8) for i in ascending])


def test_the_gpu_loaders_shared_part_gathers_in_the_order_asked_and_decodes_each_frame_once(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"")
    src = _FakeDevice(tmp_path / "v.mp4")
    frames = src.get_frames([7, 2, 7, 0])
    assert frames.shape == (4, 2, 4, 3) and [int(f[0, 0, 0]) for f in frames] == [7, 2, 7, 0]
    assert src.decoded == [[0, 2, 7]]  # the distinct frames once, ascending
    tensors = src.get_tensors([3, 3], "cpu")
    assert isinstance(tensors, torch.Tensor) and tensors.device.type == "cpu" and tensors[:, 0, 0, 0].tolist() == [3, 3]
    assert src.get_tensors([]).shape == (0, 2, 4, 3)
    with pytest.raises(loaders.FrameIndexError):  # Source's index check, not shadowed by the mix-in
        src.get_tensors([10])
