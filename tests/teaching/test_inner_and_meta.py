"""The inner-loop trace and brief meta-training, on the tiny random backbone."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from metacore.teaching import draw_episode, inner_loop_trace, meta_train_briefly
from metacore.teaching.inner import step_lrs
from metacore.teaching.meta import create_brief
from tests.conftest import make_texts

COLUMNS = ["step", "support_loss", "support_accuracy", "query_loss", "query_accuracy"]


@pytest.fixture(scope="module")
def episode_sets():
    data = make_texts(3, 8, seed=3)
    episode = draw_episode(data, n_way=3, k_shot=2, n_query=2, seed=0)
    return data.subset(episode.support), data.subset(episode.query)


def _method(name, ctx):
    method = create_brief(name, episodes=0, shape=(3, 2, 2))
    method.meta_train(make_texts(3, 4), val=None, ctx=ctx)  # 0 episodes: set up only
    return method


@pytest.mark.parametrize("name", ["anil", "maml"])
def test_trace_shape_prefix_and_weights_unchanged(name, ctx, episode_sets) -> None:
    support, query = episode_sets
    method = _method(name, ctx)
    before = {k: v.clone() for k, v in method.encoder.state_dict().items()}
    long = inner_loop_trace(method, support, query, steps=3, ctx=ctx, head="zero", lr=0.5)
    short = inner_loop_trace(method, support, query, steps=2, ctx=ctx, head="zero", lr=0.5)
    assert list(long.frame.columns) == COLUMNS and len(long.frame) == 4
    assert long.query_proba.shape == (4, len(query), 3)
    # a k-step inner loop is the first k steps of a longer one (what the slider relies on)
    pd.testing.assert_frame_equal(long.upto(2), short.frame, atol=1e-5)
    assert all(torch.equal(before[k], v) for k, v in method.encoder.state_dict().items())
    assert long.frame["support_loss"].iloc[-1] < long.frame["support_loss"].iloc[0]
    assert len(long.predictions(1)) == len(query)


def test_zero_head_starts_at_chance_and_prototype_head_does_not(ctx, episode_sets) -> None:
    support, query = episode_sets
    method = _method("anil", ctx)
    zero = inner_loop_trace(method, support, query, steps=1, ctx=ctx, head="zero")
    assert zero.frame["support_loss"].iloc[0] == pytest.approx(math.log(3), abs=1e-5)
    proto = inner_loop_trace(method, support, query, steps=1, ctx=ctx, head="prototypes")
    assert proto.frame["support_loss"].iloc[0] < zero.frame["support_loss"].iloc[0]


def test_step_lrs_repeat_the_last_learning_rate(ctx) -> None:
    method = _method("anil", ctx)  # two inner steps by default
    lrs = step_lrs(method, 5)
    assert all(v.shape == (5,) for v in lrs.values())
    assert all(float(v[-1]) == pytest.approx(method.config.inner_lr) for v in lrs.values())
    assert all(float(v[0]) == pytest.approx(0.3) for v in step_lrs(method, 2, lr=0.3).values())


def test_meta_train_briefly_reports_progress(ctx) -> None:
    seen = []
    out = meta_train_briefly("protonet", make_texts(3, 8), ctx=ctx, episodes=2,
                             on_progress=lambda done, total, loss: seen.append((done, total)))
    assert out.episodes == 2 and seen[-1] == (2, 2)
    assert out.shape == (3, 4, 4) and out.method.encoder is not None


def test_meta_train_briefly_on_too_little_data_stays_untrained(ctx) -> None:
    out = meta_train_briefly("protonet", make_texts(2, 1), ctx=ctx, episodes=3)
    assert out.episodes == 0
