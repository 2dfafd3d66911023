"""Do two benchmark result files agree on their scores? For reproducing recorded figures.

    METACORE_BENCH_RESULTS=/tmp/again python bench/fewshot.py … --tag=-part1
    python bench/compare.py bench/results/fewshot-8-part1.json /tmp/again/fewshot-8-part1.json

Rows are matched by what identifies them (dataset, seed, method for ``fewshot.py``; method and
shots for ``unseen.py``); every score is compared exactly (the same seed gives the same
number, to the last digit). Prints one line per row of the second file and exits 1 if any
score differs, or 2 if the second file has a row the first does not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCORES = ("accuracy", "macro_f1", "accuracy_mean", "accuracy_ci95", "macro_f1_mean",
          "macro_f1_ci95")
KEYS = ("dataset", "seed", "method", "shots")


def key(row: dict) -> tuple:
    return tuple(row.get(k) for k in KEYS)


def main(first: str, second: str) -> int:
    recorded = {key(r): r for r in json.loads(Path(first).read_text())["rows"]}
    again = json.loads(Path(second).read_text())["rows"]
    status = 0
    for row in again:
        old = recorded.get(key(row))
        name = " ".join(str(v) for v in key(row) if v is not None)
        if old is None:
            print(f"{name}: not in {first}")
            status = max(status, 2)
            continue
        differ = {s: (old.get(s), row.get(s)) for s in SCORES
                  if s in row and old.get(s) != row.get(s)}
        scores = " ".join(f"{s}={row[s]:.6f}" for s in SCORES if row.get(s) is not None)
        print(f"{name}: {'same' if not differ else f'DIFFERENT {differ}'} ({scores})")
        status = max(status, 1 if differ else 0)
    print(f"{len(again)} rows compared: {'all the same' if status == 0 else 'not all the same'}")
    return status


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
