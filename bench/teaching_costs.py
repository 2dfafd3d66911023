"""Measure what the teaching estimates need: seconds per fit, by method and training size.

    python bench/teaching_costs.py [--methods protonet full-finetune] [--shots 2 8]

Fits each method once per K on the bundled English sample (seed 0, the embedding cache warm)
and prints ``fixed_s`` and ``per_text_s`` of a straight line through the timings, ready to
paste into ``metacore/teaching/costs.py`` with the machine description printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from common import ROOT, machine


def measure(methods: list[str], shots: list[int]) -> dict:
    import numpy as np

    from metacore.backbones import load_backbone
    from metacore.data import load_dataset, make_split, sample_k_shot
    from metacore.teaching.sweep import fit_and_score
    from metacore.training.context import RunContext

    loaded = load_dataset(str(ROOT / "sample_data" / "support_intents_en.csv"))
    split = make_split(loaded, test_size=0.2, val_size=0.1, seed=0)
    ctx = RunContext(backbone=load_backbone("minilm"))
    t0 = time.perf_counter()
    ctx.embed([*split.train.texts, *split.test.texts])
    embed_s = (time.perf_counter() - t0) / (len(split.train) + len(split.test))
    out = {"embed_per_text_s": round(embed_s, 5), "n_test": len(split.test), "methods": {}}
    for name in methods:
        sizes, seconds = [], []
        for k in shots:
            train = sample_k_shot(split.train, k, seed=0)
            point = fit_and_score(name, train, split.test, shots=k, seed=0, ctx=ctx)
            sizes.append(len(train))
            seconds.append(point.seconds)
            print(f"{name} K={k} n={len(train)}: {point.seconds:.2f} s", flush=True)
        slope, fixed = np.polyfit(sizes, seconds, 1) if len(sizes) > 1 else (0.0, seconds[0])
        out["methods"][name] = {"fixed_s": round(max(0.0, float(fixed)), 3),
                                "per_text_s": round(max(0.0, float(slope)), 5)}
    return out


def measure_brief(methods: list[str], episodes: int = 4) -> dict:
    """Seconds per brief meta-training episode (3-way 4-shot 4-query), one run each."""
    from metacore.backbones import load_backbone
    from metacore.data import load_dataset
    from metacore.teaching import textset_of
    from metacore.teaching.meta import meta_train_briefly
    from metacore.training.context import RunContext

    texts = textset_of(load_dataset(str(ROOT / "sample_data" / "support_intents_en.csv")).frame)
    ctx = RunContext(backbone=load_backbone("minilm"))
    out = {}
    for name in methods:
        t0 = time.perf_counter()
        meta_train_briefly(name, texts, ctx=ctx, episodes=episodes)
        out[name] = round((time.perf_counter() - t0) / episodes, 2)
        print(f"brief {name}: {out[name]} s per episode", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["nearest-centroid", "linear-probe",
                                                         "tfidf-logreg", "protonet",
                                                         "full-finetune"])
    parser.add_argument("--shots", nargs="+", type=int, default=[2, 8])
    parser.add_argument("--brief", nargs="*", default=["protonet", "anil", "fomaml", "maml",
                                                       "reptile"])
    args = parser.parse_args()
    load = os.getloadavg()[0]
    out = {"machine": machine(), "load_average": round(load, 1),
           **measure(args.methods, args.shots), "brief_episode_s": measure_brief(args.brief)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
