"""Memory estimates for every method, and MAML's fall-back to first order.

Every registered method must have a memory model that says something: a positive byte count
that is the sum of its parts, and a trainable-parameter count that matches what the fitted
method reports. On the tiny backbone (about 1 M parameters, 33-dimensional) the only part a
declaration may leave out is the classification head, ``(hidden + 1) * classes`` parameters:
the episodic methods declare the encoder alone (their prototype head is computed, not
learned) while ``parameter_counts`` counts the head that adapting to the classes made. So the
two counts must agree to within one head, which here is less than 0.01 % of the encoder;
anything else (a method that declares nothing, or the wrong part of the model) is off by
orders of magnitude and fails. A method without a backbone needs the framework's overhead
only.
"""

from __future__ import annotations

import pytest

from metacore import memory
from metacore.methods import available, create
from metacore.methods.registry import get
from metacore.training.context import EmbeddingCache, RunContext
from tests.conftest import make_texts

NAMES = [s.name for s in available()]
CLASSES = 3
TRAINS_NOTHING = {"nearest-centroid"}  # frozen encoder, computed head (centroid-blend tunes)
FAST = {"epochs": 1, "max_steps": 2, "meta_episodes": 2, "val_episodes": 0, "n_way": 3, "k_shot": 2,
        "n_query": 2, "inner_steps": 1}


def fast_settings(name: str) -> dict:
    names = {f.name for f in get(name).config_cls.fields()}
    return {k: v for k, v in FAST.items() if k in names}


@pytest.mark.parametrize("name", NAMES)
def test_every_method_has_an_estimate_that_matches_what_it_trains(name, tiny):
    spec = get(name)
    settings = fast_settings(name)
    est = memory.estimate_memory(spec.method_cls, settings, tiny, batch_texts=16, seq_len=32,
                                 n_classes=CLASSES, uses_backbone=spec.uses_backbone)
    assert est["bytes"] > 0 and est["bytes"] == sum(est["breakdown"].values()), est
    assert est["second_order_factor"] >= 1.0
    if not spec.uses_backbone:
        assert est["breakdown"] == {"overhead": memory.OVERHEAD}
        assert est["trainable_params"] == 0  # nothing on the device: a CPU model
        return
    assert est["breakdown"]["parameters"] >= memory.model_shape(tiny).params * 4
    assert est["breakdown"]["activations"] > 0
    method = create(name, settings)
    method.fit(make_texts(CLASSES, 6, seed=5), val=None,
               ctx=RunContext(backbone=tiny, seed=0, cache=EmbeddingCache()))
    counts = method.parameter_counts()
    actual = counts["trainable"]
    head = (tiny.hidden_size + 1) * CLASSES
    if name in TRAINS_NOTHING:  # its head is computed (class means), in both protocols
        assert est["trainable_params"] == actual == 0, (est["trainable_params"], counts)
        assert counts["total"] > memory.model_shape(tiny).params  # encoder + centroids
        return
    assert actual > 0
    assert abs(est["trainable_params"] - actual) <= head, (est["trainable_params"], actual)


def test_training_a_private_copy_costs_more_than_a_frozen_encoder(tiny):
    args = dict(batch_texts=16, seq_len=32, n_classes=CLASSES)
    probe = memory.estimate_memory(get("linear-probe").method_cls, {}, tiny, **args)
    tuned = memory.estimate_memory(get("full-finetune").method_cls, {}, tiny, **args)
    assert probe["breakdown"]["gradients"] == probe["breakdown"]["optimizer"] == 0
    assert tuned["breakdown"]["gradients"] > 0 and tuned["breakdown"]["optimizer"] > 0
    assert tuned["breakdown"]["parameters"] == 2 * probe["breakdown"]["parameters"]
    longer = memory.estimate_memory(get("full-finetune").method_cls, {}, tiny,
                                    **{**args, "seq_len": 64})
    assert longer["breakdown"]["activations"] > tuned["breakdown"]["activations"]


def test_second_order_costs_more(tiny):
    args = dict(batch_texts=50, seq_len=64)
    second = memory.estimate_memory(get("maml").method_cls, {"adapt": "all"}, tiny, **args)
    first = memory.estimate_memory(get("fomaml").method_cls, {"adapt": "all"}, tiny, **args)
    assert second["bytes"] > first["bytes"] and second["second_order_factor"] == 2.0


def test_maml_falls_back_to_first_order_when_memory_is_short(separable, ctx, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda device: 1)
    method = create("maml", {"meta_episodes": 1, "n_way": 2, "k_shot": 1, "n_query": 1,
                             "inner_steps": 1})
    method.meta_train(separable[0], val=None, ctx=ctx)
    assert not method._second_order
    [warning] = [w for w in ctx.warnings if "first-order" in str(w)]
    assert warning.code == "run.warning.first_order"
