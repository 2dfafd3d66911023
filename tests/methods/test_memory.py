"""Memory estimates for every method, and MAML's fall-back to first order."""

from __future__ import annotations

from metacore import memory
from metacore.methods import available, create


def test_every_method_has_an_estimate(tiny):
    for spec in available():
        est = memory.estimate_memory(spec.name, {}, tiny, batch_texts=16, seq_len=32)
        assert est["bytes"] > 0 and est["bytes"] == sum(est["breakdown"].values()), spec.name


def test_second_order_costs_more(tiny):
    args = dict(batch_texts=50, seq_len=64)
    second = memory.estimate_memory("maml", {"adapt": "all"}, tiny, **args)
    first = memory.estimate_memory("fomaml", {"adapt": "all"}, tiny, **args)
    assert second["bytes"] > first["bytes"] and second["second_order_factor"] == 2.0


def test_maml_falls_back_to_first_order_when_memory_is_short(separable, ctx, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda device: 1)
    method = create("maml", {"meta_episodes": 1, "n_way": 2, "k_shot": 1, "n_query": 1,
                             "inner_steps": 1})
    method.meta_train(separable[0], val=None, ctx=ctx)
    assert not method._second_order
    assert any("first-order" in w for w in ctx.warnings)
