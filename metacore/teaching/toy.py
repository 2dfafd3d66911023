"""A meta-learner small enough to train in a second: inner and outer loops you can watch.

On top of frozen sentence embeddings f(x) sits one meta-learned weight per embedding
dimension, d (theta): features are f(x) * d. For each episode the inner loop starts a
Proto-MAML head from the support prototypes and takes a few SGD steps on the support loss
(ANIL-style, Raghu et al. 2020); the outer loop then moves d so that the *adapted* head does
well on the query set, differentiating through the inner steps (second-order MAML, Finn et al.
2017). It uses ``inner_loop`` and ``proto_head`` from the real methods; only the network is
tiny (one weight per dimension generalises to new classes where a full matrix would overfit
the few base classes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from metacore.data import TextSet
from metacore.data.episodes import Episode, episode_labels, sample_episodes
from metacore.methods.episodic_base import head_logits, proto_head
from metacore.methods.maml import HEAD, inner_loop
from metacore.teaching.common import few_threads


@dataclass(frozen=True)
class ToyMetaLearning:
    """What one run of the toy meta-learner shows.

    Attributes:
        outer: One row per outer step: ``outer_step``, ``query_loss``, ``query_accuracy`` of
            the training episode after its inner loop.
        inner: Inner-loop curves on novel-class episodes, averaged: ``when`` ("before" /
            "after" meta-training), ``step``, ``support_loss``, ``query_loss``,
            ``query_accuracy``.
    """

    outer: pd.DataFrame
    inner: pd.DataFrame
    inner_steps: int
    outer_steps: int


@dataclass(frozen=True)
class ToySettings:
    shape: tuple[int, int, int] = (3, 2, 5)  # n_way, k_shot, n_query
    inner_steps: int = 5
    inner_lr: float = 0.5
    outer_steps: int = 60
    outer_lr: float = 3e-3
    eval_episodes: int = 20
    seed: int = 0


def _tensors(feats: torch.Tensor, textset: TextSet, episode: Episode):
    ys, yq = (torch.as_tensor(y) for y in episode_labels(textset, episode))
    return feats[list(episode.support)], ys, feats[list(episode.query)], yq


def adapt_and_score(adapter: torch.Tensor, fs: torch.Tensor, ys: torch.Tensor, n_way: int,
                    settings: ToySettings, *, second_order: bool) -> list[dict[str, torch.Tensor]]:
    """The inner loop on one support set: the head's trajectory, step 0 to inner_steps."""
    gs = fs * adapter  # (S, H)
    weight, bias = proto_head(gs, ys, n_way)

    def loss_fn(p: dict[str, torch.Tensor], step: int) -> torch.Tensor:
        return nn.functional.cross_entropy(head_logits(gs, p[HEAD[0]], p[HEAD[1]]), ys)

    lrs = {k: torch.full((settings.inner_steps,), settings.inner_lr) for k in HEAD}
    return inner_loop(loss_fn, {HEAD[0]: weight, HEAD[1]: bias}, steps=settings.inner_steps,
                      lrs=lrs, second_order=second_order)


def _inner_curve(adapter: torch.Tensor, feats: torch.Tensor, textset: TextSet,
                 episodes: Sequence[Episode], settings: ToySettings, when: str) -> pd.DataFrame:
    rows = []
    for ep in episodes:
        fs, ys, fq, yq = _tensors(feats, textset, ep)
        traj = adapt_and_score(adapter, fs, ys, ep.n_way, settings, second_order=False)
        for step, p in enumerate(traj):
            with torch.no_grad():
                ls = nn.functional.cross_entropy(head_logits(fs * adapter, *p.values()), ys)
                lq = head_logits(fq * adapter, p[HEAD[0]], p[HEAD[1]])
            rows.append({"when": when, "step": step, "support_loss": float(ls),
                         "query_loss": float(nn.functional.cross_entropy(lq, yq)),
                         "query_accuracy": float((lq.argmax(-1) == yq).float().mean())})
    return pd.DataFrame(rows).groupby(["when", "step"], as_index=False).mean()


def toy_meta_learning(base: TextSet, base_feats: np.ndarray, novel: TextSet,
                      novel_feats: np.ndarray, settings: ToySettings = ToySettings()
                      ) -> ToyMetaLearning:
    """Meta-train the toy on ``base`` episodes; show its inner loop on ``novel`` episodes."""
    with few_threads():
        return _meta_learn(base, base_feats, novel, novel_feats, settings)


def _meta_learn(base: TextSet, base_feats: np.ndarray, novel: TextSet, novel_feats: np.ndarray,
                settings: ToySettings) -> ToyMetaLearning:
    torch.manual_seed(settings.seed)
    fb = torch.as_tensor(np.asarray(base_feats), dtype=torch.float32)
    fn = torch.as_tensor(np.asarray(novel_feats), dtype=torch.float32)
    n_way, k, q = settings.shape
    train_eps = sample_episodes(base, min(n_way, len(base.classes)), k, q,
                                settings.outer_steps, seed=settings.seed)
    test_eps = sample_episodes(novel, min(n_way, len(novel.classes)), k, q,
                               settings.eval_episodes, seed=settings.seed + 1)
    adapter = torch.ones(fb.shape[1], requires_grad=True)  # (H,): start from f(x) itself
    before = _inner_curve(adapter.detach(), fn, novel, test_eps, settings, "before")
    opt = torch.optim.Adam([adapter], lr=settings.outer_lr)
    rows = []
    for step, ep in enumerate(train_eps, start=1):
        fs, ys, fq, yq = _tensors(fb, base, ep)
        final = adapt_and_score(adapter, fs, ys, ep.n_way, settings, second_order=True)[-1]
        logits = head_logits(fq * adapter, final[HEAD[0]], final[HEAD[1]])
        loss = nn.functional.cross_entropy(logits, yq)  # the outer (meta) loss
        opt.zero_grad()
        loss.backward()  # through the inner steps into A
        opt.step()
        rows.append({"outer_step": step, "query_loss": float(loss.detach()),
                     "query_accuracy": float((logits.argmax(-1) == yq).float().mean())})
    after = _inner_curve(adapter.detach(), fn, novel, test_eps, settings, "after")
    return ToyMetaLearning(pd.DataFrame(rows), pd.concat([before, after], ignore_index=True),
                           settings.inner_steps, len(rows))
