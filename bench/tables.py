"""Markdown tables for docs/benchmarks.md from the JSON the benchmarks wrote.

    python bench/tables.py fewshot bench/results/fewshot-8-*.json
    python bench/tables.py unseen bench/results/unseen.json
    python bench/tables.py recommended bench/results/fewshot-8-recommended.json \
        bench/results/fewshot-8-setfit*.json

``fewshot``: rows of every file merged (a later file's row for the same dataset, seed and
method wins), one line per dataset and method: macro-F1 and accuracy as mean (standard
deviation) over seeds in %, the seeds, macro-F1 minus nearest-centroid's on the same seeds
(a fair comparison when a row has fewer seeds), the same against SetFit, and training
seconds as median (min) with the median load average while they ran. ``recommended``: the
recommended method against SetFit and nearest-centroid per data set, paired on the seeds
both ran. ``means``: one line per method over the data sets (mean macro-F1, paired
differences against nearest-centroid and SetFit, the worst set). ``unseen``: accuracy ± 95%
CI per method and shot count.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import mean_sd

ORDER = ["tfidf-logreg", "linear-probe", "nearest-centroid", "full-finetune", "lora", "setfit",
         "centroid-blend", "protonet", "anil", "fomaml", "maml", "reptile"]
RECOMMENDED = "centroid-blend"


def _rows(paths: list[str]) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}
    for path in paths:
        for r in json.loads(Path(path).read_text())["rows"]:
            if r["status"] == "completed":
                rows[(Path(r["dataset"]).stem, r["seed"], r["method"])] = r
    return rows


def paired(rows: dict[tuple, dict], name: str, method: str, ref: str) -> tuple[float, int] | None:
    """Mean macro-F1 difference (points) of ``method`` minus ``ref`` on the seeds both ran."""
    seeds = [k[1] for k in rows if k[0] == name and k[2] == method
             and (name, k[1], ref) in rows]
    if not seeds:
        return None
    diffs = [rows[(name, s, method)]["macro_f1"] - rows[(name, s, ref)]["macro_f1"]
             for s in seeds]
    return 100 * statistics.mean(diffs), len(seeds)


def recommended(paths: list[str]) -> str:
    """The recommended method against SetFit and nearest-centroid, per data set, on the seeds
    each pair shares: macro-F1 means, paired differences, training seconds summed."""
    rows = _rows(paths)
    out = ["| dataset | centroid-blend | SetFit | nearest-centroid | − SetFit (seeds) | "
           "− nearest-centroid (seeds) | train s: ours / SetFit (same seeds) |",
           "|---|---|---|---|---|---|---|"]
    methods = (RECOMMENDED, "setfit", "nearest-centroid")
    per_set: dict[str, dict[str, float]] = {}
    times = [0.0, 0.0]
    for name in dict.fromkeys(k[0] for k in rows):
        cells = []
        for method in methods:
            sel = [r["macro_f1"] for k, r in rows.items() if k[0] == name and k[2] == method]
            cells.append(mean_sd(sel) if sel else "—")
            if sel:
                per_set.setdefault(name, {})[method] = 100 * statistics.mean(sel)
        gaps = []
        for ref in ("setfit", "nearest-centroid"):
            got = paired(rows, name, RECOMMENDED, ref)
            gaps.append("—" if got is None else f"{got[0]:+.1f} ({got[1]})")
        both = [s for (n, s, m) in rows if n == name and m == "setfit"
                and (name, s, RECOMMENDED) in rows]
        ours = sum(rows[(name, s, RECOMMENDED)]["train_s"] for s in both)
        theirs = sum(rows[(name, s, "setfit")]["train_s"] for s in both)
        times[0] += ours
        times[1] += theirs
        timing = f"{ours:.1f} / {theirs:.1f}" if both else "—"
        out.append(f"| {name} | " + " | ".join(cells + gaps) + f" | {timing} |")
    def mean_over(names: list[str]) -> list[str]:
        return [f"{statistics.mean(per_set[n][m] for n in names):.1f}"
                if names and all(m in per_set[n] for n in names) else "—" for m in methods]

    everywhere = [n for n in per_set if all(m in per_set[n] for m in methods)]
    avg = mean_over(everywhere)
    out.append(f"| **mean of the {len(everywhere)} sets SetFit ran** | **{avg[0]}** | {avg[1]} | "
               f"{avg[2]} | | | {times[0]:.1f} / {times[1]:.1f} |")
    ours = [n for n in per_set if RECOMMENDED in per_set[n] and "nearest-centroid" in per_set[n]]
    if len(ours) > len(everywhere):
        both = mean_over(ours)
        out.append(f"| mean of all {len(ours)} sets | {both[0]} | | {both[2]} | | | |")
    return "\n".join(out)


def fewshot(paths: list[str]) -> str:
    rows = _rows(paths)
    out = ["| dataset | method | macro-F1 % | accuracy % | seeds | macro-F1 − nearest-centroid, "
           "same seeds | − SetFit, same seeds (n) | train s, median (min) | load |",
           "|---|---|---|---|---|---|---|---|---|"]
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
            vs = None if method == "setfit" else paired(rows, name, method, "setfit")
            setfit_gap = "—" if vs is None else f"{vs[0]:+.1f} ({vs[1]})"
            out.append(f"| {Path(name).stem} | {method} | {mean_sd([r['macro_f1'] for r in sel])} "
                       f"| {mean_sd([r['accuracy'] for r in sel])} | "
                       f"{','.join(str(r['seed']) for r in sel)} | {gap} | {setfit_gap} | "
                       f"{statistics.median(train):.1f} ({min(train):.1f}) | {load:.1f} |")
    return "\n".join(out)


def means(paths: list[str]) -> str:
    """One line per method over the data sets where it ran every seed that nearest-centroid
    ran: mean macro-F1 of the per-set means, the mean paired differences against
    nearest-centroid and SetFit, the worst set against nearest-centroid, training seconds
    summed."""
    rows = _rows(paths)
    names = list(dict.fromkeys(k[0] for k in rows))
    out = ["| method | sets | mean macro-F1 % | − nearest-centroid | worst set − nearest-centroid "
           "| − SetFit | train s, summed |", "|---|---|---|---|---|---|---|"]
    for method in sorted({k[2] for k in rows}, key=ORDER.index):
        full = [n for n in names if {s for (d, s, m) in rows if d == n and m == "nearest-centroid"}
                <= {s for (d, s, m) in rows if d == n and m == method}
                and any(d == n and m == method for (d, _, m) in rows)]
        if not full:
            continue
        f1 = [100 * statistics.mean(r["macro_f1"] for k, r in rows.items()
                                    if k[0] == n and k[2] == method) for n in full]
        cells = [method, str(len(full)), f"{statistics.mean(f1):.1f}"]
        for ref in ("nearest-centroid", "setfit"):
            gaps = [paired(rows, n, method, ref) for n in full] if method != ref else []
            gaps = [g[0] for g in gaps if g is not None]
            cells.append(f"{statistics.mean(gaps):+.1f}" if gaps else "—")
            if ref == "nearest-centroid":
                cells.append(f"{min(gaps):+.1f}" if gaps else "—")
        train = sum(r["train_s"] for k, r in rows.items() if k[0] in full and k[2] == method)
        out.append("| " + " | ".join(cells) + f" | {train:.0f} |")
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
    p.add_argument("kind", choices=["fewshot", "means", "unseen", "recommended"])
    p.add_argument("paths", nargs="+")
    args = p.parse_args()
    print({"fewshot": fewshot, "means": means, "unseen": unseen,
           "recommended": recommended}[args.kind](
        args.paths))


if __name__ == "__main__":
    main()
