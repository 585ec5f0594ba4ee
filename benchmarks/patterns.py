"""Access patterns: which frames each training sample needs, generated once and handed to every loader.

A sample is one video and a list of frame indices. Every pattern is a pure function of the
videos' frame counts, its parameters and a seed, so every loader (and every dependency stack,
in its own process) gets exactly the same work.

* ``sequential``: consecutive clips of ``T`` frames covering each video start to end, videos in
  order: a linear scan, the best case for decoders. Every clip has ``T`` frames, so batches
  stack: a video's last clip ends at its last frame (overlapping the one before), and a video
  shorter than ``T`` repeats its last frame.
* ``random-frame``: every frame of the corpus once, as one-frame samples, shuffled, one
  ``get_frames`` call per frame, as a map-style Dataset makes them: the image-classification
  pattern, the worst case for decoders.
* ``random-batch``: the same kind of shuffled one-frame samples, but a batch's frames (``batch``
  of them) are asked for in one call per video, as a batch sampler or ``__getitems__`` does: a
  decoder may then walk forward once through the batch's frames.
* ``random-clip-s<s>``: ``T`` frames at stride ``s`` from a random start, as many clips per video
  as non-overlapping spans of ``T * s`` frames fit (at least one), shuffled: action recognition.
* ``uniform-<K>``: ``K`` evenly spaced frames per video (segment centres, as TSN samples at test
  time), videos shuffled.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

BASES = ("sequential", "random-frame", "random-batch", "random-clip", "uniform-k")

# What each pattern asks of a loader, in the words a report uses.
DESCRIPTIONS = {
    "sequential": "consecutive clips, start to end: a linear scan",
    "random-frame": "one get_frames call per frame, shuffled (a map-style Dataset)",
    "random-batch": "a batch's shuffled frames in one call per video (a batch sampler or __getitems__)",
    "random-clip": "clips of T frames at stride s from random starts",
    "uniform-k": "K evenly spaced frames per video",
}


@dataclasses.dataclass(frozen=True)
class Sample:
    video: str
    indices: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.indices)


@dataclasses.dataclass(frozen=True)
class Pattern:
    """One access pattern with its parameters: ``clip_len`` (T), ``stride`` (s), ``k`` (K),
    ``batch`` (frames per call of random-batch)."""

    base: str
    clip_len: int = 16
    stride: int = 1
    k: int = 8
    seed: int = 0
    batch: int = 8

    def __post_init__(self) -> None:
        if self.base not in BASES:
            raise ValueError(f"unknown access pattern {self.base!r}; known: {', '.join(BASES)}")
        for name in ("clip_len", "stride", "k", "batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def name(self) -> str:
        """The label records and reports use; parameters not in it are in :meth:`params`."""
        if self.base == "random-clip":
            return f"random-clip-s{self.stride}"
        if self.base == "uniform-k":
            return f"uniform-{self.k}"
        return self.base

    @property
    def batched(self) -> bool:
        """Whether a batch's samples reach the loader in one call per video (see :func:`calls`)."""
        return self.base == "random-batch"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.base]

    def params(self) -> dict[str, int]:
        used = {"sequential": ("clip_len",), "random-frame": ("seed",), "random-batch": ("batch", "seed"),
                "random-clip": ("clip_len", "stride", "seed"), "uniform-k": ("k", "seed")}[self.base]
        return {name: getattr(self, name) for name in used}

    def samples(self, videos: Mapping[str, int]) -> list[Sample]:
        """The samples of one epoch over ``videos`` (path -> frame count)."""
        order = sorted(videos)  # the mapping's order must not matter
        # A per-pattern stream, so adding a pattern does not change the others' samples.
        rng = np.random.default_rng([self.seed, zlib.crc32(self.name.encode())])
        out: list[Sample] = []
        if self.base == "sequential":
            for v in order:
                n = videos[v]
                starts = [min(a, max(0, n - self.clip_len)) for a in range(0, n, self.clip_len)]
                out += [Sample(v, tuple(min(a + j, n - 1) for j in range(self.clip_len))) for a in starts]
            return out
        if self.base in ("random-frame", "random-batch"):
            out = [Sample(v, (i,)) for v in order for i in range(videos[v])]
        elif self.base == "random-clip":
            span = (self.clip_len - 1) * self.stride + 1
            for v in order:
                n = videos[v]
                count = max(1, n // (self.clip_len * self.stride))
                starts = rng.integers(0, max(1, n - span + 1), size=count).tolist()
                # A video shorter than the span repeats its last frame, as training code pads.
                out += [Sample(v, tuple(min(a + j * self.stride, n - 1) for j in range(self.clip_len)))
                        for a in starts]
        else:
            for v in order:
                n = videos[v]
                out.append(Sample(v, tuple(int((j + 0.5) * n / self.k) for j in range(self.k))))
        return [out[i] for i in rng.permutation(len(out))]


def parse(names: Iterable[str], clip_len: int = 16, strides: Sequence[int] = (1, 2), k: int = 8,
          seed: int = 0, batch: int = 8) -> list[Pattern]:
    """Patterns from names: a base (``random-clip`` expands to one pattern per stride) or a label."""
    out: list[Pattern] = []
    for name in names:
        if name == "random-clip":
            out += [Pattern("random-clip", clip_len, s, k, seed, batch) for s in strides]
        elif name.startswith("random-clip-s") and name[len("random-clip-s"):].isdigit():
            out.append(Pattern("random-clip", clip_len, int(name[len("random-clip-s"):]), k, seed, batch))
        elif name.startswith("uniform-") and name[len("uniform-"):].isdigit():
            out.append(Pattern("uniform-k", clip_len, 1, int(name[len("uniform-"):]), seed, batch))
        else:
            out.append(Pattern(name, clip_len, 1, k, seed, batch))
    return list(dict.fromkeys(out))


def default(clip_len: int = 16, strides: Sequence[int] = (1, 2), k: int = 8, seed: int = 0,
            batch: int = 8) -> list[Pattern]:
    return parse(BASES, clip_len, strides, k, seed, batch)


def head(samples: Sequence[Sample], frames: int) -> list[Sample]:
    """The first samples holding at least ``frames`` frames (at least one sample)."""
    out: list[Sample] = []
    total = 0
    for s in samples:
        if out and total >= frames:
            break
        out.append(s)
        total += len(s)
    return out


def calls(pattern: Pattern, samples: Sequence[Sample]) -> list[Sample]:
    """The ``get_frames`` calls a loader receives for ``samples``: one per sample, or, for a
    batched pattern, one per video in each run of ``pattern.batch`` samples, frames in batch order."""
    if not pattern.batched:
        return list(samples)
    size = pattern.batch
    return [call for start in range(0, len(samples), size) for call in merge(samples[start:start + size])]


def merge(batch: Sequence[Sample]) -> list[Sample]:
    """One sample per video holding the frames of every sample of ``batch`` from it, in order."""
    per_video: dict[str, list[int]] = {}
    for s in batch:
        per_video.setdefault(s.video, []).extend(s.indices)
    return [Sample(v, tuple(indices)) for v, indices in per_video.items()]
