"""JSON Lines (one object per line), and a whole-file JSON array of objects (a .json export)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd

from metacore.data.findings import Finding, error, finding_for_rows
from metacore.data.limits import Limits
from metacore.data.readers.rows import Collected, cell_text, column_names, row_findings, to_frame

JSON_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".json"})


def _json_records(text: str, broken: list[int]) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each JSON-object line, noting broken lines."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            broken.append(line_no)
            continue
        if isinstance(obj, dict):
            yield line_no, obj
        else:
            broken.append(line_no)


def _json_array(text: str) -> list[tuple[int, dict]]:
    """Read a whole-file JSON array of objects (a .json export), numbered from 1."""
    try:
        items = json.loads(text)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [(i, obj) for i, obj in enumerate(items, start=1) if isinstance(obj, dict)]


def parse_jsonl(text: str, limits: Limits) -> tuple[pd.DataFrame, list[Finding]]:
    """Parse JSON Lines (or a JSON array of objects)."""
    broken: list[int] = []
    # A pretty-printed JSON array must be read whole: some of its lines may parse alone.
    pairs = _json_array(text)[: limits.max_rows + 1] if text.lstrip().startswith("[") else []
    for pair in _json_records(text, broken) if not pairs else ():
        pairs.append(pair)
        if len(pairs) > limits.max_rows:
            break
    if not pairs:
        return pd.DataFrame(), [error("bad_json")]
    findings: list[Finding] = []
    if broken:
        lines = pd.Index(broken)
        findings.append(finding_for_rows("warning", "broken_json_lines", {"n": len(lines)},
                                         lines))
    raw_keys = list(dict.fromkeys(k for _, obj in pairs for k in obj))
    names = column_names(raw_keys)
    rows = [[cell_text(obj.get(k)) for k in raw_keys] for _, obj in pairs]
    index = [n for n, _ in pairs][: limits.max_rows]
    too_many = len(rows) > limits.max_rows
    collected = Collected(names, rows[: limits.max_rows], index, [], too_many)
    return to_frame(collected), findings + row_findings(collected, limits)
