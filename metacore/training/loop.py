"""The one loop: every gradient method trains through it, batch or episode alike.

The loop samples nothing itself; it pulls ``(epoch, batch)`` pairs from an iterator, calls the
method's ``step``, emits events, evaluates at intervals, stops early on validation loss, and
honours the stop flag within one step (karpathy/minGPT's trainer, with transformers' callback
and control ideas).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from metacore.training.context import RunContext
from metacore.training.events import Evaluated, StepEnded


class TrainingDiverged(RuntimeError):
    """The loss stopped being a finite number: training cannot recover, so the run fails."""

    def __init__(self, step: int, loss: float) -> None:
        from metacore.messages import msg

        self.message = msg("run.error.diverged", nan=math.isnan(loss), step=step)
        super().__init__(str(self.message))
        self.step = step


@dataclass
class LoopResult:
    steps: int
    stopped: bool
    early_stopped: bool
    best_step: int | None
    seconds: float


def run_loop(
    *,
    ctx: RunContext,
    batches: Iterable[tuple[int, Any]],
    total_steps: int,
    step: Callable[[Any], dict[str, float]],
    evaluate: Callable[[], dict[str, float]] | None = None,
    eval_every: int | None = None,
    patience: int | None = None,
    snapshot: Callable[[], Any] | None = None,
    restore: Callable[[Any], None] | None = None,
) -> LoopResult:
    """Train until the batches run out, the stop flag is set, or validation stops improving.

    Args:
        ctx: The run's context (events, stop flag).
        batches: Yields ``(epoch, batch)``.
        total_steps: For progress reporting.
        step: One optimisation step; returns at least ``{"loss": float}``.
        evaluate: Returns validation metrics, ideally with ``val_loss``.
        eval_every: Steps between evaluations (also evaluated after the last step).
        patience: Evaluations without a better ``val_loss`` before stopping early.
        snapshot: Captures the best weights; ``restore`` puts them back at the end.

    Raises:
        TrainingDiverged: When a step returns a NaN or infinite loss.
    """
    t0 = time.perf_counter()
    done, best, best_step, bad = 0, float("inf"), None, 0
    best_state, stopped, early = None, False, False
    for epoch, batch in batches:
        if ctx.control.should_stop:
            stopped = True
            break
        out = step(batch)
        done += 1
        loss = float(out.pop("loss"))
        if not math.isfinite(loss):  # NaN never recovers; stop before it reaches the history
            raise TrainingDiverged(done, loss)
        ctx.emit(StepEnded(step=done, total_steps=total_steps, epoch=epoch, loss=loss,
                           metrics={k: float(v) for k, v in out.items()},
                           elapsed_s=time.perf_counter() - t0))
        if evaluate is None or not (done % (eval_every or total_steps) == 0 or done == total_steps):
            continue
        metrics = evaluate()
        ctx.emit(Evaluated(step=done, epoch=epoch, metrics=metrics))
        score = metrics.get("val_loss")
        if score is None or patience is None:
            continue
        if score < best - 1e-6:
            best, best_step, bad = score, done, 0
            best_state = snapshot() if snapshot else None
        else:
            bad += 1
            if bad >= patience:
                early = True
                break
    if ctx.control.should_stop:
        stopped = True
    if best_state is not None and restore is not None and best_step != done:
        restore(best_state)
    return LoopResult(done, stopped, early, best_step, time.perf_counter() - t0)
