"""One contract, every registered method: parametrised over the registry, so a new method is
tested the moment it registers (the setfit / peft test habit)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from metacore.methods import available, create, load_method

# Fast settings so each method trains in seconds on the tiny backbone.
FAST = {
    "full-finetune": {"epochs": 15, "head_lr": 0.05, "lr": 1e-3, "batch_size": 8},
    "lora": {"epochs": 15, "head_lr": 0.05, "lr": 1e-2, "batch_size": 8},
}
EPISODIC_FAST = {"meta_episodes": 6, "n_way": 3, "k_shot": 2, "n_query": 2}


def fast_config(spec) -> dict:
    if spec.name in FAST:
        return dict(FAST[spec.name])
    names = {f.name for f in spec.config_cls.fields()}
    return {k: v for k, v in EPISODIC_FAST.items() if k in names}


NAMES = [s.name for s in available()]


def weights(method) -> dict[str, torch.Tensor]:
    """Every tensor a method holds, to check that prediction leaves them alone."""
    out = {}
    for attr, value in vars(method).items():
        if isinstance(value, torch.nn.Module):
            out.update({f"{attr}.{k}": v.detach().clone() for k, v in value.state_dict().items()})
        elif isinstance(value, np.ndarray):
            out[attr] = torch.as_tensor(value.copy())
    return out


@pytest.fixture(scope="module")
def trained(request):
    return {}


def fit(name, separable, ctx, cache):
    if name not in cache:
        spec = next(s for s in available() if s.name == name)
        method = create(name, fast_config(spec))
        method.meta_train(separable[0], val=None, ctx=ctx)
        method.fit(separable[0], val=None, ctx=ctx)
        cache[name] = (method, copy.deepcopy(ctx.steps))
    return cache[name]


@pytest.mark.parametrize("name", NAMES)
def test_probabilities_are_well_formed_and_beat_chance(name, separable, ctx, trained):
    method, steps = fit(name, separable, ctx, trained)
    test = separable[1]
    proba = method.predict_proba(list(test.texts), ctx=ctx)
    assert proba.shape == (len(test), len(method.classes))
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    predicted = method.predict(list(test.texts), ctx=ctx)
    assert set(predicted) <= set(method.classes)
    accuracy = np.mean([p == y for p, y in zip(predicted, test.labels)])
    assert accuracy >= 0.6, f"{name} reached only {accuracy:.2f} on separable data (chance 0.33)"
    assert all(np.isfinite(s["loss"]) for s in steps)


@pytest.mark.parametrize("name", NAMES)
def test_prediction_leaves_weights_unchanged(name, separable, ctx, trained):
    method, _ = fit(name, separable, ctx, trained)
    before = weights(method)
    method.predict_proba(list(separable[1].texts), ctx=ctx)
    support = separable[0].subset(range(0, len(separable[0]), 2))
    classes, proba = method.predict_episode(support, list(separable[1].texts[:5]), ctx=ctx)
    assert proba.shape == (5, len(classes)) and set(classes) == set(support.classes)
    after = weights(method)
    assert before.keys() == after.keys()
    for key in before:
        torch.testing.assert_close(before[key], after[key], msg=f"{name}: {key} changed")


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, separable, ctx, trained, tmp_path):
    method, _ = fit(name, separable, ctx, trained)
    texts = list(separable[1].texts)
    expected = method.predict_proba(texts, ctx=ctx)
    method.save(tmp_path / name)
    loaded = load_method(tmp_path / name, ctx=ctx)
    assert loaded.classes == method.classes
    np.testing.assert_allclose(loaded.predict_proba(texts, ctx=ctx), expected, atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts(name, separable, ctx, trained):
    method, _ = fit(name, separable, ctx, trained)
    counts = method.parameter_counts()
    assert 0 < counts["trainable"] <= counts["total"]
