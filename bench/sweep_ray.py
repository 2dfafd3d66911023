"""A 24-run sweep on the local queue and on a local Ray, same machine, same store layout.

    python bench/sweep_ray.py [--cpus 2]

The grid: the two English samples x tfidf-logreg, nearest-centroid, linear-probe (bundled
MiniLM) x K = 4, 8 x seeds 0, 1 = 24 runs. Each backend gets a fresh store; the wall time
covers everything a user waits for (for Ray: starting it, the workers' imports and backbone
loads). Prints both times, their ratio and whether every run's scores agree; writes
bench/results/sweep_ray.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, write_json

PLAN = {"name": "bench", "datasets": [str(ROOT / "sample_data" / "support_intents_en.csv"),
                                      str(ROOT / "sample_data" / "finance_news_en.csv")],
        "methods": {"tfidf-logreg": {}, "nearest-centroid": {}, "linear-probe": {}},
        "shots": [4, 8], "seeds": [0, 1], "backbone": "minilm", "device": "cpu"}


def scores(store) -> dict:
    return {(s.data_source, s.method, json.dumps(store.get(s.run_id).config["run"],
                                                 sort_keys=True, default=str)):
            (s.status, s.macro_f1) for s in store.list_runs()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    args = p.parse_args()
    from metacore.run.ray_backend import connect, ray_submitter
    from metacore.run.sweep import load_sweep, run_sweep
    from metacore.runs.store import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "plan.json"
        plan.write_text(json.dumps(PLAN))
        times, stores = {}, {}
        for backend in ("local", "ray"):
            store = stores[backend] = RunStore(Path(tmp) / backend)
            t0 = time.perf_counter()
            submit = None
            if backend == "ray":
                connect(None, num_cpus=args.cpus)
                submit = ray_submitter(store)
            summary = run_sweep(load_sweep(plan), store, submit=submit)
            times[backend] = time.perf_counter() - t0
            assert len(summary.results) == 24 and not summary.failed, summary
            print(f"{backend}: 24 runs in {times[backend]:.1f} s", flush=True)
        same = scores(stores["local"]) == scores(stores["ray"])
    payload = {"runs": 24, "seconds": times, "ray_cpus": args.cpus,
               "ratio_ray_to_local": times["ray"] / times["local"], "same_scores": same,
               "machine": machine()}
    print(f"Ray / local: {payload['ratio_ray_to_local']:.2f}x; same scores: {same}")
    print(f"wrote {write_json('sweep_ray.json', payload)}")


if __name__ == "__main__":
    main()
