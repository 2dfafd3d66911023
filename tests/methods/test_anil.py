"""ANIL adapts only the head, leaves the encoder alone, and records its inner loop."""

from __future__ import annotations

from metacore.methods import create


def test_anil_head_only_inner_loop(separable, ctx):
    train, test = separable
    method = create("anil", {"meta_episodes": 0, "inner_steps": 2, "inner_lr": 0.5})
    method.fit(train, val=None, ctx=ctx)
    assert method.predictor is method.encoder  # no encoder copy: only the head adapted
    classes, proba = method.predict_episode(train, list(test.texts), ctx=ctx,
                                            query_labels=list(test.labels))
    assert proba.shape == (len(test), len(classes))
    trace = method.extra_results()["inner_loop"]
    assert [row["step"] for row in trace] == [0, 1, 2]
    assert trace[-1]["support_loss"] < trace[0]["support_loss"]
    assert {"support_accuracy", "query_loss", "query_accuracy"} <= set(trace[0])
