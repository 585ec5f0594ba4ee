"""CSV files a spreadsheet opens as data: no cell runs as a formula (CSV injection).

Text from records reaches the CSV files (a video's file name, a reason, an environment value),
and a spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula. As OWASP advises, such a cell gets a leading single quote, which
spreadsheets take as "this is text", and every text cell is quoted, so a separator inside one
cannot start a new cell in a spreadsheet that splits on another. Numbers stay numbers: numeric
columns are written as they are, and so is text that is a plain number ("-3.2").
"""

from __future__ import annotations

import csv
import os
import re
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def cell(value: Any) -> Any:
    """``value`` as a spreadsheet should show it: text that would run as a formula, quoted."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``table`` as CSV (no index) with every text cell and column name neutralised."""
    safe = table.rename(columns=lambda name: cell(str(name)))
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(cell, na_action="ignore")
    safe.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC)
