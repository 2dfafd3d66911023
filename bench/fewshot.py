"""Few-shot accuracy: every method at K examples per class over several seeds.

    python bench/fewshot.py --datasets sst5 emotion agnews --shots 8 --seeds 0 1 2 3 4
    python bench/fewshot.py --methods centroid-blend --set centroid-blend:tune_passes=20

Prints macro-F1 and accuracy (mean and standard deviation over seeds, in %) and mean training
time per method and dataset, and writes bench/results/fewshot-K.json. Test sets larger than
--test-cap are subsampled (stratified, seed 0; the same texts for every method and seed).
"""

from __future__ import annotations

import argparse
import os
import time

from common import cap_test, dataset_path, machine, mean_sd, wait_if_paused, write_json

DEFAULT_METHODS = ["tfidf-logreg", "linear-probe", "nearest-centroid", "full-finetune", "lora"]
LOAD_BEFORE = os.getloadavg()[0]


def run(args: argparse.Namespace) -> dict:
    """Every (dataset, seed, method) run; the JSON is rewritten after each row, so a long
    benchmark that is stopped keeps what it measured."""
    from metacore.backbones import load_backbone
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.run import prepare
    from metacore.run import run as run_one

    backbone = load_backbone(args.backbone)
    rows: list[dict] = []

    def payload() -> dict:
        return {"shots": args.shots, "seeds": args.seeds, "backbone": args.backbone,
                "test_cap": args.test_cap, "load_before": LOAD_BEFORE, "machine": machine(),
                "rows": rows}

    for name in args.datasets:
        for seed in args.seeds:
            # every method of one data seed on the same split and K-shot sample
            plan = ExperimentPlan(methods={m: settings(args.set, m) for m in args.methods},
                                  data=DataSource(path=dataset_path(name)), shots=(args.shots,),
                                  seeds=(seed,), backbone=args.backbone)
            prepared = cap_test(prepare(plan), args.test_cap)
            for one in plan.runs():
                method = one.method
                wait_if_paused()
                t0 = time.perf_counter()
                result = run_one(plan, one, prepared=prepared, backbone=backbone)
                rows.append({"dataset": name, "seed": seed, "method": method,
                             "status": result.status, "error": result.error,
                             "accuracy": result.metrics.get("accuracy"),
                             "macro_f1": result.metrics.get("macro_f1"),
                             "train_s": result.timing.get("train_s"),
                             "total_s": time.perf_counter() - t0,
                             "n_test": len(prepared.split.test)})
                rows[-1]["load"] = os.getloadavg()[0]
                write_json(_name(args), payload())
                print(f"{name} seed {seed} {method}: {result.status} macro-F1 "
                      f"{rows[-1]['macro_f1']} train {rows[-1]['train_s'] or 0:.1f}s "
                      f"load {rows[-1]['load']:.1f}", flush=True)
    return payload()


def settings(pairs: list[str], method: str) -> dict:
    """``--set METHOD:key=value`` pairs for one method (values read as JSON, else text)."""
    import json

    out = {}
    for pair in pairs:
        name, _, rest = pair.partition(":")
        key, _, value = rest.partition("=")
        if name == method:
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
    return out


def _name(args: argparse.Namespace) -> str:
    return f"fewshot-{args.shots}{args.tag}.json"


def table(payload: dict) -> str:
    rows = payload["rows"]
    out = ["| dataset | method | macro-F1 % | accuracy % | train s |", "|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows):
            sel = [r for r in rows if r["dataset"] == name and r["method"] == method
                   and r["status"] == "completed"]
            if not sel:
                continue
            train = sum(r["train_s"] for r in sel) / len(sel)
            out.append(f"| {name} | {method} | {mean_sd([r['macro_f1'] for r in sel])} | "
                       f"{mean_sd([r['accuracy'] for r in sel])} | {train:.1f} |")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["sst5", "emotion", "agnews"])
    p.add_argument("--methods", nargs="+", default=DEFAULT_METHODS)
    p.add_argument("--shots", type=int, default=8)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--backbone", default="minilm")
    p.add_argument("--test-cap", type=int, default=2000)
    p.add_argument("--tag", default="")
    p.add_argument("--set", action="append", default=[], metavar="METHOD:KEY=VALUE",
                   help="a method's setting, e.g. centroid-blend:tune_passes=20 (repeatable)")
    args = p.parse_args()
    payload = run(args)
    path = write_json(_name(args), payload)
    print(table(payload))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
