"""``ExperimentPlan``: what to run, in one type that the pages, links, presets and CLI all build.

``model`` holds the plan and its parts; ``command`` writes and reads it as a ``metacore``
command line; ``query`` as a classroom link's query string.
"""

from __future__ import annotations

from metacore.plan.model import (
    ALIASES,
    PROTOCOLS,
    DataSource,
    EpisodeShape,
    ExperimentPlan,
    PlanError,
    PlannedRun,
    describe,
    from_legacy,
    legacy_dict,
    parse_seeds,
    parse_shots,
    plan_of_result,
    seeds_text,
)

__all__ = ["ALIASES", "PROTOCOLS", "DataSource", "EpisodeShape", "ExperimentPlan", "PlanError",
           "PlannedRun", "describe", "from_legacy", "legacy_dict", "parse_seeds", "parse_shots",
           "plan_of_result", "seeds_text"]
