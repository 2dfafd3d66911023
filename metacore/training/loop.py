"""The one loop: every gradient method trains through it, batch or episode alike.

The loop samples nothing itself; it pulls ``(epoch, batch)`` pairs from an iterator, calls the
method's ``step``, emits events, evaluates at intervals, stops early on validation loss, and
honours the stop flag within one step (karpathy/minGPT's trainer, with transformers' callback
and control ideas).

On a GPU, reading a step's loss (``float(loss)``) waits for the device to finish that step,
so the host can no longer queue the next one ahead of it. Steps may therefore return their
figures as device tensors: the loop keeps them and reads all that are pending in one transfer
(``_Pending.flush``) every ``sync_every`` steps, or sooner when a second has passed (the live
curve stays live on slow steps), before each evaluation and at the end. On the CPU there is
nothing to overlap and every step is read at once. A non-finite loss is still caught, at most
``sync_every - 1`` steps late, and reported at the step it happened.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from metacore.training.context import RunContext
from metacore.training.events import Evaluated, StepEnded

SYNC_EVERY = 16  # steps between two reads of the figures on an accelerator
SYNC_SECONDS = 1.0  # ... or sooner, once this long has passed since the last read


def sync_interval(device: torch.device) -> int:
    """Steps whose figures may wait on the device before the loop reads them."""
    return 1 if device.type == "cpu" else SYNC_EVERY


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
    sync_every: int | None = None,
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
        sync_every: Steps whose figures are read in one transfer (default: ``sync_interval``
            of the run's device; 1 reads every step as it ends).

    Raises:
        TrainingDiverged: When a step returns a NaN or infinite loss.
    """
    t0 = time.perf_counter()
    done, best, best_step, bad = 0, float("inf"), None, 0
    best_state, stopped, early = None, False, False
    pending = _Pending(ctx, total_steps, t0, sync_every or sync_interval(ctx.device))
    for epoch, batch in batches:
        if ctx.control.should_stop:
            stopped = True
            break
        out = step(batch)
        done += 1
        pending.add(done, epoch, out)
        due = evaluate is not None and (done % (eval_every or total_steps) == 0
                                        or done == total_steps)
        if not due:
            pending.flush_if_due()
            continue
        pending.flush()
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
    pending.flush()
    if ctx.control.should_stop:
        stopped = True
    if best_state is not None and restore is not None and best_step != done:
        restore(best_state)
    return LoopResult(done, stopped, early, best_step, time.perf_counter() - t0)


class _Pending:
    """Steps that ended but whose figures (possibly device tensors) are not read yet."""

    def __init__(self, ctx: RunContext, total_steps: int, t0: float, every: int) -> None:
        self.ctx, self.total, self.t0, self.every = ctx, total_steps, t0, max(1, every)
        self.rows: list[tuple[int, int, dict[str, Any], float]] = []
        self.last = time.perf_counter()

    def add(self, step: int, epoch: int, out: dict[str, Any]) -> None:
        self.rows.append((step, epoch, dict(out), time.perf_counter() - self.t0))

    def flush_if_due(self) -> None:
        if len(self.rows) >= self.every or time.perf_counter() - self.last >= SYNC_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Read every pending figure in one transfer, then emit the steps in order.

        Raises:
            TrainingDiverged: at the first pending step whose loss is not finite.
        """
        self.last = time.perf_counter()
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        tensors = [v for _, _, out, _ in rows for v in out.values() if torch.is_tensor(v)]
        device = tensors[0].device if tensors else None
        values = iter(torch.stack([t.detach().float().reshape(()).to(device) for t in tensors])
                      .cpu().tolist() if tensors else [])
        for step, epoch, out, elapsed in rows:
            figures = {k: next(values) if torch.is_tensor(v) else float(v)
                       for k, v in out.items()}
            loss = figures.pop("loss")
            if not math.isfinite(loss):  # NaN never recovers; stop before it reaches history
                raise TrainingDiverged(step, loss)
            self.ctx.emit(StepEnded(step=step, total_steps=self.total, epoch=epoch, loss=loss,
                                    metrics=figures, elapsed_s=elapsed))
