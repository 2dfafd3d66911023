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
    if name == "nearest-centroid" or (name == "centroid-blend" and not method.tuned):
        # computed, no optimiser: none trained
        assert counts["trainable"] == 0 < counts["total"]
        return
    assert 0 < counts["trainable"] <= counts["total"]


# --- what each method declares about itself -------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_declares_its_colour_words_and_costs(name):
    import re

    from metacore.messages import Message
    from metacore.methods import registry
    from metacore.methods.costs import DataSizes, MemoryProfile, Work

    spec = registry.get(name)
    assert re.fullmatch(r"#[0-9a-f]{6}", spec.colour), spec.colour
    assert registry.description(name, "en") == spec.description and spec.description
    for info in spec.config_cls.fields():
        assert info.label and info.key.startswith("setting.") and info.key.endswith(info.name)
        assert registry.setting_text(info, "label", "en") == info.label
        assert registry.setting_text(info, "help", "en") == info.help
    config = spec.config_cls()
    adapt = DataSizes(n_train=40, n_val=10, n_test=30, n_classes=4)
    unseen = DataSizes(n_train=80, n_val=20, n_test=60, n_classes=8, protocol="episodic",
                       test_episodes=10, n_way=3, k_shot=2, n_query=4)
    for sizes in (adapt, unseen):
        work = spec.method_cls.work(config, sizes)
        assert isinstance(work, Work)
        assert min(work.forward, work.train, work.fixed_s, work.episodes) >= 0
        assert work.forward + work.train + work.fixed_s > 0, (name, sizes.protocol)
        assert all(isinstance(m, Message) for m in spec.method_cls.adjustments(config, sizes))
    assert isinstance(spec.method_cls.memory_profile(config), MemoryProfile)
    assert spec.method_cls.cost_factor > 0
    # methods that read the shared cache of frozen embeddings train no encoder of their own
    if spec.method_cls.shares_embeddings:
        assert not spec.method_cls.memory_profile(config).private_copy


def test_colours_tell_the_methods_apart():
    colours = [s.colour for s in available()]
    assert len(set(colours)) == len(colours)


def test_a_registered_method_is_usable_everywhere_until_unregistered():
    from dataclasses import dataclass

    from metacore.config import MethodConfig, setting
    from metacore.methods import registry
    from metacore.methods.base import Method
    from metacore.plan import ExperimentPlan

    @dataclass
    class ToyConfig(MethodConfig):
        bias: float = setting(0.0, "A toy setting.", minimum=0.0)

    @registry.register("toy-contract", config=ToyConfig, family="classical",
                       uses_backbone=False, description="A toy method.")
    class Toy(Method):
        pass

    try:
        spec = registry.get("toy-contract")
        assert spec.method_cls is Toy and spec.colour.startswith("#")
        assert registry.get("toy-contract").colour == spec.colour  # stable from the name
        plan = ExperimentPlan(methods={"toy-contract": {"bias": "0.5"}})
        assert plan.methods == {"toy-contract": {"bias": 0.5}}
        with pytest.raises(ValueError, match="bias must be at least 0"):
            ExperimentPlan(methods={"toy-contract": {"bias": -1}})
    finally:
        registry.unregister("toy-contract")
    assert "toy-contract" not in [s.name for s in available()]
    with pytest.raises(ValueError, match="Unknown method 'toy-contract'"):
        ExperimentPlan(methods={"toy-contract": {}})
