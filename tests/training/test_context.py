"""RunContext: named seed streams, coded phases and warnings."""

from __future__ import annotations

import numpy as np
import pytest

from metacore import seeds
from metacore.messages import msg
from metacore.training.context import RunContext
from metacore.training.events import PhaseChanged


def test_named_streams_are_reproducible_and_apart() -> None:
    a, b = RunContext(seed=4), RunContext(seed=4)
    assert a.rng("batch_order").permutation(50).tolist() == \
        b.rng("batch_order").permutation(50).tolist()
    draws = {name: tuple(RunContext(seed=4).rng(name).random(4)) for name in seeds.STREAMS}
    # no two streams of one seed share a sequence (the data seed's validation cut and the init
    # seed's batch order share offset 1, as they always did: they belong to different seeds)
    for of_seed in (("validation_cut", "test_episodes"),
                    ("batch_order", "meta_episodes", "validation_episodes", "support_order")):
        assert len({draws[name] for name in of_seed}) == len(of_seed)
    assert tuple(RunContext(seed=5).rng("batch_order").random(4)) != draws["batch_order"]
    with pytest.raises(KeyError):
        a.rng("no-such-stream")


def test_stream_offsets_are_the_ones_earlier_runs_used() -> None:
    """The offsets the methods used before the streams had names (``ctx.rng(1)`` for batch
    order, ``seed + 7919`` for test episodes...): an old command reproduces its numbers."""
    assert {name: seeds.derive(10, name) for name in seeds.STREAMS} == {
        "validation_cut": 11, "test_episodes": 7929, "batch_order": 11,
        "meta_episodes": 111, "validation_episodes": 212, "support_order": 313}
    ctx = RunContext(seed=10)
    assert ctx.stream_seed("meta_episodes") == 111
    np.testing.assert_array_equal(ctx.rng("support_order").random(3),
                                  np.random.default_rng(313).random(3))


def test_phase_is_a_coded_event_with_its_english() -> None:
    seen = []
    ctx = RunContext()
    ctx.bus.callbacks.append(seen.append)
    ctx.phase("predicting", texts=12)
    [event] = seen
    assert isinstance(event, PhaseChanged) and event.phase == "predicting"
    assert event.params == {"texts": 12}
    assert event.message.code == "phase.predicting" and event.message.params == {"texts": 12}
    assert "12" in event.detail and "{" not in event.detail


def test_a_warning_is_kept_once() -> None:
    ctx = RunContext()
    warning = msg("run.warning.no_episodes")
    ctx.warn(warning)
    ctx.warn(msg("run.warning.no_episodes"))
    assert ctx.warnings == [warning]
    assert "meta-training" in str(ctx.warnings[0])
