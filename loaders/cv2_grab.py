"""OpenCV used with care: walk forward with ``grab()``, ``retrieve()`` only the wanted frames.

``grab()`` decodes but skips the colour conversion, so frames between two wanted ones cost
less than ``read()``; the capture is reopened only when the next wanted frame is behind.
"""

from __future__ import annotations

import numpy as np

from loaders.base import read_sorted_unique
from loaders.cv2_seek import Cv2Source


class Cv2GrabSource(Cv2Source):
    _position = 0  # index of the frame the next grab() returns

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return read_sorted_unique(indices, self._read_ascending)

    def _read_ascending(self, wanted: np.ndarray) -> np.ndarray:
        out = np.empty((len(wanted), self.height, self.width, 3), dtype=np.uint8)
        if wanted[0] < self._position:
            self._reopen()  # back to the start (seeking to frame 0 fails on a one-frame video)
            self._position = 0
        for slot, index in enumerate(wanted.tolist()):
            while self._position <= index:
                ok = self._cap.grab()
                self._position += 1
                if not ok:
                    self._retrieve(False, None, self._position - 1, out[slot])
            ok, bgr = self._cap.retrieve()
            self._retrieve(ok, bgr, index, out[slot])
        return out
