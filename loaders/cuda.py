"""What every GPU loader needs first: torch with a CUDA device, and its own library.

A GPU loader's module calls :func:`require` at import, so a machine without a device or the
library keeps the loader registered and ``loaders.available()`` gives the reason (every missing
piece at once: "no CUDA device (...); no module named PyNvVideoCodec"). The tensors' helpers
here are the ones the GPU loaders share.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from loaders.errors import BackendUnavailable, first_line


def device_missing() -> str | None:
    """Why this process cannot use a CUDA device through torch; None when it can."""
    try:
        import torch
    except ImportError:
        return "no CUDA device: torch is not installed"
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        return f"no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, {build})"
    return None


def require(*modules: str) -> list[Any]:
    """Import ``modules`` after checking for a device; BackendUnavailable names all that is missing."""
    missing = [why] if (why := device_missing()) else []
    imported = []
    for name in modules:
        try:
            imported.append(importlib.import_module(name))
        except Exception as exc:  # noqa: BLE001 - the module, or a library it loads (libcuda, libnvcuvid):
            # PyNvVideoCodec raises RuntimeError when the driver's video libraries are missing
            absent = getattr(exc, "name", None) or ""
            missing.append(
                f"no module named {name}"
                if isinstance(exc, ImportError) and absent and f"{name}.".startswith(f"{absent}.")
                else f"{name} does not import: {first_line(exc)}"
            )
    if missing:
        raise BackendUnavailable(None, "; ".join(missing))
    return imported


def gather(indices: np.ndarray, read_ascending: Callable[[np.ndarray], Any]) -> Any:
    """:func:`loaders.base.read_sorted_unique` for tensors: each distinct frame read once, in
    ascending order, then put back in the order asked (repeats included) on its device."""
    if indices.size < 2 or bool(np.all(indices[1:] > indices[:-1])):
        return read_ascending(indices)
    import torch

    unique, inverse = np.unique(indices, return_inverse=True)
    frames = read_ascending(unique)
    return frames[torch.as_tensor(inverse, device=frames.device)]


class OnDevice:
    """What a GPU loader's source shares: ``_decode`` (ascending distinct indices -> an
    ``(N, H, W, 3)`` uint8 tensor on ``_device``) is all it writes; frames are gathered in the
    order asked, copied to the host for ``get_frames`` and left on the device by ``get_tensors``.
    Mixed in before :class:`loaders.base.Source` (or a subclass), which checks the indices."""

    _device: Any
    height: int
    width: int
    _decode: Callable[[np.ndarray], Any]
    check_indices: Callable[[Iterable[int] | np.ndarray], np.ndarray]  # loaders.base.Source's

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return gather(indices, self._decode).cpu().numpy()

    def get_tensors(self, indices: Iterable[int] | np.ndarray, device: Any = None) -> Any:
        """The frames as an ``(N, H, W, 3)`` uint8 tensor, decoded on the GPU and left there
        (``device`` None: the decoder's own)."""
        import torch

        idx = self.check_indices(indices)
        target = self._device if device is None else torch.device(device)
        if idx.size == 0:
            return torch.empty((0, self.height, self.width, 3), dtype=torch.uint8, device=target)
        return gather(idx, self._decode).to(target)
