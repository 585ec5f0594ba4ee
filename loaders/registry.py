"""Every loader vidbench knows: name -> (kind, module, class, default options).

A backend's module imports its library at the top, so importing the module is the test of
whether the backend is usable here; a failure becomes the reason ``available()`` gives.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from loaders.base import Source
from loaders.errors import BackendUnavailable

REGISTRY: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "cv2-seek": ("decode", "loaders.cv2_seek", "Cv2SeekSource", {"threads": 0}),
    "cv2-grab": ("decode", "loaders.cv2_grab", "Cv2GrabSource", {"threads": 0}),
    "pyav": ("decode", "loaders.pyav", "PyAVSource", {"threads": 0}),
    "torchcodec": ("decode", "loaders.torchcodec", "TorchCodecSource", {"threads": 0}),
    "decord": ("decode", "loaders.decord", "DecordSource", {"threads": 0}),
    # torchvision.io (<= 0.25 only): in the "torchvision" stack; see loaders/torchvision.py.
    "torchvision-read_video": ("decode", "loaders.torchvision", "ReadVideoSource", {}),
    "torchvision-videoreader": ("decode", "loaders.torchvision", "VideoReaderSource", {}),
    # The benchmarks' baseline: black frames from a preallocated array (never exact, never verified).
    "null": ("decode", "loaders.null", "NullSource", {}),
    # Frame readers: a store written by loaders.extract (see loaders/store.py).
    "pil": ("frames", "loaders.pil", "PilSource", {}),
    "cv2-imread": ("frames", "loaders.cv2_imread", "Cv2ImreadSource", {}),
    "simplejpeg": ("frames", "loaders.simplejpeg", "SimpleJpegSource", {}),
    "npy": ("frames", "loaders.npy", "NpySource", {}),
    "tar": ("frames", "loaders.tar", "TarSource", {}),
}

# Which loaders each dependency stack (one nox environment each) must be able to run. Tests
# use it to tell "missing here by design" from "missing by accident" (VIDBENCH_REQUIRE_ALL=1).
STACKS: dict[str, list[str]] = {
    "main": ["cv2-seek", "cv2-grab", "pyav", "torchcodec", "decord", "pil", "cv2-imread", "simplejpeg", "npy", "tar"],
    # Pillow-SIMD replaces Pillow (both are PIL): the readers that decode with PIL run here again.
    "pillow-simd": ["pil", "tar", "npy"],
    # torchvision removed video decoding after 0.25, which needs torch 2.10 (not main's 2.13).
    "torchvision": ["torchvision-read_video", "torchvision-videoreader"],
}


def current_stack() -> str:
    """The dependency stack this process runs in (``$VIDBENCH_STACK``, default "main")."""
    return os.environ.get("VIDBENCH_STACK", "main")


_reasons: dict[str, str | None] = {}


def _load(name: str) -> type[Source]:
    _, module_name, class_name, _ = REGISTRY[name]
    module = importlib.import_module(module_name)
    cls: type[Source] = getattr(module, class_name)
    return cls


def _why_not(name: str) -> str | None:
    if name not in _reasons:
        try:
            _load(name)
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
    return [n for n, entry in REGISTRY.items() if kind is None or entry[0] == kind]


def open(name: str, path: str | os.PathLike[str], **options: Any) -> Source:  # noqa: A001
    """Open ``path`` with loader ``name``; options override the registry's defaults."""
    if name not in REGISTRY:
        raise BackendUnavailable(path, f"unknown loader {name!r}; known: {', '.join(REGISTRY)}")
    reason = _why_not(name)
    if reason is not None:
        raise BackendUnavailable(path, f"loader {name!r} is unavailable: {reason}")
    merged = {**REGISTRY[name][3], **options}
    return _load(name)(path, **merged)
