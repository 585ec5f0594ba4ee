"""simplejpeg: libjpeg-turbo's TurboJPEG API straight to an RGB array, JPEG stores only."""

from __future__ import annotations

import numpy as np
import simplejpeg

from loaders.errors import CorruptVideo, cause_of
from loaders.store import StoreSource, read_file


class SimpleJpegSource(StoreSource):
    formats = ("jpeg",)
    library = f"simplejpeg {simplejpeg.__version__}"

    def _decode(self, path: str) -> np.ndarray:
        data = read_file(path)
        try:
            # TurboJPEG turns libjpeg's "premature end of data" warning into an error here.
            frame: np.ndarray = simplejpeg.decode_jpeg(data, colorspace="RGB")
        except ValueError as exc:
            raise CorruptVideo(path, f"simplejpeg cannot decode frame file: {cause_of(exc)}") from exc
        return frame

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return self.read_files(indices, self._decode)
