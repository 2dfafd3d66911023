"""Size limits that keep memory bounded, the same for the app, the CLI and the readers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from metacore.messages import MessageError


@dataclass(frozen=True)
class Limits:
    """Size limits that keep memory bounded.

    Attributes:
        max_file_bytes: Larger files are refused before they are parsed.
        max_rows: More data rows than this is an error.
        max_classes: More distinct labels than this is an error.
        max_text_chars: Longer texts are truncated, with a warning.
    """

    # 50 MB: loading peaks at about 4x the file size (tests/reliability measure it), and a
    # workshop server holds many uploads at once; 200 000 rows of 250 characters fit.
    max_file_bytes: int = 50 * 1024**2
    max_rows: int = 200_000
    max_classes: int = 500
    max_text_chars: int = 2_000

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by whoever runs the server or the CLI through env vars.

        ``METACORE_MAX_FILE_MB`` (may be fractional), ``METACORE_MAX_ROWS``,
        ``METACORE_MAX_CLASSES`` and ``METACORE_MAX_TEXT_CHARS``; unset or empty keeps the
        default. Both the app and the CLI load data with these limits.

        Raises:
            ValueError: If a variable is not a positive number (one sentence naming it).
        """
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for name, (key, scale) in _LIMIT_VARS.items():
            text = (env.get(name) or "").strip()
            if not text:
                continue
            try:
                number = float(text) * scale
            except ValueError:
                number = 0.0
            if not number >= 1:  # also refuses nan
                raise MessageError("limits.not_positive", name=name, text=text)
            values[key] = int(number)
        return cls(**values)


# Environment variable -> (Limits field, multiplier to the field's unit).
_LIMIT_VARS = {
    "METACORE_MAX_FILE_MB": ("max_file_bytes", 1024**2),
    "METACORE_MAX_ROWS": ("max_rows", 1),
    "METACORE_MAX_CLASSES": ("max_classes", 1),
    "METACORE_MAX_TEXT_CHARS": ("max_text_chars", 1),
}
