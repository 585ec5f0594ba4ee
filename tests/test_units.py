"""One byte formatter and one duration formatter, shared by the terminal, the logs and the report."""

from __future__ import annotations

import pytest

from loaders import units
from reports import fmt


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 B"), (512, "512 B"), (1536, "1.5 KiB"), (3_000_000, "2.86 MiB"), (300 * 2**20, "300 MiB"),
    (2 * 2**30, "2 GiB"), (39.2 * 2**30, "39.2 GiB"), (5 * 2**40, "5 TiB"), (3 * 2**50, "3 PiB"),
    (None, ""), (float("nan"), ""), ("n/a", "")])
def test_bytes_are_binary(value: object, text: str) -> None:
    assert units.size(value) == text


@pytest.mark.parametrize(("value", "text", "whole"), [
    (0.25, "250 ms", "0 s"), (9.61, "9.61 s", "10 s"), (0, "0 s", "0 s"), (119.4, "119 s", "119 s"),
    (192, "3.2 min", "3 min"), (3600, "60.0 min", "60 min"), (5400, "1.5 h", "1.5 h"),
    (4 * 3600, "4.0 h", "4.0 h")])
def test_durations_read_from_milliseconds_to_hours(value: float, text: str, whole: str) -> None:
    assert units.duration(value) == text
    assert units.duration(value, whole=True) == whole
    assert units.duration(None) == ""


def test_the_report_formats_with_the_same_functions() -> None:
    assert fmt.bytes_ is units.size and fmt.seconds is units.duration
