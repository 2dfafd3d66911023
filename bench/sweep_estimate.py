"""How close is the K-shot sweep page's time estimate to what the sweep takes?

    python bench/sweep_estimate.py                  # every case, each in a fresh process
    python bench/sweep_estimate.py --only protonet  # some cases
    python bench/sweep_estimate.py --calm 1.0       # start each case once the load is below 1

The page shows ``metacore.estimate.sweep_seconds(plan, split, speed)`` before a sweep starts,
with the speed ``calibrate`` measures on a few of the texts. This script does the same on the
bundled English sample (its default split: test 0.2, validation 0.1, seed 0) with the bundled
MiniLM, then runs the sweep (``k_shot_sweep``, as the page's queued task does) and prints the
estimated and measured seconds, their ratio (measured / estimated), the 1-minute load average
before and after, and the speed the calibration measured (on a busy 2-core machine that
one-second measurement can be several times slower than the sweep then runs). Each case runs
in a fresh process, so the first embedding pass is part of what is measured, as on the page's
first sweep; the backbone load and the calibration are not (the page has done both before it
shows the estimate). Writes bench/results/sweep_estimate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, machine, write_json

SAMPLE = str(ROOT / "sample_data" / "support_intents_en.csv")
ALL_K = (1, 2, 4, 8, 16, None)


def cases() -> dict[str, dict]:
    """Case name -> the sweep's methods (with settings), K values and seeds."""
    from metacore import presets

    preset = presets.get("sweep-1min").plan
    return {
        "sweep-1min": {"methods": dict(preset.methods), "shots": preset.shots,
                       "seeds": preset.seeds},
        "tfidf": {"methods": {"tfidf-logreg": {}}, "shots": ALL_K, "seeds": (0, 1, 2, 3, 4)},
        "centroid+probe": {"methods": {"nearest-centroid": {}, "linear-probe": {}},
                           "shots": ALL_K, "seeds": (0, 1, 2, 3, 4)},
        "protonet": {"methods": {"protonet": {}}, "shots": (1, 2, 4), "seeds": (0,)},
    }


def measure(name: str) -> dict:
    """Estimate, then run, one case (in this process)."""
    from metacore.backbones import load_backbone
    from metacore.data import load_dataset, make_split
    from metacore.estimate import calibrate, sweep_seconds
    from metacore.methods import registry
    from metacore.teaching import k_shot_sweep, sweep_plan
    from metacore.teaching.common import model_threads
    from metacore.training.context import RunContext

    case = cases()[name]
    split = make_split(load_dataset(SAMPLE), test_size=0.2, val_size=0.1, seed=0)
    plan = sweep_plan(list(case["methods"]), case["shots"], case["seeds"], case["methods"])
    uses = any(registry.get(m).uses_backbone for m in plan.methods)
    backbone = load_backbone("minilm") if uses else None
    with model_threads():  # as the page measures it (ui.teach_state.speed)
        speed = calibrate(backbone, split.train.texts[:32]) if uses else None
    estimate = sweep_seconds(plan, split, speed)
    load_before = os.getloadavg()[0]
    ctx = RunContext(backbone=backbone)
    t0 = time.perf_counter()
    measured: dict[str, float] = {m: 0.0 for m in plan.methods}
    failed = 0
    for step in k_shot_sweep(plan, split, ctx=ctx):
        if step.point is not None:
            measured[step.method] += step.point.seconds
        failed += step.error is not None
    wall = time.perf_counter() - t0
    return {"case": name, "runs": len(plan.runs()), "estimate_s": sum(estimate.values()),
            "measured_s": wall, "per_method_estimate_s": estimate,
            "per_method_fit_s": measured, "failed": failed,
            "load_before": load_before, "load_after": os.getloadavg()[0],
            "speed": speed.to_dict() if speed else None}


def wait_for_calm(load: float | None, most_s: float = 600.0) -> None:
    """On a shared machine, wait (at most ``most_s``) until the 1-minute load average is below
    ``load``: the calibration is a one-second measurement that another job can slow down."""
    deadline = time.monotonic() + most_s
    while load is not None and os.getloadavg()[0] >= load and time.monotonic() < deadline:
        time.sleep(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", choices=list(cases()), help="run one case here and print JSON")
    p.add_argument("--only", nargs="+", choices=list(cases()), help="the cases to run")
    p.add_argument("--calm", type=float, help="wait until the load average is below this")
    args = p.parse_args()
    if args.case:
        print("RESULT " + json.dumps(measure(args.case)), flush=True)
        return
    rows = []
    print(f"{'case':16s} {'runs':>4s} {'estimated':>10s} {'measured':>9s} {'ratio':>6s}  "
          f"{'load':12s} calibrated ms/text (forward, train)")
    for name in args.only or cases():
        wait_for_calm(args.calm)
        out = subprocess.run([sys.executable, str(Path(__file__)), "--case", name],
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.split("RESULT ", 1)[1]))
        print(_line(rows[-1]), flush=True)
        write_json("sweep_estimate.json", {"machine": machine(), "rows": rows})


def _line(row: dict) -> str:
    ratio = row["measured_s"] / row["estimate_s"] if row["estimate_s"] else float("nan")
    speed = row["speed"]
    calibrated = "-" if speed is None else \
        f"{1000 * speed['forward_s']:.1f}, {1000 * speed['train_s']:.1f}"
    return (f"{row['case']:16s} {row['runs']:4d} {row['estimate_s']:9.1f}s "
            f"{row['measured_s']:8.1f}s {ratio:6.2f}  {row['load_before']:4.1f} -> "
            f"{row['load_after']:4.1f}  {calibrated}")


if __name__ == "__main__":
    main()
