"""The Backbone: a transformer encoder, its tokenizer, and mean-pooled sentence embeddings."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from metacore.messages import MessageError
from metacore.training.batching import collate, inference_batches
from metacore.training.device import autocast


class BackboneError(MessageError):
    """A backbone cannot be loaded; its coded message is one sentence for the user."""


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average token vectors over the attention mask (sentence-transformers' pooling).

    Args:
        hidden: (B, T, H) last hidden states.
        mask: (B, T) attention mask of 0/1.

    Returns:
        (B, H) sentence vectors.
    """
    mask = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    summed = (hidden * mask).sum(dim=1)  # (B, H)
    return summed / mask.sum(dim=1).clamp(min=1e-9)


@dataclass
class Backbone:
    """A loaded encoder. Shared and read-only: methods deep-copy ``model`` before training it."""

    name: str
    model: nn.Module
    tokenizer: object
    source: str
    pretrained: bool
    max_length: int = 128
    info: dict = field(default_factory=dict)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    def copy_model(self) -> nn.Module:
        """A private, trainable copy of the encoder."""
        return copy.deepcopy(self.model)

    def tokenize(self, texts: Sequence[str], max_length: int | None = None) -> list[list[int]]:
        """Token ids per text, truncated, without padding (batches pad themselves)."""
        enc = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=max_length or self.max_length,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return enc["input_ids"]

    def pad_id(self) -> int:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        return int(pad) if pad is not None else 0

    @torch.no_grad()
    def embed(
        self,
        texts: Sequence[str],
        *,
        device: torch.device | None = None,
        batch_size: int | None = None,
        max_length: int | None = None,
        model: nn.Module | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        """Sentence embeddings of ``texts`` as a float32 array (N, H).

        Texts are sorted by length so each batch pads little, then put back in order. Without
        ``batch_size`` the batches are as large as the device's free memory allows
        (``inference_batches``: 64 texts on the CPU); the vectors stay on the device until the
        end and come back in one copy.
        """

        device = device or torch.device("cpu")
        model = model or self.model
        was_training = model.training
        model.eval()
        ids = self.tokenize(texts, max_length)
        if batch_size:
            order = np.argsort([len(x) for x in ids], kind="stable")
            batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        else:
            batches = inference_batches([len(x) for x in ids], device=device, model=model)
        vecs = []
        for idx in batches:
            batch = collate([ids[i] for i in idx], self.pad_id(), device)
            with autocast(device):
                vec = encode(model, batch["input_ids"], batch["attention_mask"])
            vecs.append(nn.functional.normalize(vec.float(), dim=-1) if normalize
                        else vec.float())
        out = np.zeros((len(ids), self.hidden_size), dtype=np.float32)
        if vecs:
            out[np.concatenate(batches)] = torch.cat(vecs).cpu().numpy()
        model.train(was_training)
        return out


def encode(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean-pooled sentence vectors (B, H) from any Hugging Face encoder (or peft wrapper)."""
    hidden = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return mean_pool(hidden, attention_mask)
