"""Markdown tables for docs/benchmarks.md from the JSON the benchmarks wrote.

    python bench/tables.py fewshot bench/results/fewshot-8-*.json
    python bench/tables.py unseen bench/results/unseen.json

``fewshot``: rows of every file merged (a later file's row for the same dataset, seed and
method wins), one line per dataset and method: macro-F1 and accuracy as mean (standard
deviation) over seeds in %, the seeds, macro-F1 minus nearest-centroid's on the same seeds
(a fair comparison when a row has fewer seeds), and training seconds as median (min) with the
median load average while they ran. ``unseen``: accuracy ± 95% CI per method and shot count.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import mean_sd

ORDER = ["tfidf-logreg", "linear-probe", "nearest-centroid", "full-finetune", "lora",
         "protonet", "anil", "fomaml", "maml", "reptile"]


def fewshot(paths: list[str]) -> str:
    rows: dict[tuple, dict] = {}
    for path in paths:
        for r in json.loads(Path(path).read_text())["rows"]:
            if r["status"] == "completed":
                rows[(r["dataset"], r["seed"], r["method"])] = r
    out = ["| dataset | method | macro-F1 % | accuracy % | seeds | macro-F1 − nearest-centroid, "
           "same seeds | train s, median (min) | load |", "|---|---|---|---|---|---|---|---|"]
    datasets = dict.fromkeys(k[0] for k in rows)
    for name in datasets:
        for method in sorted({k[2] for k in rows if k[0] == name}, key=ORDER.index):
            sel = [r for k, r in sorted(rows.items()) if k[0] == name and k[2] == method]
            train = [r["train_s"] for r in sel]
            load = statistics.median(r.get("load", float("nan")) for r in sel)
            ref = [rows.get((name, r["seed"], "nearest-centroid")) for r in sel]
            diffs = [r["macro_f1"] - c["macro_f1"] for r, c in zip(sel, ref) if c]
            gap = ("—" if method == "nearest-centroid" or len(diffs) < len(sel) else
                   f"{100 * statistics.mean(diffs):+.1f}")
            out.append(f"| {Path(name).stem} | {method} | {mean_sd([r['macro_f1'] for r in sel])} "
                       f"| {mean_sd([r['accuracy'] for r in sel])} | "
                       f"{','.join(str(r['seed']) for r in sel)} | {gap} | "
                       f"{statistics.median(train):.1f} ({min(train):.1f}) | {load:.1f} |")
    return "\n".join(out)


def unseen(paths: list[str]) -> str:
    """One line per method, a column per shot count (rows of every file merged)."""
    rows: dict[tuple[str, int], dict] = {}
    for path in paths:
        for r in json.loads(Path(path).read_text())["rows"]:
            if r["status"] == "completed":
                rows[(r["method"], r["shots"])] = r
    shots = sorted({k[1] for k in rows})
    head = " | ".join(f"5-way {k}-shot acc. % ± 95% CI (macro-F1) | meta-train s / test s"
                      for k in shots)
    out = [f"| method | {head} |", "|---|" + "---|---|" * len(shots)]
    order = ["nearest-centroid", "linear-probe", "protonet", "anil", "maml", "fomaml",
             "reptile"]
    for method in sorted({k[0] for k in rows}, key=lambda m: order.index(m)
                         if m in order else 99):
        cells = []
        for k in shots:
            r = rows.get((method, k))
            cells += (["not run", "—"] if r is None else [
                f"{100 * r['accuracy_mean']:.1f} ± {100 * r['accuracy_ci95']:.1f} "
                f"({100 * r['macro_f1_mean']:.1f})",
                f"{r['train_s']:.0f} / {r['predict_s']:.0f}"])
        out.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=["fewshot", "unseen"])
    p.add_argument("paths", nargs="+")
    args = p.parse_args()
    print(fewshot(args.paths) if args.kind == "fewshot" else unseen(args.paths))


if __name__ == "__main__":
    main()
