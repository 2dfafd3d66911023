"""Time each workshop preset end to end, once, on the bundled English sample.

    python bench/presets.py [names…]     # default: every CPU preset

Runs exactly what the preset's page would run (a fresh process, so the backbone load and the
first embedding pass are included) and prints the seconds with the machine description, to be
stored in ``metacore/presets.py``. Writes bench/results/presets.json.
"""

from __future__ import annotations

import json
import os
import sys
import time

from common import RESULTS, ROOT, machine, write_json

SAMPLE = str(ROOT / "sample_data" / "support_intents_en.csv")


def run_sweep(settings: dict) -> None:
    from metacore.backbones import load_backbone
    from metacore.data import load_dataset, make_split
    from metacore.teaching import SweepPlan, k_shot_sweep
    from metacore.training.context import RunContext

    split = make_split(load_dataset(SAMPLE), test_size=0.2, val_size=0.1, seed=0)
    ctx = RunContext(backbone=load_backbone(settings["backbone"]))
    plan = SweepPlan(settings["methods"], settings["shots"], settings["seeds"],
                     settings["configs"])
    for _ in k_shot_sweep(split.train, split.test, plan, ctx=ctx):
        pass


def run_compare(settings: dict) -> None:
    from metacore.api import RunSpec, prepare_data, run_experiment
    from metacore.backbones import load_backbone

    backbone = load_backbone(settings["backbone"])
    for seed in settings["seeds"]:
        base = RunSpec(data=SAMPLE, method="tfidf-logreg", shots=settings["shots"], seed=seed)
        prepared = prepare_data(base)
        for method in settings["methods"]:
            spec = RunSpec(**{**base.to_dict(), "method": method,
                              "method_config": settings["configs"].get(method, {})})
            result = run_experiment(spec, prepared=prepared, backbone=backbone)
            print(f"  {method}: {result.status} {result.timing.get('total_s', 0):.1f} s "
                  f"acc {result.metrics.get('accuracy', 0):.3f}", flush=True)


def run_episodic(settings: dict) -> None:
    from metacore.backbones import load_backbone
    from metacore.episodic import EpisodicSpec, prepare_episodic, run_episodic

    backbone = load_backbone(settings["backbone"])
    base = EpisodicSpec(data=SAMPLE, method="nearest-centroid", n_way=settings["n_way"],
                        k_shot=settings["k_shot"], n_query=settings["n_query"],
                        test_episodes=settings["test_episodes"], classes_split="random")
    data = prepare_episodic(base)
    for method in settings["methods"]:
        spec = EpisodicSpec(**{**base.to_dict(), "method": method,
                               "method_config": settings["configs"].get(method, {})})
        result = run_episodic(spec, data=data, backbone=backbone)
        print(f"  {method}: {result.status} {result.timing.get('total_s', 0):.1f} s "
              f"acc {result.metrics.get('accuracy_mean', 0):.3f}", flush=True)


def main() -> None:
    from metacore.presets import apply_preset, for_kind

    names = sys.argv[1:] or [p.name for p in for_kind(device="cpu")]
    earlier = RESULTS / "presets.json"  # keep the other presets' figures
    old = json.loads(earlier.read_text()).get("presets", {}) if earlier.exists() else {}
    out = {"machine": machine(), "data": "support_intents_en.csv", "presets": old}
    for name in names:
        settings = apply_preset(name)
        load_before = os.getloadavg()[0]
        t0, cpu0 = time.perf_counter(), time.process_time()
        {"sweep": run_sweep, "compare": run_compare, "episodic": run_episodic}[
            settings["kind"]](settings)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        load = max(load_before, os.getloadavg()[0])
        out["presets"][name] = {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                                "load_average": round(load, 1)}
        print(f"{name}: {seconds:.1f} s wall, {cpu:.1f} s CPU, load {load:.1f}", flush=True)
    print(out)
    write_json("presets.json", out)


if __name__ == "__main__":
    main()
