"""Meta-training speed: episodes per second of each meta-learner on one backbone and device.

    python bench/episodic.py                                   # MiniLM, the CPU, 5-way 5-shot
    python bench/episodic.py --device cuda --backbone random-init:minilm --episodes 50

Episodes are drawn from the ``meta_train`` classes of ``--data`` (default: Reuters, Bao et al.
split; real texts, so real lengths), 5-way 5-shot 5-query unless told otherwise, with each
method's default settings (``maml``: second order through the top layer). The clock starts
after two warm-up episodes. Prints episodes per second, texts per second and seconds per
episode per method; writes bench/results/episodic-<device>.json.

With ``--test-episodes N`` it also times prediction (adapting to a test episode's support set
and classifying its 15 queries per class, ``meta_test`` classes) on N episodes per method, and
for methods whose inner loop adapts only the top layers, the same episodes again with full
passes through an adapted copy of the encoder (the way before the lower layers' outputs were
cached), in the same process, with the ratio. Meta-training of those methods is also timed
both ways (the lower layers run once per episode, or at every inner step):

    python bench/episodic.py --methods fomaml maml reptile --episodes 0 --test-episodes 20
"""

from __future__ import annotations

import argparse
import os
import time

from common import dataset_path, machine, wait_if_paused, write_json

METHODS = ["protonet", "anil", "fomaml", "maml", "reptile"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="reuters_bao")
    p.add_argument("--methods", nargs="+", default=METHODS)
    p.add_argument("--backbone", default="minilm")
    p.add_argument("--device", default="cpu")
    p.add_argument("--episodes", type=int, default=10, help="timed episodes per method")
    p.add_argument("--ways", type=int, default=5)
    p.add_argument("--shots", type=int, default=5)
    p.add_argument("--queries", type=int, default=5)
    p.add_argument("--test-episodes", type=int, default=0,
                   help="also time prediction on this many test episodes (15 queries/class)")
    args = p.parse_args()

    import torch

    from metacore.backbones import load_backbone
    from metacore.data import TextSet, load_dataset
    from metacore.methods import registry
    from metacore.training.context import EmbeddingCache, RunContext

    backbone = load_backbone(args.backbone)
    frame = load_dataset(dataset_path(args.data)).frame
    split = frame["split"].str.lower() if "split" in frame else None
    novel = frame if split is None else frame[split == "meta_test"]
    if split is not None:
        frame = frame[split == "meta_train"]
    base = TextSet(tuple(frame["text"]), tuple(frame["label"]))
    shape = {"n_way": args.ways, "k_shot": args.shots, "n_query": args.queries,
             "val_episodes": 0}
    rows = []

    def meta_training_seconds(name: str, ctx, shortcut: bool = True):
        times = {}
        for episodes in (2, 2 + args.episodes):  # the difference excludes set-up and warm-up
            method = registry.create(name, {**shape, "meta_episodes": episodes})
            if not shortcut:
                method._top_ok = False  # full passes at every inner step
            t0 = time.perf_counter()
            method.meta_train(base, val=None, ctx=ctx)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times[episodes] = time.perf_counter() - t0
        return method, max(1e-9, times[2 + args.episodes] - times[2])

    for name in args.methods:
        wait_if_paused()
        ctx = RunContext(backbone=backbone, seed=0, cache=EmbeddingCache(),
                         device=torch.device(args.device))
        method, seconds = meta_training_seconds(name, ctx)
        texts = args.ways * (args.shots + args.queries)
        rows.append({"method": name, "episodes": args.episodes, "seconds": seconds,
                     "episodes_per_s": args.episodes / seconds,
                     "texts_per_s": args.episodes * texts / seconds,
                     "load": os.getloadavg()[0]})
        if args.episodes:
            line = (f"{name:10s} {rows[-1]['episodes_per_s']:6.2f} episodes/s  "
                    f"{rows[-1]['texts_per_s']:7.1f} texts/s  "
                    f"{seconds / args.episodes:5.2f} s/episode  load {rows[-1]['load']:.1f}")
            if getattr(method, "_top_ok", None):  # the top-layer shortcut ran: time it off
                _, full = meta_training_seconds(name, ctx, shortcut=False)
                rows[-1].update(seconds_full_passes=full, shortcut_speed_up=full / seconds)
                line += f"; {full / args.episodes:5.2f} with full passes ({full / seconds:.1f}x)"
            print(line, flush=True)
        if args.test_episodes:
            rows[-1].update(test_time(method, novel, args, ctx))
        write_json(f"episodic-{args.device.split(':')[0]}.json",
                   {"args": vars(args), "machine": machine(), "rows": rows})


def test_time(method, novel, args, ctx) -> dict:
    """Seconds per test episode of ``method`` (as trained), and without the top-layer
    shortcut where it applies (same episodes, same process)."""
    from metacore.data import TextSet
    from metacore.data.episodes import sample_episodes

    textset = TextSet(tuple(novel["text"]), tuple(novel["label"]))
    episodes = sample_episodes(textset, args.ways, args.shots, 15, args.test_episodes, seed=1)

    def per_episode() -> float:
        t0 = time.perf_counter()
        for ep in episodes:
            method.predict_episode(textset.subset(list(ep.support)),
                                   [textset.texts[j] for j in ep.query], ctx=ctx)
        return (time.perf_counter() - t0) / len(episodes)

    per_episode()  # warm-up: fills the caches, as the first of 600 test episodes would
    out = {"test_s_per_episode": per_episode()}
    line = f"{method.name:10s} test {out['test_s_per_episode']:6.3f} s/episode"
    if getattr(method, "_top_ok", None):  # the top-layer shortcut ran: time it switched off
        method._top_ok = False
        out["test_s_per_episode_full_passes"] = per_episode()
        out["test_shortcut_speed_up"] = out["test_s_per_episode_full_passes"] / out[
            "test_s_per_episode"]
        line += (f", {out['test_s_per_episode_full_passes']:6.3f} with full passes: "
                 f"{out['test_shortcut_speed_up']:.1f}x faster")
    print(line, flush=True)
    return out


if __name__ == "__main__":
    main()
