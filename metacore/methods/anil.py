"""ANIL, "almost no inner loop" (Raghu, Raghu, Bengio & Vinyals 2020, "Rapid Learning or
Feature Reuse? Towards Understanding the Effectiveness of MAML").

The inner loop adapts only the classification head; the outer loop still trains the whole
network. Because the encoder's features are fixed within an episode, one batched forward pass
per episode suffices and second-order meta-gradients cost little (they only run through the
head's updates). The head is the Proto-MAML head (see ``maml``), so any number of ways works.
"""

from __future__ import annotations

from metacore.methods.costs import ModelShape
from metacore.methods.maml import AnilConfig, GradientMethod
from metacore.methods.registry import register


@register("anil", config=AnilConfig, family="meta-learning", episodic=True, colour="#db2777",
          description="ANIL: MAML whose inner loop adapts only the head; the outer loop "
                      "trains the whole encoder (Raghu et al. 2020).")
class Anil(GradientMethod):
    """Head-only inner loop, second-order outer loop over the whole network."""

    config: AnilConfig
    cost_factor = 1.24  # measured/counted on the English sample (bench/estimates.py)

    @classmethod
    def inner_part(cls, config: AnilConfig) -> str:
        return "head"

    @classmethod
    def second_order(cls, config: AnilConfig) -> bool:
        return True

    @classmethod
    def trainable_parameters(cls, config, shape: ModelShape, n_classes: int) -> int:
        return shape.params + (shape.hidden + 1) * n_classes  # the adapted head counts too
