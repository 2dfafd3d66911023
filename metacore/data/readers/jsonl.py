"""JSON Lines (one object per line), and a whole-file JSON array of objects (a .json export).

Both are read one object at a time and paid for as they come (see ``budget``), so a file of
millions of tiny items stops at the row or cell limit; JSON nested deeper than the parser can
follow is a finding, not a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd

from metacore.data.findings import Finding, error, finding_for_rows
from metacore.data.readers.budget import Budget, OverBudget
from metacore.data.readers.delimited import bare_lines
from metacore.data.readers.rows import Collected, cell_text, column_names, row_findings, to_frame

JSON_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".json"})
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _too_deep() -> OverBudget:
    return OverBudget(error("json_too_deep"))


def _json_records(
    text: str, broken: list[int], deep: list[int], budget: Budget
) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each JSON-object line, noting broken lines."""
    for line_no, line in enumerate(bare_lines(text), start=1):
        if not line.strip():
            budget.spend(1)
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        except RecursionError:
            obj = None
            deep.append(line_no)
        budget.spend(len(obj) if isinstance(obj, dict) else 1)
        if isinstance(obj, dict):
            yield line_no, obj
        else:
            broken.append(line_no)


def _json_array(text: str, budget: Budget) -> Iterator[tuple[int, dict]] | None:
    """Read a whole-file JSON array of objects (a .json export), numbered from 1.

    Items are decoded one at a time; None if the text is not one JSON array.

    Raises:
        OverBudget: ``json_too_deep`` for an item nested too deeply, or the budget's own.
    """
    items: list[tuple[int, dict]] = []
    max_rows, spend, scan = budget.limits.max_rows, budget.spend, _DECODER.scan_once
    space = " \t\n\r"
    try:
        at = _SPACE.match(text, text.index("[") + 1).end()
        number = 0
        while text[at] != "]":
            value, at = scan(text, at)
            number += 1
            if type(value) is dict:
                spend(len(value))
                items.append((number, value))
                if len(items) > max_rows:
                    return iter(items)  # enough to say "too many rows"
            else:
                spend(1)
            if text[at] in space:
                at = _SPACE.match(text, at).end()
            if text[at] == ",":
                at += 1
                if text[at] in space:
                    at = _SPACE.match(text, at).end()
            elif text[at] != "]":
                return None
        if text[at + 1 :].strip():
            return None
    except RecursionError:
        raise _too_deep() from None
    except (StopIteration, ValueError, IndexError):  # not JSON, or cut off before its "]"
        return None
    return iter(items)


def parse_jsonl(text: str, budget: Budget) -> tuple[pd.DataFrame, list[Finding]]:
    """Parse JSON Lines (or a JSON array of objects).

    Raises:
        OverBudget: When the file holds too many cells or keys, nests too deeply, or takes
            too long.
    """
    limits = budget.limits
    broken: list[int] = []
    deep: list[int] = []
    # A pretty-printed JSON array must be read whole: some of its lines may parse alone.
    array = _json_array(text, budget) if text.lstrip().startswith("[") else None
    if array is None:
        budget.cells = 0  # the same items again, line by line: pay for them once
    pairs: list[tuple[int, dict]] = []
    for pair in array if array is not None else _json_records(text, broken, deep, budget):
        pairs.append(pair)
        if len(pairs) > limits.max_rows:
            break
    if not pairs:
        return pd.DataFrame(), [error("json_too_deep" if deep else "bad_json")]
    findings: list[Finding] = []
    if broken:
        lines = pd.Index(broken)
        findings.append(finding_for_rows("warning", "broken_json_lines", {"n": len(lines)},
                                         lines))
    raw_keys = list(dict.fromkeys(k for _, obj in pairs for k in obj))
    budget.check_columns(len(raw_keys))
    kept = pairs[: limits.max_rows]
    # Every object becomes a full row of all keys: pay for that before building it.
    budget.cells = 0
    budget.spend(len(kept) * len(raw_keys))
    names = column_names(raw_keys)
    rows = [[cell_text(obj.get(k)) for k in raw_keys] for _, obj in kept]
    index = [n for n, _ in kept]
    too_many = len(pairs) > limits.max_rows
    collected = Collected(names, rows, index, [], too_many)
    return to_frame(collected), findings + row_findings(collected, limits)
