"""The first frames of a long video as a video of their own: what a budget measures in its place.

A clip is a stream copy (no re-encode: the same codec, keyframes, B-frames and bitrate as the
video), cut where the packets so far in decode order are exactly the first frames in display
order, so every frame in it decodes and none is missing. A decoder does the same work on its
frames as on the same frames of the whole video; a budget cuts to two keyframe intervals at least
(:func:`benchmarks.budget.fit`), so a random access costs what it costs in the whole video.
Clips are made once, beside the stores, named by the video's key and the frames kept.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from loaders.errors import LoaderError
from loaders.paths import absolute
from loaders.probe import Probe, open_container, probe


def cut_point(decode_order: Sequence[int], most: int) -> int:
    """The largest ``k <= most`` whose first ``k`` packets in decode order (given by their pts)
    are the first ``k`` frames shown; 0 if there is none."""
    ranks = np.argsort(np.argsort(np.asarray(decode_order, dtype=np.int64), kind="stable"), kind="stable")
    highest = np.maximum.accumulate(ranks[:most]) if most > 0 else np.array([], dtype=np.int64)
    whole = np.nonzero(highest == np.arange(len(highest)))[0]
    return int(whole[-1]) + 1 if whole.size else 0


def first_frames(video: str, frames: int, folder: Path) -> tuple[str, int]:
    """A clip of the first ``frames`` frames of ``video`` (or a few fewer, where B-frames would
    otherwise be cut from their references) in ``folder``: its path and frame count. The video
    itself, and its count, where it holds no more than ``frames``. A LoaderError says why a clip
    could not be made (a damaged video, a stream the copy would change)."""
    from benchmarks.stores import video_key

    whole = probe(video)
    if whole.num_frames <= frames:
        return video, whole.num_frames
    with open_container(video) as container:
        stream = container.streams[whole.stream]  # the default video stream, as every loader reads
        order = []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            if packet.is_discard:
                raise LoaderError(video, "holds frames its edit list discards: a stream copy could shift them")
            order.append(packet.pts)
    keep = cut_point(order, frames)
    if keep < 1:
        raise LoaderError(video, f"no cut within its first {frames} frames leaves every frame its references")
    clip = folder / f"{video_key(video)}-first{keep}{Path(video).suffix.lower()}"
    if not (clip.exists() and _matches(clip, whole, keep)):
        partial = clip.with_name(f".partial-{os.getpid()}-{clip.name}")
        try:
            _copy(video, keep, whole, partial)
            os.replace(partial, clip)
        except OSError as exc:  # no room, no write access to the folder
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise LoaderError(video, f"cutting its first {keep} frames into {folder} failed: {exc}") from None
    return str(clip), keep


def _copy(video: str, keep: int, whole: Probe, partial: Path) -> None:
    """Stream-copy the first ``keep`` frames of ``video`` to ``partial``, checked."""
    from imageio_ffmpeg import get_ffmpeg_exe

    partial.parent.mkdir(parents=True, exist_ok=True)
    cmd = [get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", absolute(video),
           "-map", f"0:{whole.stream}", "-c", "copy", "-frames:v", str(keep), "-an", "-sn", "-dn", absolute(partial)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not _matches(partial, whole, keep):
        partial.unlink(missing_ok=True)
        why = done.stderr.strip().splitlines()[-1:] or ["the copy differs from the video's first frames"]
        raise LoaderError(video, f"cutting its first {keep} frames failed: {why[0]}")


def _matches(clip: Path, whole: Probe, keep: int) -> bool:
    """Whether ``clip`` holds the first ``keep`` frames of the probed video ``whole``: as many
    frames, the same keyframes among them, the same size and turn."""
    try:
        cut = probe(clip)
    except LoaderError:
        return False
    same = (cut.width, cut.height, cut.rotation, cut.codec) == (whole.width, whole.height, whole.rotation, whole.codec)
    return same and cut.num_frames == keep and np.array_equal(cut.keyframes, whole.keyframes[whole.keyframes < keep])
