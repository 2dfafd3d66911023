"""LoRA: low-rank adapters in the attention projections, trained with a new head.

Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models". Implemented with peft
(the reference library, kept by Hugging Face) rather than by hand: it knows each architecture's
module names and merges the adapters back into plain weights for export.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from metacore.backbones.base import Backbone
from metacore.config import setting
from metacore.methods.costs import ModelShape
from metacore.methods.finetune import EncoderMethod, FinetuneConfig
from metacore.methods.registry import register


@dataclass
class LoraConfig(FinetuneConfig):
    lr: float = setting(1e-3, "Learning rate of the LoRA adapters (they start at zero, so "
                        "they need a larger rate than full fine-tuning).", minimum=0.0,
                        maximum=1.0)
    rank: int = setting(8, "Rank of each low-rank update: more capacity, more parameters.",
                        minimum=1, maximum=256)
    alpha: int = setting(16, "Scale of the LoRA update (alpha / rank multiplies it).",
                         minimum=1, advanced=True)
    lora_dropout: float = setting(0.1, "Dropout inside the adapters.", minimum=0.0,
                                  maximum=0.9, advanced=True)
    target_modules: str = setting("auto", "Comma-separated module names to adapt; auto picks "
                                  "the attention query and value projections.", advanced=True)


@register("lora", config=LoraConfig, family="fine-tuning", colour="#7c3aed",
          description="LoRA adapters in the attention layers (peft) plus a new head; "
                      "the encoder's own weights stay frozen.")
class Lora(EncoderMethod):
    """Parameter-efficient fine-tuning with peft's LoRA."""

    config: LoraConfig
    cost_factor = 1.05  # the frozen weights need no gradients of their own

    @classmethod
    def trainable_parameters(cls, config: LoraConfig, shape: ModelShape, n_classes: int) -> int:
        """A and B of rank r in the query and value projections of every layer, plus the
        head."""
        adapters = shape.layers * 2 * 2 * config.rank * shape.hidden
        return adapters + (shape.hidden + 1) * n_classes

    def make_encoder(self, backbone: Backbone) -> nn.Module:
        from peft import LoraConfig as PeftLoraConfig
        from peft import get_peft_model

        c = self.config
        targets = _targets(backbone.model, c.target_modules)
        peft_config = PeftLoraConfig(r=c.rank, lora_alpha=c.alpha, lora_dropout=c.lora_dropout,
                                     target_modules=targets, bias="none")
        return get_peft_model(backbone.copy_model(), peft_config)

    def export_encoder(self) -> nn.Module:
        """Merge the adapters into the weights: the export is a plain transformers model."""
        import copy

        assert self.model is not None
        return copy.deepcopy(self.model.encoder).merge_and_unload()


def _targets(model: nn.Module, setting_value: str) -> list[str]:
    if setting_value and setting_value != "auto":
        return [s.strip() for s in setting_value.split(",") if s.strip()]
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    for pair in (["query", "value"], ["q_proj", "v_proj"], ["q_lin", "v_lin"], ["c_attn"]):
        if set(pair) <= names:
            return pair
    raise ValueError("LoRA could not find attention projections in this backbone; set "
                     "target_modules to the names of its linear layers.")
