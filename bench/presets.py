"""Time each workshop preset end to end, once, on the bundled English sample.

    python bench/presets.py [names…]     # default: every CPU preset

Runs exactly what the preset's page would run (a fresh process, so the backbone load and the
first embedding pass are included): a sweep preset's plan through ``k_shot_sweep`` on the
sample's default split, a comparison's or an unseen-class preset's runs one after another
through the one runner (``metacore.run.run``), the runs of one data seed sharing their data.
Prints the seconds with the machine description, to be stored in ``metacore/presets.py``.
Writes bench/results/presets.json.
"""

from __future__ import annotations

import json
import os
import sys
import time

from common import RESULTS, ROOT, machine, write_json

SAMPLE = str(ROOT / "sample_data" / "support_intents_en.csv")


def run_sweep(plan) -> None:
    from metacore.backbones import load_backbone
    from metacore.data import load_dataset, make_split
    from metacore.teaching import k_shot_sweep
    from metacore.training.context import RunContext

    d = plan.data
    split = make_split(load_dataset(d.path), test_size=d.test_size, val_size=d.val_size,
                       seed=d.split_seed or 0)
    ctx = RunContext(backbone=load_backbone(plan.backbone))
    for _ in k_shot_sweep(plan, split, ctx=ctx):
        pass


def run_plan(plan) -> None:
    """Every run of a comparison or unseen-class plan, as the queue runs them."""
    from metacore.backbones import load_backbone
    from metacore.run import prepare, run

    backbone = load_backbone(plan.backbone)
    prepared: dict[tuple, object] = {}
    for one in plan.runs():
        key = (one.seed, one.shots)
        if key not in prepared:
            prepared[key] = prepare(plan, one)
        result = run(plan, one, prepared=prepared[key], backbone=backbone)
        score = result.metrics.get("accuracy", result.metrics.get("accuracy_mean", 0.0))
        print(f"  {one.key}: {result.status} {result.timing.get('total_s', 0):.1f} s "
              f"acc {score:.3f}", flush=True)


def preset_plan(name: str):
    """The preset's plan on the sample (unseen classes: a seeded random class split, as the
    sample has no split column)."""
    from metacore.plan import DataSource
    from metacore.presets import get

    preset = get(name)
    classes = "random" if preset.kind == "episodic" else "column"
    return preset.with_data(DataSource(path=SAMPLE, split_seed=0, classes_split=classes))


def main() -> None:
    from metacore.presets import for_kind

    names = sys.argv[1:] or [p.name for p in for_kind(machine="cpu")]
    earlier = RESULTS / "presets.json"  # keep the other presets' figures
    old = json.loads(earlier.read_text()).get("presets", {}) if earlier.exists() else {}
    out = {"machine": machine(), "data": "support_intents_en.csv", "presets": old}
    for name in names:
        plan = preset_plan(name)
        load_before = os.getloadavg()[0]
        t0, cpu0 = time.perf_counter(), time.process_time()
        (run_sweep if plan.kind == "sweep" else run_plan)(plan)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        load = max(load_before, os.getloadavg()[0])
        out["presets"][name] = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                                "load_average": round(load, 1)}
        print(f"{name}: {seconds:.1f} s wall, {cpu:.1f} s CPU, load {load:.1f}", flush=True)
    print(out)
    write_json("presets.json", out)


if __name__ == "__main__":
    main()
