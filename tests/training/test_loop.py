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
