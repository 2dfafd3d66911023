"""Batch sizes chosen from the device and the data, gradient accumulation, compile choice."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from metacore.memory import activation_bytes, model_shape_of
from metacore.training import batching
from metacore.training.batching import MEMORY_SHARE, inference_batches, shape_of, texts_that_fit


def test_texts_that_fit_follow_the_free_memory(tiny):
    shape = shape_of(tiny.model)
    assert shape == model_shape_of(tiny.model) and shape_of(nn.Linear(2, 2)) is None
    per = activation_bytes(shape, 1, 64, training=True)
    free = int(5 * per / MEMORY_SHARE) + 1
    assert texts_that_fit(shape, 64, free, training=True, limit=32) == 5
    assert texts_that_fit(shape, 64, free, training=True, limit=3) == 3
    assert texts_that_fit(shape, 64, None, training=True, limit=32) == 32  # the CPU: all
    assert texts_that_fit(shape, 64, 1, training=True, limit=32) == 1  # never zero
    assert texts_that_fit(shape, 128, free, training=True, limit=32) < 5  # longer: fewer


def test_inference_batches_cover_every_text_longest_first(tiny, monkeypatch):
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 120, size=300)
    cpu = inference_batches(lengths, device=torch.device("cpu"), model=tiny.model)
    assert [len(b) for b in cpu[:-1]] == [batching.CPU_BATCH] * (len(cpu) - 1)
    assert sorted(np.concatenate(cpu).tolist()) == list(range(300))
    # an accelerator with little free memory: batches grow as the texts get shorter
    per = activation_bytes(model_shape_of(tiny.model), 1, 120, training=False)
    monkeypatch.setattr(batching, "free_bytes", lambda device: int(10 * per / MEMORY_SHARE))
    gpu = inference_batches(lengths, device=torch.device("cpu"), model=tiny.model)
    assert sorted(np.concatenate(gpu).tolist()) == list(range(300))
    sizes = [len(b) for b in gpu]
    assert 1 <= sizes[0] <= 10 and max(sizes) > 3 * sizes[0]
    first = [int(lengths[b].max()) for b in gpu]
    assert first == sorted(first, reverse=True)


def test_embed_is_the_same_whatever_the_batches(tiny):
    texts = [f"text number {i} " + "word " * (i % 17) for i in range(70)]
    auto = tiny.embed(texts)
    small = tiny.embed(texts, batch_size=7)
    assert auto.shape == (70, tiny.hidden_size)
    np.testing.assert_allclose(auto, small, atol=1e-5)


def _train(tiny, separable, ctx, monkeypatch, per=None):
    from metacore.methods import heads

    if per is not None:
        # an accelerator whose free memory holds 3 texts of the batch's length
        monkeypatch.setattr(heads, "free_bytes", lambda device: 1)
        monkeypatch.setattr(heads, "texts_that_fit", lambda *a, limit, **k: min(per, limit))
    encoder = copy.deepcopy(tiny.model)
    for module in encoder.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0  # the same update with or without accumulation
    torch.manual_seed(0)
    model = heads.EncoderClassifier(encoder, tiny.hidden_size, 3, dropout=0.0)
    train, _ = separable
    heads.train_classifier(model, backbone=tiny, train=train, val=None, classes=train.classes,
                           ctx=ctx, epochs=2, batch_size=8, lr=1e-3, head_lr=1e-2,
                           weight_decay=0.0, warmup_ratio=0.1, grad_clip=1.0, patience=None,
                           max_length=32)
    return model, [s["loss"] for s in ctx.steps]


def test_a_batch_split_into_micro_batches_gives_the_same_update(tiny, separable, monkeypatch):
    from metacore.training.context import EmbeddingCache, RunContext

    whole, losses = _train(tiny, separable, RunContext(backbone=tiny, seed=0,
                                                       cache=EmbeddingCache()), monkeypatch)
    split, split_losses = _train(tiny, separable, RunContext(backbone=tiny, seed=0,
                                                             cache=EmbeddingCache()),
                                 monkeypatch, per=3)
    assert len(losses) == len(split_losses) == 8
    np.testing.assert_allclose(losses, split_losses, rtol=1e-4)
    for a, b in zip(whole.parameters(), split.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("env", [None, "0"])
def test_compile_is_left_out_on_the_cpu_and_when_turned_off(monkeypatch, env):
    from metacore.training.device import maybe_compile

    if env is None:
        monkeypatch.delenv("METACORE_COMPILE", raising=False)
    else:
        monkeypatch.setenv("METACORE_COMPILE", env)
    model = nn.Linear(2, 2)
    assert maybe_compile(model, torch.device("cpu"), 10_000) is model
    if env == "0":
        assert maybe_compile(model, torch.device("cuda"), 10_000) is model
