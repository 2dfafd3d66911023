"""The work one read may do: cells produced and seconds spent, whatever the file declares.

Readers call :meth:`Budget.spend` for every row they produce (kept or not, empty or not), so a
file that declares a huge sheet, pads rows to a huge width or has a million empty lines stops
at the budget with a finding instead of running for minutes or filling the memory.
"""

from __future__ import annotations

import time

from metacore.data.findings import Finding, error
from metacore.data.limits import Limits


class OverBudget(Exception):  # noqa: N818 - a signal carrying a finding, not an error to log
    """Raised inside a reader when the budget is spent; ``finding`` says which."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class Budget:
    """Counts the cells a read has produced and checks its deadline as it goes."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cells = 0
        self.deadline = time.monotonic() + limits.max_parse_seconds

    def spend(self, cells: int) -> None:
        """Count one produced row of ``cells`` cells (an empty row costs one).

        Raises:
            OverBudget: With ``too_many_cells`` or ``parse_too_slow``.
        """
        self.cells += cells or 1
        if self.cells > self.limits.max_cells:
            raise OverBudget(error("too_many_cells", limit=self.limits.max_cells))
        if time.monotonic() > self.deadline:
            raise self.too_slow()

    def check_time(self) -> None:
        """Raise ``parse_too_slow`` if the deadline has passed."""
        if time.monotonic() > self.deadline:
            raise self.too_slow()

    def too_slow(self) -> OverBudget:
        return OverBudget(error("parse_too_slow", seconds=self.limits.max_parse_seconds))

    def check_columns(self, width: int) -> None:
        """Raise ``too_many_columns`` for a header wider than the limit."""
        if width > self.limits.max_columns:
            raise OverBudget(error("too_many_columns", n=width, limit=self.limits.max_columns))
