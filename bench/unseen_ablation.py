"""Where does a gradient-based meta-learner's unseen-class accuracy come from? Meta-training,
test-time adaptation, or both: an ablation on the first test episodes of ``bench/unseen.py``.

    python bench/unseen_ablation.py --method reptile --shots 1 --episodes 20

For the method with its default settings, on the same first ``--episodes`` test episodes
(Reuters meta_test classes, 15 queries per class): query accuracy of the prototype head
before any inner step and after each inner step (the method's own inner-loop record),
(a) with the pretrained encoder (no meta-training) and (b) after meta-training. Step 0 of (a)
is prototype classification with the pretrained encoder's unnormalised features; the last step
of (b) is the method as ``bench/unseen.py`` scores it. Two references come first, on the same
episodes and in seconds: nearest-centroid (L2-normalised features) and protonet without
meta-training (the unnormalised prototypes every gradient-based learner starts from);
``--references-only`` stops there.
Writes bench/results/unseen-ablation-<method>-<shots>shot.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from common import dataset_path, machine, write_json


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="reuters_bao")
    p.add_argument("--method", default="reptile")
    p.add_argument("--shots", type=int, default=1)
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--references-only", action="store_true")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="method settings (as metacore run --set)")
    args = p.parse_args()
    from metacore.backbones import load_backbone
    from metacore.plan import DataSource, EpisodeShape, ExperimentPlan
    from metacore.run import prepare, run

    config = dict(item.split("=", 1) for item in args.set)  # typed by the method's config
    backbone = load_backbone("minilm")
    shape = EpisodeShape(n_way=args.ways, k_shot=args.shots, n_query=15,
                         test_episodes=args.episodes)
    base = ExperimentPlan(methods={args.method: {}}, protocol="episodic",
                          data=DataSource(path=dataset_path(args.data)), episodes=shape,
                          seeds=(0,))
    data = prepare(base)
    rows = {}
    name = f"unseen-ablation-{args.method}-{args.shots}shot{'-references' * args.references_only}"
    for label, method in (("nearest-centroid", "nearest-centroid"),
                          ("unnormalised prototypes", "protonet")):
        plan = dataclasses.replace(base, methods={method: {}},
                                   episodes=dataclasses.replace(shape, meta_episodes=0))
        r = run(plan, prepared=data, backbone=backbone)
        rows[label] = {"status": r.status, "accuracy_mean": r.metrics.get("accuracy_mean")}
        print(f"{label}: {100 * r.metrics['accuracy_mean']:.1f} % on the same episodes",
              flush=True)
    write_json(f"{name}.json", {"args": vars(args), "machine": machine(), "rows": rows})
    for label, meta in (("pretrained", 0), ("meta-trained", None)):
        if args.references_only:
            break
        # trace every test episode; meta-training episodes use the method's own 5 queries
        settings = {**config, "trace_episodes": args.episodes, "n_query": 5}
        plan = dataclasses.replace(base, methods={args.method: settings},
                                   episodes=dataclasses.replace(shape, meta_episodes=meta))
        t0 = time.perf_counter()
        r = run(plan, prepared=data, backbone=backbone)
        rows[label] = {"status": r.status, "error": r.error,
                       "accuracy_mean": r.metrics.get("accuracy_mean"),
                       "inner_loop": r.inner_loop, "seconds": time.perf_counter() - t0}
        steps = "  ".join(f"{s['step']}: {100 * s['query_accuracy']:.1f}"
                          for s in r.inner_loop if "query_accuracy" in s)
        print(f"{args.method} {args.shots}-shot, {label}: query accuracy by inner step "
              f"{steps}  (support loss {r.inner_loop[0]['support_loss']:.3f} -> "
              f"{r.inner_loop[-1]['support_loss']:.3f})" if r.inner_loop else r.error,
              flush=True)
        write_json(f"{name}.json", {"args": vars(args), "machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
