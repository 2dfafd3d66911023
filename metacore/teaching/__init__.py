"""The teaching engine: everything the Learn pages compute, with no streamlit in sight.

Pages ask for plain data (dataclasses, numpy arrays, pandas frames) and draw it; the engine
reuses the methods' own pieces (prototypes, ``inner_loop``, Proto-MAML heads, the registry)
so what the learner sees is what the methods do. Modules: ``episodes`` (the episode
inspector), ``inner`` (per-step inner-loop traces), ``meta`` (brief meta-training), ``sweep``
(accuracy against K, one runner's run per point), ``add_class`` (absorbing a new label),
``lessons`` and ``toy`` (the Learn page's small figures). Time estimates come from each
method's own cost model (``metacore.estimate``).
"""

from __future__ import annotations

from metacore.teaching.add_class import Absorbed, AddClassReport, add_class, new_class_set
from metacore.teaching.common import (
    cap_per_class,
    holdout,
    project_2d,
    prototypes,
    squared_distances,
    textset_of,
)
from metacore.teaching.episodes import (
    ClassPools,
    EpisodeView,
    class_pools,
    draw_episode,
    inspect_episode,
    novel_classes,
    split_by_classes,
)
from metacore.teaching.inner import GRADIENT_METHODS, InnerTrace, inner_loop_trace
from metacore.teaching.meta import BriefTraining, meta_train_briefly
from metacore.teaching.sweep import (
    SWEEP_SHOTS,
    SweepPoint,
    SweepProgress,
    k_shot_sweep,
    summarise_sweep,
    sweep_plan,
)

__all__ = [
    "GRADIENT_METHODS",
    "SWEEP_SHOTS",
    "Absorbed",
    "AddClassReport",
    "BriefTraining",
    "ClassPools",
    "EpisodeView",
    "InnerTrace",
    "SweepPoint",
    "SweepProgress",
    "add_class",
    "cap_per_class",
    "class_pools",
    "draw_episode",
    "holdout",
    "inner_loop_trace",
    "inspect_episode",
    "k_shot_sweep",
    "meta_train_briefly",
    "new_class_set",
    "novel_classes",
    "project_2d",
    "prototypes",
    "split_by_classes",
    "squared_distances",
    "summarise_sweep",
    "sweep_plan",
    "textset_of",
]
