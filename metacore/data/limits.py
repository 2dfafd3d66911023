"""Size, work and time limits that keep every read bounded, the same for the app, the CLI and
the readers."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from metacore.messages import MessageError

MB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Limits that keep memory and time bounded, whatever a file declares about itself.

    Attributes:
        max_file_bytes: Larger files are refused before they are parsed (a stream or a
            device is read up to this many bytes, then refused).
        max_rows: More data rows than this is an error.
        max_classes: More distinct labels than this is an error.
        max_text_chars: Longer texts are truncated, with a warning.
        max_cells: Parsing stops, with an error, once a file has produced this many cells
            (every cell of every row, empty rows and cells past the header included).
        max_columns: A header (or set of JSON keys) wider than this is an error.
        max_unzipped_bytes: An Excel workbook whose parts unpack to more than this (in all,
            or any one part) is refused before it is opened.
        max_parse_seconds: Reading a file stops, with an error, after this long.
    """

    # 50 MB: loading peaks at about 4x the file size (tests/reliability measure it), and a
    # workshop server holds many uploads at once; 200 000 rows of 250 characters fit.
    max_file_bytes: int = 50 * MB
    max_rows: int = 200_000
    max_classes: int = 500
    max_text_chars: int = 2_000
    # 200 000 rows of 10 cells. The worst file for it, 2 million blank lines or JSON zeros,
    # takes a loaded 2-core machine about 10 s; 5 million cells of a 50 MB CSV peak at 650 MB.
    max_cells: int = 2_000_000
    max_columns: int = 1_000
    # A 50 MB workbook of 200 000 texts unpacks to about 120 MB.
    max_unzipped_bytes: int = 200 * MB
    max_parse_seconds: float = 30.0

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by whoever runs the server or the CLI through env vars.

        ``METACORE_MAX_FILE_MB`` (may be fractional), ``METACORE_MAX_ROWS``,
        ``METACORE_MAX_CLASSES``, ``METACORE_MAX_TEXT_CHARS``, ``METACORE_MAX_CELLS``,
        ``METACORE_MAX_COLUMNS``, ``METACORE_MAX_UNZIPPED_MB`` and ``METACORE_MAX_PARSE_S``
        (seconds; both may be fractional); unset or empty keeps the default. Both the app and
        the CLI load data with these limits.

        Raises:
            MessageError: A ``ValueError`` with one sentence naming the variable, if a value
                is not a number from 1 to 1 000 000 000 (nan, inf, 0, -5, "abc", 1e400).
        """
        env = os.environ if environ is None else environ
        values: dict[str, int | float] = {}
        for name, (key, scale) in _LIMIT_VARS.items():
            text = (env.get(name) or "").strip()
            if not text:
                continue
            try:
                number = float(text)
            except (ValueError, OverflowError):  # "abc", or an integer too long for a float
                number = math.nan
            if number > MOST:  # also inf
                raise MessageError("limits.too_large", name=name, text=text, most=MOST)
            seconds = key == "max_parse_seconds"
            if not (number > 0 if seconds else number * scale >= 1):  # also refuses nan
                raise MessageError("limits.not_positive", name=name, text=text)
            values[key] = number if seconds else int(number * scale)
        return cls(**values)


# The largest value any variable accepts, in its own unit (rows, MB, seconds...): larger ones
# are typing mistakes, and would overflow the C sizes they end up in.
MOST = 1_000_000_000

# Environment variable -> (Limits field, multiplier to the field's unit).
_LIMIT_VARS = {
    "METACORE_MAX_FILE_MB": ("max_file_bytes", MB),
    "METACORE_MAX_ROWS": ("max_rows", 1),
    "METACORE_MAX_CLASSES": ("max_classes", 1),
    "METACORE_MAX_TEXT_CHARS": ("max_text_chars", 1),
    "METACORE_MAX_CELLS": ("max_cells", 1),
    "METACORE_MAX_COLUMNS": ("max_columns", 1),
    "METACORE_MAX_UNZIPPED_MB": ("max_unzipped_bytes", MB),
    "METACORE_MAX_PARSE_S": ("max_parse_seconds", 1),
}
