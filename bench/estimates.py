"""How good are the time estimates the app shows before a run? Estimated against measured.

    python bench/estimates.py                       # every method, English sample, K = 8
    python bench/estimates.py --datasets sst5 --methods full-finetune protonet

For each dataset, measures the backbone's speed once (``metacore.estimate.calibrate``, as the
app does), then runs each method (seed 0) and prints estimated seconds, measured seconds
(the run's train + predict time) and their ratio. Writes bench/results/estimates-<data>.json.
Each method's ``cost_factor`` (in its own file, ``metacore/methods/``) is fitted from this
output.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from common import cap_test, dataset_path, machine, wait_if_paused, write_json

METHODS = ["tfidf-logreg", "linear-probe", "nearest-centroid", "full-finetune", "lora",
           "protonet", "anil", "fomaml", "maml", "reptile"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["sample_data/support_intents_en.csv"])
    p.add_argument("--methods", nargs="+", default=METHODS)
    p.add_argument("--shots", type=int, default=8)
    p.add_argument("--test-cap", type=int, default=1000)
    p.add_argument("--tag", default="", help="suffix of the JSON file name")
    args = p.parse_args()

    from metacore.backbones import load_backbone
    from metacore.estimate import calibrate, estimate_seconds
    from metacore.methods.costs import DataSizes
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.run import prepare, run

    backbone = load_backbone("minilm")
    rows = []
    for name in args.datasets:
        plan = ExperimentPlan(methods={m: {} for m in args.methods},
                              data=DataSource(path=dataset_path(name)), shots=(args.shots,),
                              seeds=(0,))
        prepared = cap_test(prepare(plan), args.test_cap)
        t0 = time.perf_counter()
        speed = calibrate(backbone, prepared.train.texts)
        calib_s = time.perf_counter() - t0
        sizes = {"n_train": len(prepared.train), "n_test": len(prepared.split.test),
                 "n_val": len(prepared.val) if prepared.val else 0,
                 "n_classes": len(prepared.train.classes)}
        print(f"{name}: {sizes}, speed {speed.to_dict()} (calibration {calib_s:.1f} s)")
        for one in plan.runs():
            method = one.method
            wait_if_paused()
            est = estimate_seconds(method, {}, speed, DataSizes(**sizes))
            result = run(plan, one, prepared=prepared, backbone=backbone)
            measured = result.timing.get("train_s", 0) + result.timing.get("predict_s", 0)
            rows.append({"dataset": name, "method": method, "estimate_s": est,
                         "measured_s": measured, "ratio": measured / est if est else None,
                         "load": os.getloadavg()[0], **sizes, "speed": speed.to_dict()})
            print(f"  {method:18s} estimate {est:7.1f} s  measured {measured:7.1f} s  "
                  f"measured/estimate {rows[-1]['ratio']:.2f}  load {rows[-1]['load']:.1f}",
                  flush=True)
            stem = "-".join(Path(d).stem for d in args.datasets)
            write_json(f"estimates-{stem}{args.tag}.json",
                       {"args": vars(args), "machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
