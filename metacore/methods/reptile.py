"""Reptile (Nichol, Achiam & Schulman 2018, "On First-Order Meta-Learning Algorithms").

For each episode, start from the current weights theta, run ``inner_steps`` SGD steps on the
episode's labelled texts to reach phi, then move the initialisation towards phi:
``theta <- theta + meta_step * (phi - theta)``. No second derivatives. The head is the
Proto-MAML head (see ``maml``), so the inner loop starts from the support prototypes and any
number of ways works; prediction adapts on the support set (``GradientMethod.adapt``).

In meta-training the inner loop trains on the whole episode, support and queries together:
Reptile needs no split within a task (the paper's section 5 makes this point), and it needs
the queries here, because a prototype head classifies its own support set almost perfectly
(at 1 shot each support text *is* its class's prototype), which leaves the support loss and
its gradient at about zero and the update ``phi - theta`` empty: trained on the support set
alone, Reptile did not learn at 1 shot (Reuters 5-way 1-shot: 70.9 %, the same as without
meta-training; ``bench/unseen_ablation.py``). The training curve reports the queries' loss and
accuracy under the episode's prototypes *before* the inner loop, which does see them; the
inner-loop record adapts on the support set alone, as prediction does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from metacore.config import setting
from metacore.methods.costs import MemoryProfile, Work
from metacore.methods.episodic_base import EpisodeBatch, accuracy, head_logits, proto_head
from metacore.methods.maml import (
    HEAD,
    GradientConfig,
    GradientMethod,
    Params,
    functional_features,
    inner_loop,
)
from metacore.methods.registry import register
from metacore.training.context import RunContext


@dataclass
class ReptileConfig(GradientConfig):
    inner_steps: int = setting(3, "SGD steps on each support set (inner loop), in training "
                               "and at prediction.", minimum=1, maximum=50)
    inner_lr: float = setting(0.005, "Learning rate of the inner-loop steps.", minimum=0.0,
                              maximum=10.0)
    meta_step: float = setting(0.3, "How far the weights move towards each episode's adapted "
                               "weights (epsilon in the paper; 1 = all the way).",
                               minimum=0.0, maximum=1.0)
    adapt: str = setting("all", "What the inner loop adapts (and so what Reptile trains): "
                         "the top layers or the whole network.", choices=("top", "all"))
    top_layers: int = setting(2, "With adapt=top: how many of the last transformer layers "
                              "adapt.", minimum=1, maximum=48)


def reptile_update(loss_fn: Callable[[Params, int], torch.Tensor],
                   params: dict[str, nn.Parameter], extra: Params, *, steps: int,
                   lrs: dict[str, torch.Tensor], meta_step: float) -> list[Params]:
    """One Reptile update of ``params`` in place; ``extra`` (the head) adapts but is not kept.

    Returns:
        The inner-loop trajectory, for scoring and the inner-loop record.
    """
    start = {**{n: p.detach() for n, p in params.items()}, **extra}
    traj = inner_loop(loss_fn, start, steps=steps, lrs=lrs, second_order=False)
    with torch.no_grad():
        for name, param in params.items():
            param.add_(meta_step * (traj[-1][name] - param))  # theta + eps (phi - theta)
    return traj


@register("reptile", config=ReptileConfig, family="meta-learning", episodic=True,
          colour="#ea580c",
          description="Reptile: adapt to each episode with SGD, then move the weights towards "
                      "the adapted ones (Nichol et al. 2018).")
class Reptile(GradientMethod):
    """First-order meta-learning by interpolation towards adapted weights."""

    config: ReptileConfig

    cost_factor = 2.6  # measured/counted on the English sample (bench/estimates.py)

    @classmethod
    def second_order(cls, config: ReptileConfig) -> bool:
        return False

    @classmethod
    def meta_passes(cls, config: ReptileConfig, episodes: int, texts: int
                    ) -> tuple[float, float]:
        """Each inner step trains on the whole episode, after one pass that scores it."""
        return episodes * config.inner_steps * texts, episodes * texts

    @classmethod
    def adapt_work(cls, config: ReptileConfig, n_support: int) -> Work:
        """Prediction first adapts to the whole support set the same way."""
        return Work(train=config.inner_steps * n_support)

    @classmethod
    def memory_profile(cls, config: ReptileConfig) -> MemoryProfile:
        return MemoryProfile(optimizer_states=0, activation_factor=1.5)  # no outer optimiser

    def begin_meta_training(self, ctx: RunContext, total: int) -> None:
        self._seen, self._total, self._train_traces = 0, total, []

    def train_step(self, batch: EpisodeBatch, ctx: RunContext) -> dict[str, float]:
        self.encoder.eval()  # no dropout in inner loops, as for MAML
        self._seen += 1
        enc, s = self.encoder, batch.n_support
        everything = (batch.input_ids, batch.attention_mask)
        labels = torch.cat([batch.y_support, batch.y_query])
        with torch.no_grad():
            feats = functional_features(enc, {}, *everything)
        weight, bias = proto_head(feats[:s], batch.y_support, batch.n_way)

        def loss_fn(p: Params, step: int) -> torch.Tensor:
            f = functional_features(enc, p, *everything)
            return nn.functional.cross_entropy(
                head_logits(f, p["head.weight"], p["head.bias"]), labels)

        trace = None
        if self._seen > self._total - self.config.trace_episodes:
            # the inner-loop chart shows what prediction does: adapt on the support set from
            # the current initialisation, score the queries (so before this episode's update)
            _, _, trace = self.episode_loss(batch, False, True)
        own = dict(enc.named_parameters())
        reptile_update(loss_fn, {n: own[n] for n in self._names},
                       {HEAD[0]: weight, HEAD[1]: bias}, steps=self.config.inner_steps,
                       lrs={k: v.detach() for k, v in self.lrs().items()},
                       meta_step=self.config.meta_step)
        if trace:
            self._train_traces.append(trace)
        logits = head_logits(feats[s:], weight, bias)  # before the inner loop (see docstring)
        return {"loss": nn.functional.cross_entropy(logits, batch.y_query),
                "accuracy": accuracy(logits, batch.y_query)}
