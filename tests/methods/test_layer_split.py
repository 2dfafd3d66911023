"""Running only the adapted top layers over cached inputs gives what a full pass gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from metacore.methods import create
from metacore.methods.layer_split import TopLayers, adapted_layers
from metacore.methods.maml import functional_features, layer_names
from metacore.training.batching import collate

CPU = torch.device("cpu")
TEXTS = ["stock market bank profit shares investor dividend", "rain", "pizza pasta recipe"]


def perturbed_top(encoder: nn.Module, names: list[str]) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {n: p.detach() + 0.05 * torch.randn(p.shape, generator=g)
            for n, p in encoder.named_parameters() if n in names}


def test_top_layers_match_a_full_pass_in_value_and_gradient(tiny):
    encoder = tiny.copy_model().eval()
    names = layer_names(encoder, "top", 1)
    path, first = adapted_layers(names)
    assert (path, first) == ("encoder.layer", 1)
    top = TopLayers(encoder, path, first, tiny.pad_id())
    ids = tiny.tokenize(TEXTS, 32)  # three lengths: padding on two rows
    batch = collate(ids, tiny.pad_id())
    params = perturbed_top(encoder, names)

    def full(p):
        return functional_features(encoder, p, batch["input_ids"], batch["attention_mask"])

    torch.testing.assert_close(top.features(params, ids, CPU), full(params))
    torch.testing.assert_close(top.features(params, ids[::-1], CPU), full(params).flip(0))
    assert not torch.allclose(full(params), full({}))  # the override does reach the layer
    g_full = torch.func.grad(lambda p: full(p).square().sum())(params)
    g_top = torch.func.grad(lambda p: top.features(p, ids, CPU).square().sum())(params)
    for name in params:
        torch.testing.assert_close(g_top[name], g_full[name])
    assert top.check(ids, CPU)


def test_only_whole_top_layers_qualify(tiny):
    encoder = tiny.model
    assert adapted_layers(layer_names(encoder, "all", 1)) is None  # embeddings adapt too
    assert adapted_layers([]) is None
    assert adapted_layers(["encoder.layer.1.output.dense.weight", "pooler.dense.weight"]) is None


class FinalNorm(nn.Module):
    """An encoder whose output is normalised after its last layer (as some models do)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.norm = inner, nn.LayerNorm(inner.config.hidden_size)
        with torch.no_grad():
            self.norm.weight.fill_(3.0)

    def forward(self, input_ids, attention_mask):
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
        out.last_hidden_state = self.norm(out.last_hidden_state)
        return out


def test_check_refuses_a_model_whose_layers_do_not_chain_to_the_output(tiny):
    encoder = FinalNorm(tiny.copy_model()).eval()
    top = TopLayers(encoder, "inner.encoder.layer", 1, tiny.pad_id())
    assert not top.check(tiny.tokenize(TEXTS, 32), CPU)


def test_fomaml_predicts_the_same_with_and_without_the_shortcut(separable, ctx):
    train, test = separable
    settings = {"meta_episodes": 3, "n_way": 3, "k_shot": 2, "n_query": 2, "adapt": "top",
                "inner_lr": 0.5}
    method = create("fomaml", settings)
    method.meta_train(train, val=None, ctx=ctx)
    support = train.subset(list(range(0, len(train), 3)))
    query, labels = list(test.texts), list(test.labels)
    classes, fast = method.predict_episode(support, query, ctx=ctx, query_labels=labels)
    assert method._top_ok is True and method._top._cache  # the shortcut ran
    method._top_ok = False  # force full passes through an adapted copy of the encoder
    classes2, slow = method.predict_episode(support, query, ctx=ctx, query_labels=labels)
    assert classes == classes2
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    # adaptation changed the predictions, so the shortcut had something to reproduce
    _, frozen = create("fomaml", {**settings, "inner_lr": 0.0, "meta_episodes": 0}
                       ).predict_episode(support, query, ctx=ctx)
    assert not np.allclose(fast, frozen, atol=1e-4)


def test_meta_training_clears_the_cache(separable, ctx):
    train, _ = separable
    method = create("fomaml", {"meta_episodes": 2, "n_way": 3, "k_shot": 2, "n_query": 2})
    method.meta_train(train, val=None, ctx=ctx)
    method.predict_episode(train, list(train.texts[:4]), ctx=ctx)
    assert method._top._cache
    method.meta_train(train, val=None, ctx=ctx)
    assert not method._top._cache


def test_meta_training_step_is_the_same_with_and_without_the_shortcut(separable, ctx):
    """Loss and outer gradient of one MAML episode (second order through the top layer)
    agree whether the lower layers run once or at every inner step."""
    import copy

    from metacore.data.episodes import sample_episodes
    from metacore.methods.episodic_base import make_batch

    train, _ = separable
    out = []
    for shortcut in (True, False):
        method = create("maml", {"meta_episodes": 0, "adapt": "top", "inner_lr": 0.5})
        method.meta_train(train, val=None, ctx=ctx)
        method._top_ok = None if shortcut else False
        method.encoder = method.prepare_encoder(copy.deepcopy(ctx.backbone.model))  # same start
        method._top = None
        method.encoder.eval()
        episode = sample_episodes(train, 3, 2, 2, 1, seed=0)[0]
        ids = dict(enumerate(ctx.backbone.tokenize(list(train.texts), 32)))
        batch = make_batch(ids, train, episode, ctx.backbone.pad_id(), CPU)
        loss, _, trace = method.episode_loss(batch, True, True)
        grads = torch.autograd.grad(loss, list(method.encoder.parameters()), allow_unused=True)
        out.append((loss.detach(), grads, trace, method._top_ok))
    (l1, g1, t1, ok1), (l2, g2, t2, ok2) = out
    assert ok1 is True and ok2 is False
    torch.testing.assert_close(l1, l2)
    for a, b in zip(g1, g2, strict=True):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert any(a is not None and a.abs().sum() > 0 for a in g1[:5])  # lower layers learn too
    for r1, r2 in zip(t1, t2, strict=True):
        assert r1 == pytest.approx(r2, rel=1e-4, abs=1e-6)


def test_a_full_cache_makes_room_and_stays_right(tiny, monkeypatch):
    import metacore.methods.layer_split as layer_split

    encoder = tiny.copy_model().eval()
    names = layer_names(encoder, "top", 1)
    top = TopLayers(encoder, *adapted_layers(names), tiny.pad_id())
    ids = tiny.tokenize(TEXTS, 32)
    batch = collate(ids, tiny.pad_id())
    full = functional_features(encoder, {}, batch["input_ids"], batch["attention_mask"])
    top.features({}, ids[:2], CPU)  # two texts cached
    one_text = len(ids[2]) * encoder.config.hidden_size * 4
    monkeypatch.setattr(layer_split, "CACHE_BYTES", top._bytes + one_text // 2)
    torch.testing.assert_close(top.features({}, ids, CPU), full)  # the third forces a clear
    assert set(top._cache) == {tuple(x) for x in ids}
