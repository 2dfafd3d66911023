"""Shared pieces for methods that classify sentence embeddings: the encoder + linear head
model, batched training through the one loop, batched prediction, and saving in Hugging Face
format (encoder via ``save_pretrained`` plus ``head.safetensors`` and the label map)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from metacore.backbones.base import Backbone, encode
from metacore.data import TextSet
from metacore.training.batching import (
    collate,
    free_bytes,
    inference_batches,
    length_grouped_batches,
    pad_multiple,
    shape_of,
    texts_that_fit,
)
from metacore.training.context import RunContext
from metacore.training.device import adamw, autocast, maybe_compile
from metacore.training.loop import LoopResult, run_loop

HEAD_FILE = "head.safetensors"


class EncoderClassifier(nn.Module):
    """Encoder -> mean pooling -> dropout -> linear head."""

    def __init__(self, encoder: nn.Module, hidden: int, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, n_classes)

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return encode(self.encoder, input_ids, attention_mask)  # (B, H)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(input_ids, attention_mask)))  # (B, C)


def count_parameters(model: nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": int(trainable), "total": int(total)}


def epoch_batches(
    ids: list[list[int]], labels: np.ndarray, *, batch_size: int, epochs: int,
    rng: np.random.Generator,
) -> Iterator[tuple[int, tuple[list[list[int]], np.ndarray]]]:
    """Length-grouped batches for each epoch, as ``(epoch, (token_ids, labels))``."""
    lengths = [len(x) for x in ids]
    for epoch in range(1, epochs + 1):
        for idx in length_grouped_batches(lengths, batch_size, rng):
            yield epoch, ([ids[i] for i in idx], labels[idx])


def train_classifier(
    model: EncoderClassifier, *, backbone: Backbone, train: TextSet, val: TextSet | None,
    classes: list[str], ctx: RunContext, epochs: int, batch_size: int, lr: float,
    head_lr: float, weight_decay: float, warmup_ratio: float, grad_clip: float,
    patience: int | None, max_length: int,
) -> LoopResult:
    """AdamW with linear warm-up and decay, gradient clipping and early stopping on val loss."""
    device = ctx.device
    model.to(device)
    ids = backbone.tokenize(train.texts, max_length)
    multi = train.multi_label  # a sigmoid per label (binary cross-entropy), not a softmax
    y = train.label_matrix(classes) if multi else train.label_ids(classes)
    steps = epochs * -(-len(ids) // batch_size)
    head = set(id(p) for p in model.head.parameters())
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head]
    groups = [{"params": list(model.head.parameters()), "lr": head_lr}]
    if body:
        groups.append({"params": body, "lr": lr})
    opt = adamw(groups, lr=lr, weight_decay=weight_decay, device=device)
    warm = max(1, int(warmup_ratio * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    if multi:  # summed over labels and texts, so a batch's mean is over its texts
        loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    else:
        loss_fn = nn.CrossEntropyLoss(reduction="sum")
    pad = backbone.pad_id()
    forward = maybe_compile(model, device, steps)
    free = free_bytes(device)  # asked once, with the shape: nothing of it on the hot path
    shape = shape_of(model.encoder) if free is not None else None

    def step(batch: tuple[list[list[int]], np.ndarray]) -> dict[str, float]:
        model.train()
        rows, labels = batch
        longest = pad_multiple(max(len(x) for x in rows))
        per = texts_that_fit(shape, longest, free, training=True, limit=len(rows))
        opt.zero_grad(set_to_none=True)
        total = None
        for start in range(0, len(rows), per):  # one pass unless the batch does not fit
            enc = collate(rows[start : start + per], pad, device)
            target = torch.as_tensor(labels[start : start + per], device=device)
            with autocast(device):
                logits = forward(enc["input_ids"], enc["attention_mask"])
            loss = loss_fn(logits.float(), target) / len(rows)  # the whole batch's mean
            loss.backward()
            total = loss.detach() if total is None else total + loss.detach()
        if grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        sched.step()
        return {"loss": total, "lr": sched.get_last_lr()[-1]}

    evaluate = None
    if val is not None and len(val):
        val_ids = backbone.tokenize(val.texts, max_length)
        val_y = val.label_matrix(classes) if multi else val.label_ids(classes)

        def evaluate() -> dict[str, float]:
            logits = predict_logits(model, val_ids, pad, device)
            if multi:  # accuracy: every label of a text right (at 0.5), as subset accuracy
                loss = nn.functional.binary_cross_entropy_with_logits(
                    torch.as_tensor(logits), torch.as_tensor(val_y), reduction="sum"
                ) / max(1, len(val_y))
                right = ((logits > 0) == (val_y > 0.5)).all(axis=1)
                return {"val_loss": float(loss), "val_accuracy": float(right.mean())}
            loss = nn.functional.cross_entropy(torch.as_tensor(logits), torch.as_tensor(val_y))
            return {"val_loss": float(loss), "val_accuracy": float((logits.argmax(1) == val_y)
                                                                     .mean())}

    return run_loop(
        ctx=ctx, batches=epoch_batches(ids, y, batch_size=batch_size, epochs=epochs,
                                       rng=ctx.rng("batch_order")),
        total_steps=steps, step=step, evaluate=evaluate, eval_every=-(-len(ids) // batch_size),
        patience=patience, snapshot=lambda: copy.deepcopy(model.state_dict()),
        restore=model.load_state_dict,
    )


@torch.no_grad()
def predict_logits(
    model: EncoderClassifier, ids: Sequence[Sequence[int]], pad_id: int, device: torch.device,
    features: bool = False,
) -> np.ndarray:
    """Logits (N, C), or pooled features (N, H), in input order; batches by length, sized
    to the device (``inference_batches``), copied back once."""
    model.eval()
    batches = inference_batches([len(x) for x in ids], device=device, model=model.encoder)
    chunks: list[torch.Tensor] = []
    for idx in batches:
        enc = collate([ids[i] for i in idx], pad_id, device)
        with autocast(device):
            fn = model.features if features else model
            chunks.append(fn(enc["input_ids"], enc["attention_mask"]).float())
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    out = torch.cat(chunks).cpu().numpy()
    result = np.empty_like(out)
    result[np.concatenate(batches)] = out
    return result


def save_encoder_head(
    directory: Path, encoder: nn.Module, head: nn.Linear, backbone: Backbone,
    classes: list[str],
) -> None:
    """Encoder and tokenizer via ``save_pretrained`` (loadable by transformers alone), the head
    in safetensors, and the label map in the encoder's config (``id2label``)."""
    directory.mkdir(parents=True, exist_ok=True)
    encoder = copy.deepcopy(encoder).cpu()
    encoder.config.id2label = dict(enumerate(classes))
    encoder.config.label2id = {c: i for i, c in enumerate(classes)}
    encoder.save_pretrained(directory, safe_serialization=True)
    backbone.tokenizer.save_pretrained(directory)
    save_file({"weight": head.weight.detach().cpu().contiguous(),
               "bias": head.bias.detach().cpu().contiguous()}, str(directory / HEAD_FILE))


def restore_method(cls: type, directory: str | Path) -> tuple[object, nn.Linear, dict]:
    """A new ``cls`` method from a folder written by ``save_encoder_head``: its settings,
    classes and ``backbone`` (the saved encoder and tokenizer) restored. Returns the method,
    the saved head and the manifest; what else the method needs is the caller's."""
    from metacore.methods.base import read_manifest

    directory = Path(directory)
    manifest = read_manifest(directory)
    method = cls(cls.config_cls.from_dict(manifest["config"]))
    method.restore_labels(manifest)
    encoder, head, tokenizer = load_encoder_head(directory)
    method.backbone = Backbone(name=str(directory), model=encoder, tokenizer=tokenizer,
                               source=str(directory), pretrained=True)
    return method, head, manifest


def load_encoder_head(directory: Path) -> tuple[nn.Module, nn.Linear, object]:
    from transformers import AutoModel, AutoTokenizer

    encoder = AutoModel.from_pretrained(directory, use_safetensors=True, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    state = load_file(str(directory / HEAD_FILE))
    head = nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
    head.load_state_dict(state)
    return encoder.eval(), head, tokenizer
