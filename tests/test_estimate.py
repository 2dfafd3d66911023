"""Time estimates before a run: the measured speed and the counted work."""

from __future__ import annotations

import pytest
import torch

from metacore import estimate
from metacore.methods import registry
from metacore.methods.costs import DataSizes
from tests.conftest import make_texts


def test_calibrate_measures_once_and_leaves_the_backbone_alone(tiny) -> None:
    before = {n: p.detach().clone() for n, p in tiny.model.named_parameters()}
    texts = ["a short text", "another slightly longer text about football and goals"] * 5
    speed = estimate.calibrate(tiny, texts)
    assert speed.forward_s > 0 and speed.train_s > speed.forward_s * 0.5
    assert speed.tokens % 8 == 0 and speed.device == "cpu"
    assert estimate.calibrate(tiny, texts) is speed  # cached per backbone, device and length
    for name, param in tiny.model.named_parameters():
        assert param.grad is None, name
        assert torch.equal(param, before[name]), name


def test_calibrate_draws_nothing_random_and_keeps_the_mode(tiny, monkeypatch) -> None:
    """The page measures the shared backbone while a run may be using it in the queue's
    thread: switching it to train mode turned that run's embeddings' dropout on and drew from
    the one random generator, so the app's result for a seed was not the command line's."""
    monkeypatch.setattr(estimate, "_SPEEDS", {})  # measure now, not from an earlier test
    tiny.model.eval()
    modes = []
    hook = tiny.model.register_forward_pre_hook(lambda module, args: modes.append(
        any(m.training for m in module.modules())))
    rng = torch.get_rng_state()
    try:
        estimate.calibrate(tiny, ["a text with a few words in it"] * 4)
    finally:
        hook.remove()
    assert modes and not any(modes)  # it did measure, and never in train mode
    assert not tiny.model.training
    assert torch.equal(torch.get_rng_state(), rng)


def test_work_follows_the_settings() -> None:
    sizes = DataSizes(n_train=40, n_val=20, n_test=100, n_classes=5)
    ft = estimate.work("full-finetune", {"epochs": 10}, sizes)
    assert ft.train == 400 and ft.forward == 10 * 20 + 100
    assert estimate.work("full-finetune", {"epochs": 5}, sizes).train == 200
    lp = estimate.work("linear-probe", {}, sizes)
    assert lp.train == 0 and lp.forward == 140
    speed = estimate.Speed(forward_s=0.01, train_s=0.03, device="cpu", tokens=16)
    assert estimate.estimate_seconds("tfidf-logreg", {}, speed, sizes) == \
        estimate.estimate_seconds("tfidf-logreg", {}, None, sizes)  # no encoder, no speed
    slow = estimate.Speed(forward_s=0.02, train_s=0.06, device="cpu", tokens=16)
    for name in ("full-finetune", "protonet", "maml", "reptile"):
        fast_s = estimate.estimate_seconds(name, {}, speed, sizes)
        assert estimate.estimate_seconds(name, {}, slow, sizes) > 1.8 * fast_s - 2.0, name


@pytest.mark.parametrize("name", [s.name for s in registry.available()])
def test_every_method_declares_its_cost(name: str) -> None:
    """Each method's cost model (``Method.work`` with its ``cost_factor``): more training
    texts never cost less, and a method without an encoder needs no measured speed."""
    spec = registry.get(name)
    speed = estimate.Speed(forward_s=0.01, train_s=0.03, device="cpu", tokens=16)
    small = DataSizes(n_train=20, n_val=10, n_test=50, n_classes=5)
    large = DataSizes(n_train=200, n_val=10, n_test=50, n_classes=5)
    seconds = [estimate.estimate_seconds(name, {}, speed, sizes) for sizes in (small, large)]
    assert 0 < seconds[0] <= seconds[1], seconds
    assert spec.method_cls.cost_factor > 0
    if not spec.uses_backbone:
        assert estimate.estimate_seconds(name, {}, None, small) == seconds[0]


@pytest.mark.parametrize("per_class", [4, 8, 30])
def test_episode_count_matches_what_the_method_runs(tiny, per_class) -> None:
    """The estimate counts the meta-training episodes that ``fit`` actually runs (the
    adapt-passes budget and the episode shape fitted to small classes)."""
    from metacore.training.context import EmbeddingCache, RunContext

    train = make_texts(4, per_class, seed=3)
    config = {"meta_episodes": 40, "val_episodes": 0}
    method = registry.create("protonet", config)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method.fit(train, val=None, ctx=ctx)
    full = registry.get("protonet").config_cls.from_dict(config).to_dict()
    counted = estimate.work("protonet", full, DataSizes(n_train=len(train), n_val=0, n_test=10,
                                                        n_classes=4))
    assert counted.episodes == ctx.extras["meta_training"]["episodes"]


@pytest.mark.parametrize("name", ["linear-probe", "full-finetune", "lora", "protonet"])
def test_trainable_estimate_matches_the_fitted_method(tiny, name) -> None:
    """The parameter count shown before a run is the one the run reports (within 10%)."""
    from metacore.memory import estimate_memory
    from metacore.training.context import EmbeddingCache, RunContext

    train = make_texts(3, 4, seed=5)
    config = {"epochs": 1, "meta_episodes": 2, "val_episodes": 0}
    spec = registry.get(name)
    config = {k: v for k, v in config.items() if k in {f.name for f in spec.config_cls.fields()}}
    method = registry.create(name, config)
    method.fit(train, val=None, ctx=RunContext(backbone=tiny, seed=0, cache=EmbeddingCache()))
    actual = method.parameter_counts()["trainable"]
    counted = estimate_memory(spec.method_cls, config, tiny, n_classes=3)["trainable_params"]
    assert abs(counted - actual) <= 0.1 * actual, (counted, actual)


def test_comparison_counts_the_shared_embedding_cache_once() -> None:
    speed = estimate.Speed(forward_s=0.01, train_s=0.03, device="cpu", tokens=16)
    sizes = DataSizes(n_train=72, n_val=35, n_test=69, n_classes=9)
    alone = estimate.estimate_seconds("nearest-centroid", {}, speed, sizes)
    both = estimate.estimate_comparison(["linear-probe", "nearest-centroid", "protonet"], {},
                                        speed, sizes)
    assert both["linear-probe"] == pytest.approx(alone)
    assert both["nearest-centroid"] < alone / 3
    assert both["protonet"] == pytest.approx(
        estimate.estimate_seconds("protonet", {}, speed, sizes))
    warm = estimate.estimate_comparison(["linear-probe"], {}, speed, sizes, cached=True)
    assert warm["linear-probe"] < alone / 3
    queued = estimate.estimate_comparison(["linear-probe", "tfidf-logreg"], {}, speed, sizes,
                                          queued=True)
    assert queued["linear-probe"] == pytest.approx(alone + estimate.QUEUED_RUN_S)
    assert queued["tfidf-logreg"] == pytest.approx(  # no model of the backbone's to save
        estimate.estimate_seconds("tfidf-logreg", {}, speed, sizes))


def test_runs_of_a_plan_are_estimated_in_queue_order() -> None:
    """``estimate_runs`` takes a plan's runs: one cache warm-up per queue, not per seed."""
    from metacore.plan import ExperimentPlan

    speed = estimate.Speed(forward_s=0.01, train_s=0.03, device="cpu", tokens=16)
    sizes = DataSizes(n_train=72, n_val=35, n_test=69, n_classes=9)
    plan = ExperimentPlan(methods={"linear-probe": {}, "full-finetune": {"epochs": 2}},
                          seeds=(0, 1))
    seconds = estimate.estimate_runs(plan.runs(), speed, lambda run: sizes)
    probe = estimate.estimate_seconds("linear-probe", {}, speed, sizes)
    tuned = estimate.estimate_seconds("full-finetune", {"epochs": 2}, speed, sizes)
    assert seconds[0] == pytest.approx(probe) and seconds[2] < probe / 3
    assert seconds[1] == pytest.approx(tuned) == pytest.approx(seconds[3])
    assert tuned < estimate.estimate_seconds("full-finetune", {}, speed, sizes)  # 2 < 10
