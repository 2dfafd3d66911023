"""The unseen-class protocol on Reuters (Bao et al. 2020 split): N-way K-shot test episodes
drawn only from the meta_test classes, after meta-training on the meta_train classes.

    python bench/unseen.py --shots 1 5 --test-episodes 600

Every method sees the same 600 test episodes (seeded), 15 queries per class; meta-training
episodes use the methods' own 5 queries per class (--train-queries). Prints mean accuracy
± 95% CI and macro-F1 per method and shot count, with meta-training and testing time; writes
bench/results/unseen.json. ``linear-probe`` is fitted on each episode's support set.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from common import dataset_path, machine, wait_if_paused, write_json

# maml adapts only the head here (the "head scope"); the rest use their defaults.
METHODS = {
    "nearest-centroid": {},
    "linear-probe": {},
    "protonet": {},
    "anil": {},
    "fomaml": {},
    "maml": {"adapt": "head"},
    "reptile": {},
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="reuters_bao")
    p.add_argument("--methods", nargs="+", default=list(METHODS))
    p.add_argument("--shots", type=int, nargs="+", default=[1, 5])
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--queries", type=int, default=15, help="queries per class, test episodes")
    p.add_argument("--train-queries", type=int, default=5,
                   help="queries per class in meta-training episodes (the methods' default)")
    p.add_argument("--test-episodes", type=int, default=600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tag", default="", help="suffix of the JSON file name")
    args = p.parse_args()
    from metacore.backbones import load_backbone
    from metacore.methods import registry
    from metacore.plan import DataSource, EpisodeShape, ExperimentPlan
    from metacore.run import prepare, run

    backbone = load_backbone("minilm")
    rows = []
    for shots in args.shots:
        base = ExperimentPlan(
            methods={"nearest-centroid": {}}, protocol="episodic",
            data=DataSource(path=dataset_path(args.data)), seeds=(args.seed,),
            episodes=EpisodeShape(n_way=args.ways, k_shot=shots, n_query=args.queries,
                                  test_episodes=args.test_episodes))
        data = prepare(base)  # the same test episodes for every method
        for name in args.methods:
            config = dict(METHODS.get(name, {}))
            if registry.get(name).episodic:  # meta-training episodes: the method's own queries
                config["n_query"] = args.train_queries
            plan = dataclasses.replace(base, methods={name: config})
            wait_if_paused()
            t0 = time.perf_counter()
            r = run(plan, prepared=data, backbone=backbone)
            m = r.metrics
            rows.append({"method": name, "shots": shots, "status": r.status, "error": r.error,
                         **{k: m.get(k) for k in ("accuracy_mean", "accuracy_ci95",
                                                  "macro_f1_mean", "macro_f1_ci95")},
                         "train_s": r.timing.get("train_s"), "predict_s": r.timing.get(
                             "predict_s"), "wall_s": time.perf_counter() - t0,
                         "config": r.config.get("method"), "inner_loop": r.inner_loop})
            print(f"{args.ways}-way {shots}-shot {name}: {r.status} acc "
                  f"{100 * (m.get('accuracy_mean') or 0):.1f} ± "
                  f"{100 * (m.get('accuracy_ci95') or 0):.1f}  train "
                  f"{r.timing.get('train_s', 0):.0f}s test {r.timing.get('predict_s', 0):.0f}s",
                  flush=True)
            rows[-1]["load"] = os.getloadavg()[0]
            # rewritten after each row, so a stopped benchmark keeps what it measured
            write_json(f"unseen{args.tag}.json", {"args": vars(args), "machine": machine(),
                                                  "rows": rows})


if __name__ == "__main__":
    main()
