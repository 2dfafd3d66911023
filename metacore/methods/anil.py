"""ANIL, "almost no inner loop" (Raghu, Raghu, Bengio & Vinyals 2020, "Rapid Learning or
Feature Reuse? Towards Understanding the Effectiveness of MAML").

The inner loop adapts only the classification head; the outer loop still trains the whole
network. Because the encoder's features are fixed within an episode, one batched forward pass
per episode suffices and second-order meta-gradients cost little (they only run through the
head's updates). The head is the Proto-MAML head (see ``maml``), so any number of ways works.
"""

from __future__ import annotations

from metacore.methods.maml import AnilConfig, GradientMethod
from metacore.methods.registry import register


@register("anil", config=AnilConfig, family="meta-learning", episodic=True,
          description="ANIL: MAML whose inner loop adapts only the head; the outer loop "
                      "trains the whole encoder (Raghu et al. 2020).")
class Anil(GradientMethod):
    """Head-only inner loop, second-order outer loop over the whole network."""

    config: AnilConfig

    def adapt_part(self) -> tuple[str, int]:
        return "head", 0

    def wants_second_order(self) -> bool:
        return True
