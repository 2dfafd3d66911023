from __future__ import annotations

from metacore.training.context import RunContext
from metacore.training.events import Evaluated, RunControl, StepEnded
from metacore.training.loop import run_loop


def batches(n):
    return ((1 + i // 5, i) for i in range(n))


def test_events_and_history_are_recorded():
    seen = []
    ctx = RunContext()
    ctx.bus.callbacks.append(seen.append)
    result = run_loop(ctx=ctx, batches=batches(10), total_steps=10,
                      step=lambda b: {"loss": 1.0 / (b + 1), "acc": 0.5},
                      evaluate=lambda: {"val_loss": 0.3}, eval_every=5)
    assert result.steps == 10 and not result.stopped
    steps = [e for e in seen if isinstance(e, StepEnded)]
    assert [e.step for e in steps] == list(range(1, 11))
    assert steps[0].metrics == {"acc": 0.5} and steps[-1].loss == 0.1
    assert [e.step for e in seen if isinstance(e, Evaluated)] == [5, 10]
    assert len(ctx.steps) == 10 and ctx.evals[0]["val_loss"] == 0.3


def test_stop_flag_ends_within_one_step():
    control = RunControl()
    ctx = RunContext(control=control)

    def step(b):
        if b == 3:
            control.stop()
        return {"loss": 0.0}

    result = run_loop(ctx=ctx, batches=batches(100), total_steps=100, step=step)
    assert result.stopped and result.steps == 4


def test_early_stopping_restores_the_best_weights():
    ctx = RunContext()
    losses = iter([0.9, 0.5, 0.6, 0.7, 0.8, 0.1])
    state = {"w": 0}
    restored = []

    def step(b):
        state["w"] = b
        return {"loss": 0.0}

    result = run_loop(ctx=ctx, batches=batches(6), total_steps=6, step=step,
                      evaluate=lambda: {"val_loss": next(losses)}, eval_every=1, patience=2,
                      snapshot=lambda: dict(state), restore=restored.append)
    assert result.early_stopped and result.steps == 4 and result.best_step == 2
    assert restored == [{"w": 1}]


def test_a_failing_callback_does_not_end_training():
    ctx = RunContext()
    ctx.bus.callbacks.append(lambda e: 1 / 0)
    result = run_loop(ctx=ctx, batches=batches(3), total_steps=3, step=lambda b: {"loss": 1})
    assert result.steps == 3 and ctx.bus.errors


def test_figures_read_in_batches_keep_every_step_in_order():
    """Tensor figures are read every ``sync_every`` steps (an accelerator's loop): nothing is
    lost or reordered, and evaluations still see every step before them."""
    import torch

    seen = []
    ctx = RunContext()
    ctx.bus.callbacks.append(seen.append)
    reads = []
    result = run_loop(ctx=ctx, batches=batches(10), total_steps=10,
                      step=lambda b: {"loss": torch.tensor(1.0 / (b + 1)),
                                      "acc": torch.tensor(0.25), "lr": 0.1},
                      evaluate=lambda: reads.append(len(ctx.steps)) or {"val_loss": 1.0},
                      eval_every=5, sync_every=4)
    assert result.steps == 10
    steps = [e for e in seen if isinstance(e, StepEnded)]
    assert [e.step for e in steps] == list(range(1, 11))
    assert abs(steps[2].loss - 1 / 3) < 1e-6 and steps[2].metrics == {"acc": 0.25, "lr": 0.1}
    assert reads == [5, 10]  # every step before an evaluation was read before it ran
    kinds = [type(e).__name__ for e in seen if isinstance(e, StepEnded | Evaluated)]
    assert kinds.index("Evaluated") == 5


def test_a_nan_read_late_is_reported_at_its_own_step():
    import pytest
    import torch

    from metacore.training.loop import TrainingDiverged

    ctx = RunContext()
    with pytest.raises(TrainingDiverged) as err:
        run_loop(ctx=ctx, batches=batches(20), total_steps=20, sync_every=8,
                 step=lambda b: {"loss": torch.tensor(float("nan") if b == 2 else 1.0)})
    assert err.value.step == 3
    assert [s["step"] for s in ctx.steps] == [1, 2]  # the NaN never reaches the history
