"""OpenCV: one frame file per frame, decoded to BGR by OpenCV and converted to RGB."""

from __future__ import annotations

import cv2
import numpy as np

from loaders.errors import CorruptVideo
from loaders.store import StoreSource, check_jpeg_complete, read_file


class Cv2ImreadSource(StoreSource):
    """``cv2.imread`` is read-the-file-then-``imdecode``; doing the two steps here costs the same
    and lets a truncated JPEG be caught: libjpeg only warns about one and OpenCV returns it
    with its missing part filled grey.
    """

    formats = ("jpeg", "png")
    library = f"opencv {cv2.__version__}"

    def _decode(self, path: str) -> np.ndarray:
        data = read_file(path)
        if self.manifest.format == "jpeg":
            check_jpeg_complete(data, path)
        bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CorruptVideo(path, "OpenCV cannot decode frame file")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return self.read_files(indices, self._decode)
