"""Every loader vidbench knows: name -> :class:`Entry` (kind, module, class, default options).

A backend's module imports its library at the top, so importing the module is the test of
whether the backend is usable here; a failure becomes the reason ``available()`` gives.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from loaders.base import Source
from loaders.errors import BackendUnavailable
from loaders.vocabulary import BASELINE, DECODE, FRAMES


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered loader, read by field name."""

    kind: str  # DECODE (reads a video file) or FRAMES (reads an extracted frame store)
    module: str
    cls: str  # the Source subclass in ``module``
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # options open() passes
    uses: tuple[str, ...] = ()  # the libraries whose build a dependency stack swaps (see STACK_SWAPS)
    stack: str = "main"  # the dependency stack (one nox environment) whose libraries it needs
    note: str = ""  # what a report says about it beyond its name
    # Decodes on a CUDA device: needs one and its library, is measured with --device cuda, and no
    # dependency stack must have it (VIDBENCH_REQUIRE_ALL=1 does not demand a GPU).
    gpu: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def takes_threads(self) -> bool:
        """Whether the loader has a ``threads`` option (FFmpeg's), which the epoch runner sets."""
        return "threads" in self.defaults


_FFMPEG_THREADS = {"threads": 0}

REGISTRY: dict[str, Entry] = {
    "cv2-seek": Entry(
        DECODE,
        "loaders.cv2_seek",
        "Cv2SeekSource",
        _FFMPEG_THREADS,
        note="seeks before every frame but the one right after the last read: the per-frame-seek worst case",
    ),
    "cv2-grab": Entry(DECODE, "loaders.cv2_grab", "Cv2GrabSource", _FFMPEG_THREADS),
    "pyav": Entry(DECODE, "loaders.pyav", "PyAVSource", _FFMPEG_THREADS),
    "torchcodec": Entry(DECODE, "loaders.torchcodec", "TorchCodecSource", _FFMPEG_THREADS),
    "decord": Entry(DECODE, "loaders.decord", "DecordSource", _FFMPEG_THREADS),
    # torchvision.io (<= 0.25 only): in the "torchvision" stack; see loaders/torchvision.py.
    "torchvision-read_video": Entry(DECODE, "loaders.torchvision", "ReadVideoSource", stack="torchvision"),
    "torchvision-videoreader": Entry(DECODE, "loaders.torchvision", "VideoReaderSource", stack="torchvision"),
    # The benchmarks' baseline: black frames from a preallocated array (never exact, never verified).
    BASELINE: Entry(DECODE, "loaders.null", "NullSource", note="harness overhead: no decoding"),
    # Frame readers: a store written by loaders.extract (see loaders/store.py).
    "pil": Entry(FRAMES, "loaders.pil", "PilSource", uses=("PIL",)),
    "cv2-imread": Entry(FRAMES, "loaders.cv2_imread", "Cv2ImreadSource"),
    "simplejpeg": Entry(FRAMES, "loaders.simplejpeg", "SimpleJpegSource"),
    "npy": Entry(FRAMES, "loaders.npy", "NpySource"),
    "tar": Entry(FRAMES, "loaders.tar", "TarSource", uses=("PIL",)),
    # On a CUDA device (see docs/gpu.md): frames decoded there and left there by get_tensors.
    "nvdec": Entry(DECODE, "loaders.nvdec", "NvdecSource", gpu=True, note="NVDEC through PyNvVideoCodec"),
    "nvjpeg": Entry(FRAMES, "loaders.nvjpeg", "NvjpegSource", gpu=True, note="nvJPEG through torchvision"),
    "dali": Entry(FRAMES, "loaders.dali", "DaliSource", gpu=True, note="nvJPEG through NVIDIA DALI (optional)"),
}

# A stack that swaps a library's build for another (Pillow-SIMD is PIL) measures only the
# loaders that use it: the others would time identical code again and show noise as a difference.
STACK_SWAPS: dict[str, str] = {"pillow-simd": "PIL"}


def stacks_of(registry: Mapping[str, Entry]) -> dict[str, list[str]]:
    """Which loaders each dependency stack (one nox environment each) must be able to run, derived
    from the entries, so a new loader joins its stack with its registry line. A stack that swaps a
    library holds the loaders that use it (pillow-simd: pil and tar); the baseline is in none."""

    def holds(stack: str, name: str, entry: Entry) -> bool:
        return name != BASELINE and not entry.gpu and (entry.stack == stack or STACK_SWAPS.get(stack) in entry.uses)

    names = sorted({e.stack for e in registry.values()} | set(STACK_SWAPS))  # by name: main first
    return {stack: [n for n, e in registry.items() if holds(stack, n, e)] for stack in names}


# Tests use it to tell "missing here by design" from "missing by accident" (VIDBENCH_REQUIRE_ALL=1).
STACKS: dict[str, list[str]] = stacks_of(REGISTRY)


def gpu_names() -> list[str]:
    """The loaders that decode on a CUDA device (no dependency stack must have them)."""
    return [n for n, entry in REGISTRY.items() if entry.gpu]


def current_stack() -> str:
    """The dependency stack this process runs in (``$VIDBENCH_STACK``, default "main")."""
    return os.environ.get("VIDBENCH_STACK", "main")


_reasons: dict[str, str | None] = {}


def loader_class(name: str) -> type[Source]:
    """The class behind a registered loader (importing its module: the test of availability)."""
    entry = REGISTRY[name]
    cls: type[Source] = getattr(importlib.import_module(entry.module), entry.cls)
    return cls


def _why_not(name: str) -> str | None:
    if name not in _reasons:
        try:
            loader_class(name)
            _reasons[name] = None
        except Exception as exc:  # noqa: BLE001 - any import failure means "unavailable", with its text
            text = str(exc).strip().splitlines()
            _reasons[name] = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
    return _reasons[name]


def available() -> dict[str, str | None]:
    """Every registered loader -> ``None`` if usable in this environment, else why not."""
    return {name: _why_not(name) for name in REGISTRY}


def names(kind: str | None = None) -> list[str]:
    """Registered loader names, all of them or those of one kind ("decode" or "frames")."""
    return [n for n, entry in REGISTRY.items() if kind is None or entry.kind == kind]


def open(name: str, path: str | os.PathLike[str], **options: Any) -> Source:  # noqa: A001
    """Open ``path`` with loader ``name``; options override the registry's defaults."""
    if name not in REGISTRY:
        raise BackendUnavailable(path, f"unknown loader {name!r}; known: {', '.join(REGISTRY)}")
    reason = _why_not(name)
    if reason is not None:
        raise BackendUnavailable(path, f"loader {name!r} is unavailable: {reason}")
    merged = {**REGISTRY[name].defaults, **options}
    return loader_class(name)(path, **merged)
