"""Run results: the documented JSON format, and (in ``store``) their persistence."""

from __future__ import annotations

from metacore.runs.result import RESULT_SCHEMA_VERSION, RunResult, library_versions

__all__ = ["RESULT_SCHEMA_VERSION", "RunResult", "library_versions"]
