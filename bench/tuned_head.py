"""The head on centroid-blend's tuned encoder: its prototypes against SetFit's head, a logistic
regression on the same (normalised) tuned embeddings, and the two multiplied together.

    python bench/tuned_head.py --dataset agnews --seeds 0 1 2 [--tune-loss pairs]

The same splits, K-shot samples and capped test sets as ``bench/fewshot.py``; one fitted
centroid-blend per seed, so the heads differ and nothing else. Prints macro-F1 % per seed.
(The encoder's own seed is not the benchmark runner's, so the prototype column can differ from
``fewshot.py``'s figure for the same seed by a few tenths.)
"""

from __future__ import annotations

import argparse

import numpy as np
from common import cap_test, dataset_path


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="agnews")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--shots", type=int, default=8)
    p.add_argument("--test-cap", type=int, default=1500)
    p.add_argument("--tune-loss", default="prototypes", choices=["prototypes", "pairs"],
                   help="centroid-blend's tuning objective (the figures in docs/benchmarks.md: "
                        "prototypes, the default before the pair objective)")
    args = p.parse_args()

    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from metacore.backbones import load_backbone
    from metacore.methods import create
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.run import prepare
    from metacore.training.context import EmbeddingCache, RunContext

    backbone, settings = None, {"tune_loss": args.tune_loss}
    print("| seed | prototypes | logistic regression (C = 1) | both | label weight |")
    print("|---|---|---|---|---|")
    for seed in args.seeds:
        plan = ExperimentPlan(methods={"centroid-blend": settings}, seeds=(seed,),
                              data=DataSource(path=dataset_path(args.dataset)),
                              shots=(args.shots,))
        prepared = cap_test(prepare(plan), args.test_cap)
        backbone = backbone or load_backbone(plan.backbone)
        train, test = prepared.train, prepared.split.test
        ctx = RunContext(backbone=backbone, seed=seed, cache=EmbeddingCache())
        torch.manual_seed(seed)
        method = create("centroid-blend", settings)
        method.fit(train, val=None, ctx=ctx)
        y_train = np.array(train.label_ids(method.classes))
        y_test = np.array(test.label_ids(method.classes))
        proto = method.predict_proba(test.texts, ctx=ctx)

        x_train, x_test = (unit(np.asarray(method._features(t, ctx), dtype=np.float64))
                           for t in (train.texts, test.texts))
        logreg = LogisticRegression(C=1.0, max_iter=2000).fit(x_train, y_train)
        lr = logreg.predict_proba(x_test)
        both = np.log(proto + 1e-9) + np.log(lr + 1e-9)
        f1 = [100 * f1_score(y_test, p.argmax(1), average="macro") for p in (proto, lr, both)]
        weight = ctx.extras["centroid_blend"].get("label_weight")
        print(f"| {seed} | {f1[0]:.1f} | {f1[1]:.1f} | {f1[2]:.1f} | {weight:g} |", flush=True)


if __name__ == "__main__":
    main()
