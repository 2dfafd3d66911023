"""Run only the top layers of a transformer encoder, over cached inputs of the frozen rest.

When an inner loop adapts the head and the top k layers (MAML/FOMAML's ``adapt=top``), the
layers below stay frozen at prediction time: what they compute for a text is the same in
every test episode. ``TopLayers`` keeps, per text, the hidden states that enter the first
adapted layer and then runs only the adapted layers (with ``torch.func.functional_call``, so
the inner loop's fast weights apply). With MiniLM's 6 layers and ``top_layers=1`` an episode's
inner steps and query predictions cost about a sixth of a full pass.

Nothing here knows an architecture by name: the inputs a layer receives (its attention mask
in whatever form the model builds it, position arguments and so on) are captured with a
forward pre-hook during a normal call of the model, which a raised exception stops as soon
as they are known (capturing the first layer's inputs costs the embeddings only). The first
time it is used, ``TopLayers.check`` compares its features with a full forward pass; a model
whose layers do not chain that way (a final norm after the layers, per-layer masks) fails
the check and the caller falls back to full passes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from metacore.backbones.base import mean_pool
from metacore.training.batching import collate
from metacore.training.device import autocast

Params = dict[str, torch.Tensor]
_LAYER = re.compile(r"^(.*\blayers?)\.(\d+)\.")
CACHE_BYTES = 512 * 2**20  # bound on the cached hidden states of one method


@dataclass
class Inputs:
    """What the first top layer receives: hidden states (B, T, H), the other positional
    arguments and keyword arguments in the model's own form, and the (B, T) attention mask."""

    hidden: torch.Tensor
    rest: tuple
    kwargs: dict
    mask: torch.Tensor


def _without_hidden(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if k != "hidden_states"}


class _Captured(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by the pre-hook once a layer's inputs are known: the rest need not run."""


def adapted_layers(names: Sequence[str]) -> tuple[str, int] | None:
    """(module path of the layer list, first adapted layer) when every name in ``names`` lies
    in a numbered layer of one list; None otherwise (embeddings or a pooler adapt too)."""
    found = [_LAYER.match(n) for n in names]
    if not names or not all(found) or len({m.group(1) for m in found}) != 1:
        return None
    return found[0].group(1), min(int(m.group(2)) for m in found)


class TopLayers:
    """The encoder's layers from ``first`` on, run over cached inputs (see module docstring).

    Args:
        encoder: The (frozen, in eval mode) Hugging Face encoder.
        path: Module path of its list of layers (``encoder.layer`` for BERT-like models).
        first: Index of the first layer to run; the layers below it are cached per text.
        pad_id: The tokenizer's padding id.
    """

    def __init__(self, encoder: nn.Module, path: str, first: int, pad_id: int) -> None:
        layers = encoder.get_submodule(path)
        if not isinstance(layers, nn.ModuleList) or not 0 < first < len(layers):
            raise ValueError(f"{path} has no layer {first} above the first")
        self.encoder, self.path, self.first, self.pad_id = encoder, path, first, pad_id
        self.layers = layers
        self._cache: dict[tuple[int, ...], torch.Tensor] = {}  # token ids -> (T, H) inputs
        self._bytes = 0

    # --- capturing what a layer receives -----------------------------------------------------
    def _inputs(self, index: int, batch: dict[str, torch.Tensor], grad: bool = False
                ) -> tuple[tuple, dict]:
        """(args, kwargs) that layer ``index`` receives for ``batch``, running only the
        modules before it (with autograd when ``grad``)."""
        box: dict[str, object] = {}

        def hook(module: nn.Module, args: tuple, kwargs: dict) -> None:
            box["args"], box["kwargs"] = args, kwargs
            raise _Captured

        handle = self.layers[index].register_forward_pre_hook(hook, with_kwargs=True)
        device = batch["input_ids"].device
        try:
            with torch.set_grad_enabled(grad), autocast(device):
                self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        except _Captured:
            pass
        finally:
            handle.remove()
        if "args" not in box:
            raise RuntimeError("the encoder never reached its layers")
        return box["args"], box["kwargs"]

    def _hidden(self, ids: Sequence[Sequence[int]], device: torch.device) -> torch.Tensor:
        """(B, T, H) inputs of the first adapted layer, from the cache where possible."""
        keys = [tuple(x) for x in ids]
        self._fill(keys, device, may_clear=True)
        self._fill(keys, device, may_clear=False)  # what a clearing to make room dropped
        length = max(len(k) for k in keys)
        first = self._cache[keys[0]]
        out = first.new_zeros((len(keys), -(-length // 8) * 8, first.shape[-1]))
        for row, key in enumerate(keys):
            out[row, : len(key)] = self._cache[key]
        return out

    def _fill(self, keys: list[tuple[int, ...]], device: torch.device, may_clear: bool) -> None:
        """Compute and cache the inputs of the texts in ``keys`` that are not cached yet; when
        they would pass ``CACHE_BYTES`` (and ``may_clear``), forget the others first."""
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if not missing:
            return
        args, _ = self._inputs(self.first, collate(missing, self.pad_id, device))
        hidden = args[0].detach()
        size = sum(len(k) for k in missing) * hidden.shape[-1] * hidden.element_size()
        if may_clear and self._bytes + size > CACHE_BYTES:
            self.clear()
        for row, key in enumerate(missing):
            self._cache[key] = hidden[row, : len(key)].clone()  # not a view of the batch
        self._bytes += size

    def clear(self) -> None:
        """Forget the cached inputs (call whenever the frozen layers' weights change)."""
        self._cache.clear()
        self._bytes = 0

    # --- running the top ---------------------------------------------------------------------
    def inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Inputs:
        """What the first top layer receives for a padded batch, computed now with autograd
        (meta-training: the frozen-at-prediction layers still learn in the outer loop)."""
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        args, kwargs = self._inputs(self.first, batch, grad=torch.is_grad_enabled())
        return Inputs(args[0], args[1:], _without_hidden(kwargs), attention_mask)

    def run(self, params: Params, inputs: Inputs) -> torch.Tensor:
        """Mean-pooled features (B, H) of the top layers over ``inputs``, with ``params``
        (full names, as ``encoder.named_parameters()`` gives them) overriding their weights."""
        hidden = inputs.hidden
        with autocast(hidden.device):
            for index in range(self.first, len(self.layers)):
                prefix = f"{self.path}.{index}."
                own = {n[len(prefix):]: v for n, v in params.items() if n.startswith(prefix)}
                out = functional_call(self.layers[index], own, args=(hidden, *inputs.rest),
                                      kwargs=inputs.kwargs)
                hidden = out[0] if isinstance(out, tuple) else out
        return mean_pool(hidden.float(), inputs.mask)

    def features(self, params: Params, ids: Sequence[Sequence[int]], device: torch.device
                 ) -> torch.Tensor:
        """``run`` over the texts ``ids``, the frozen layers' outputs taken from the cache."""
        batch = collate(ids, self.pad_id, device)
        args, kwargs = self._inputs(0, batch)  # the mask etc. in the model's own form
        inputs = Inputs(self._hidden(ids, device), args[1:], _without_hidden(kwargs),
                        batch["attention_mask"])
        return self.run(params, inputs)

    def check(self, ids: Sequence[Sequence[int]], device: torch.device) -> bool:
        """Whether ``features`` matches a full forward pass on ``ids`` (use 2+ texts of
        different lengths, so padding is exercised). Leaves the cache empty."""
        try:
            mine = self.features({}, ids, device)
            batch = collate(ids, self.pad_id, device)
            with torch.no_grad(), autocast(device):
                out = self.encoder(input_ids=batch["input_ids"],
                                   attention_mask=batch["attention_mask"])
            full = mean_pool(out.last_hidden_state.float(), batch["attention_mask"])
            tol = 5e-2 if device.type != "cpu" else 1e-4
            return bool(torch.allclose(mine, full, rtol=tol, atol=tol * full.abs().max()))
        except Exception:  # noqa: BLE001 - any architecture it cannot chain: fall back
            return False
        finally:
            self.clear()
