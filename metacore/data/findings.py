"""What the data layer tells a person: findings (coded, with parameters) and ``DataError``.

A finding is a code and plain parameters, never a sentence: its words are the template
``finding.<code>`` (or a variant such as ``finding.too_many_rows-data``) in
``metacore/locale/<lang>.data.toml``, so an interface shows it in its own language by code.
``finding.message`` is the English sentence, for the CLI, logs and stored results.

Every module of ``metacore.data`` imports this one (and nothing here imports them back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metacore.messages import Message, MessageError, catalog, msg

LEVELS = ("error", "warning", "info")
MAX_FINDING_ROWS = 20
# The code of a finding written as a sentence (by an interface, or loaded from an old result).
PLAIN = "error.plain"


@dataclass(frozen=True)
class Finding:
    """One problem or remark about the data.

    Attributes:
        level: "error" (the run cannot go on), "warning" or "info".
        code: Stable snake_case identifier, e.g. "single_class".
        params: The values its sentence names (JSON-friendly; a value may be a ``Message``,
            such as a part name). Given a ``Message``, its code becomes ``message_code``;
            given a ``str``, the finding is that sentence as it is (``error.plain``).
        rows: Affected file row numbers (1-based, header = 1), at most 20.
        count: How many rows (or items) are affected in total.
        message_code: The template of its sentence; ``finding.<code>`` unless the code has
            several wordings.
    """

    level: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    rows: tuple[int, ...] = ()
    count: int = 0
    message_code: str = ""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
        params, wording = self.params, self.message_code
        if isinstance(params, Message):
            params, wording = params.params, params.code
        elif isinstance(params, str):
            params, wording = {"text": params}, PLAIN
        object.__setattr__(self, "params", dict(params))
        object.__setattr__(self, "message_code", wording or f"finding.{self.code}")
        object.__setattr__(self, "rows", tuple(int(r) for r in self.rows[:MAX_FINDING_ROWS]))

    def __hash__(self) -> int:  # params is a dict; the sentence stands for it
        return hash((self.level, self.code, self.message_code, self.message, self.rows,
                     self.count))

    def as_message(self) -> Message:
        """The finding's sentence as a coded message, for an interface to render."""
        return Message(self.message_code, self.params)

    @property
    def message(self) -> str:
        """The English sentence: one sentence for a non-programmer that says what to do."""
        return str(self.as_message())

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict (with the English ``message``)."""
        coded = self.as_message().to_dict()
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "message_code": coded["code"],
            "params": coded["params"],
            "rows": list(self.rows),
            "count": self.count,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Finding:
        """The finding of :meth:`to_dict`; a dict stored before findings had parameters keeps
        its English sentence as plain text."""
        level, code = str(values["level"]), str(values["code"])
        rows, count = tuple(values.get("rows") or ()), int(values.get("count") or 0)
        if "params" not in values:
            return cls(level, code, str(values.get("message", "")), rows, count)
        coded = Message.from_dict({"code": values.get("message_code") or f"finding.{code}",
                                   "params": values["params"]})
        return cls(level, code, coded, rows, count)


class DataError(MessageError):
    """Raised with one clear, coded sentence when the data cannot be used (a ``ValueError``).

    ``DataError(msg("data.no_test_rows"))`` or ``DataError("data.no_test_rows", **params)``;
    a string that is not a code of the catalog is kept as a plain sentence, for callers
    that do not code their messages yet.
    """

    def __init__(self, message: Message | str, **params: Any) -> None:
        if isinstance(message, str) and not params and message not in catalog():
            message = Message(PLAIN, {"text": message})
        super().__init__(message, **params)

    def __reduce__(self) -> tuple:  # pickled (a worker process): keep the code, not the words
        return (type(self), (self.message,))


def finding_for_rows(
    level: str, code: str, params: Mapping[str, Any] | Message, rows: Sequence[int] | pd.Index
) -> Finding:
    """Build a finding whose rows come from a frame index of file row numbers.

    Row numbers are not repeated in the message: interfaces show ``rows`` next to it.

    Args:
        level: Finding level.
        code: Finding code.
        params: The values of its sentence, or a ``Message`` for another wording.
        rows: The affected index labels (file row numbers), in file order.

    Returns:
        The finding, with the first 20 rows and the total count.
    """
    return Finding(level, code, params, tuple(int(r) for r in rows[:MAX_FINDING_ROWS]), len(rows))


def error(code: str, wording: str = "", **params: Any) -> Finding:
    """An error finding without rows: ``error("bad_excel", "sheet")`` is worded by
    ``finding.bad_excel-sheet``."""
    return Finding("error", code, msg(f"finding.{code}" + (f"-{wording}" if wording else ""),
                                      **params))
