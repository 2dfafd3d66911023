"""Multi-label few-shot scores: the methods that learn several labels a text, at K examples per
label, over seeds, on our multi-label sample and on GoEmotions (the one real multi-label set in
../shared/datasets).

    python bench/multilabel.py --datasets sample_data/support_tickets_multilabel.csv goemotions \
        --shots 8 --seeds 0 1 2

Prints micro-, macro- and samples-F1, Hamming loss and subset accuracy (mean and standard
deviation over seeds, in %) and training time per method, and writes
bench/results/multilabel-K.json. GoEmotions' ``dev`` rows are the pool the K-shot training
set (and a validation sample, for the thresholds) are drawn from, its ``test`` rows the test
set; test sets larger than --test-cap are subsampled at random (seed 0, the same texts for every
method and seed).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from common import dataset_path, machine, mean_sd, wait_if_paused, write_json

METHODS = ["tfidf-logreg", "linear-probe", "nearest-centroid", "full-finetune", "lora"]
SCORES = ["micro_f1", "macro_f1", "samples_f1", "hamming_loss", "subset_accuracy"]


def _path(name: str) -> str:
    """The data file; GoEmotions' dev split becomes the training pool (its split column says
    dev, which would otherwise be read as validation)."""
    path = dataset_path(name)
    if Path(path).stem != "goemotions":
        return path
    import pandas as pd

    frame = pd.read_csv(path)
    frame["split"] = frame["split"].replace({"dev": "train"})
    out = Path(tempfile.gettempdir()) / "metacore-goemotions-train-test.csv"
    frame.to_csv(out, index=False)
    return str(out)


def _cap(prepared, cap: int | None):
    test = prepared.split.test
    if not cap or len(test) <= cap:
        return prepared
    idx = np.sort(np.random.default_rng(0).choice(len(test), size=cap, replace=False))
    split = dataclasses.replace(prepared.split, test=test.subset(idx))
    return dataclasses.replace(prepared, split=split)


def run(args: argparse.Namespace) -> dict:
    from metacore.backbones import load_backbone
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.run import prepare
    from metacore.run import run as run_one

    backbone = load_backbone(args.backbone)
    rows: list[dict] = []
    payload = {"shots": args.shots, "seeds": args.seeds, "backbone": args.backbone,
               "test_cap": args.test_cap, "machine": machine(), "rows": rows}
    for name in args.datasets:
        path = _path(name)
        for seed in args.seeds:
            plan = ExperimentPlan(methods={m: {} for m in args.methods},
                                  data=DataSource(path=path), shots=(args.shots,),
                                  seeds=(seed,), backbone=args.backbone)
            prepared = _cap(prepare(plan), args.test_cap)
            for one in plan.runs():
                wait_if_paused()
                t0 = time.perf_counter()
                result = run_one(plan, one, prepared=prepared, backbone=backbone)
                rows.append({"dataset": Path(name).stem, "seed": seed, "method": one.method,
                             "status": result.status, "error": result.error,
                             **{s: result.metrics.get(s) for s in SCORES},
                             "train_s": result.timing.get("train_s"),
                             "total_s": time.perf_counter() - t0,
                             "n_train": len(prepared.train), "n_test": len(prepared.split.test),
                             "labels": len(prepared.classes), "load": os.getloadavg()[0]})
                write_json(f"multilabel-{args.shots}{args.tag}.json", payload)
                print(f"{name} seed {seed} {one.method}: {result.status} micro-F1 "
                      f"{rows[-1]['micro_f1']} macro-F1 {rows[-1]['macro_f1']}", flush=True)
    return payload


def table(payload: dict) -> str:
    rows = payload["rows"]
    out = ["| data set | method | micro-F1 % | macro-F1 % | samples-F1 % | Hamming loss % | "
           "subset acc. % | train s |", "|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows):
            sel = [r for r in rows if r["dataset"] == name and r["method"] == method
                   and r["status"] == "completed"]
            if sel:
                train = sum(r["train_s"] for r in sel) / len(sel)
                cells = " | ".join(mean_sd([r[s] for r in sel]) for s in SCORES)
                out.append(f"| {name} | {method} | {cells} | {train:.1f} |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+",
                   default=["sample_data/support_tickets_multilabel.csv", "goemotions"])
    p.add_argument("--methods", nargs="+", default=METHODS)
    p.add_argument("--shots", type=int, default=8)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--backbone", default="minilm")
    p.add_argument("--test-cap", type=int, default=1500)
    p.add_argument("--tag", default="", help="appended to the JSON file's name")
    args = p.parse_args()
    payload = run(args)
    path = write_json(f"multilabel-{args.shots}{args.tag}.json", payload)
    print(table(payload))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
