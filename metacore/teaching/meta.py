"""Brief meta-training for the teaching views: a few episodes, with progress and a stop flag.

The views compare a model *before* meta-training (the pretrained backbone as it is) with the
same model *after* a few dozen episodes on base classes, then look at episodes of other,
novel classes, so what they show is generalisation to unseen classes, not memory.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from metacore.data import TextSet
from metacore.data.episodes import fitted_shape
from metacore.methods import registry
from metacore.methods.episodic_base import EpisodicMethod
from metacore.teaching.common import model_threads
from metacore.training.context import RunContext
from metacore.training.device import seed_everything
from metacore.training.events import Event, EventBus, StepEnded

Progress = Callable[[int, int, float], None]  # (episodes done, total, last loss)
BRIEF_SHAPE = (3, 4, 4)  # n_way, k_shot, n_query of brief meta-training episodes


@dataclass(frozen=True)
class BriefTraining:
    """A meta-trained method and what training it cost."""

    method: EpisodicMethod
    episodes: int  # episodes actually run (fewer if stopped)
    seconds: float
    shape: tuple[int, int, int]
    base_classes: tuple[str, ...]


def brief_shape(base: TextSet, shape: tuple[int, int, int] = BRIEF_SHAPE
                ) -> tuple[int, int, int] | None:
    """The episode shape ``base`` allows (fewer ways or shots if it must), or None."""
    fitted = fitted_shape(base, min(shape[0], max(2, len(base.classes))), shape[1], shape[2])
    if fitted is None:
        return None
    _, n_way, k_shot, n_query = fitted
    return n_way, k_shot, n_query


def create_brief(name: str, *, episodes: int, shape: tuple[int, int, int]) -> EpisodicMethod:
    """The registered method, configured for a short run without validation episodes."""
    spec = registry.get(name)
    fields = {f.name for f in spec.config_cls.fields()}
    wanted = {"meta_episodes": episodes, "n_way": shape[0], "k_shot": shape[1],
              "n_query": shape[2], "val_episodes": 0, "trace_episodes": 0}
    method = registry.create(name, {k: v for k, v in wanted.items() if k in fields})
    if not isinstance(method, EpisodicMethod):
        raise ValueError(f"{name} is not an episodic meta-learner.")
    return method


def meta_train_briefly(name: str, base: TextSet, *, ctx: RunContext, episodes: int,
                       shape: tuple[int, int, int] = BRIEF_SHAPE,
                       on_progress: Progress | None = None) -> BriefTraining:
    """Meta-train ``name`` for ``episodes`` episodes of ``base`` (0: set up untrained).

    Stops early when ``ctx.control`` is stopped. Base data too small for any episode leaves
    the method untrained rather than failing.
    """
    fitted = brief_shape(base, shape)
    episodes = episodes if fitted is not None else 0
    fitted = fitted or shape
    method = create_brief(name, episodes=episodes, shape=fitted)

    def relay(event: Event) -> None:
        if on_progress is not None and isinstance(event, StepEnded):
            on_progress(event.step, event.total_steps, event.loss)

    run_ctx = dataclasses.replace(ctx, bus=EventBus([relay]), steps=[], evals=[], warnings=[],
                                  extras={})
    seed_everything(ctx.seed)
    t0 = time.perf_counter()
    with model_threads():
        method.meta_train(base, val=None, ctx=run_ctx)
    return BriefTraining(method, len(run_ctx.steps), time.perf_counter() - t0, fitted,
                         tuple(base.classes))
