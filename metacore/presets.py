"""Workshop presets: named plans that finish within a stated time, measured, not guessed.

A preset is an ``ExperimentPlan`` without data (the methods with their settings, K, seeds,
episodes and backbone of one classroom activity) and its expected time. Each
CPU preset was run once, end to end, on the machine described in ``MEASURED_ON`` (with
``bench/presets.py``, on the bundled English sample: 342 texts, 9 classes) and its wall time
is stored in ``seconds``; a typical 4-core laptop is about as fast or faster. GPU presets could
not be measured here: their ``seconds`` is an estimate (``measured`` is False), scaled from the
CPU measurements of the same methods, and says so wherever it is shown.

``Preset.with_data(data)`` is the plan a page runs; links name a preset (``preset=...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metacore.messages import MessageError
from metacore.plan import DataSource, EpisodeShape, ExperimentPlan

KINDS = ("sweep", "compare", "episodic")
# TF-IDF with single words and character 1-3-grams: 4x faster to fit, a few points less
# accurate than the default (words up to 2, characters up to 4).
LIGHT_TFIDF = {"word_ngrams": 1, "char_ngrams": 3}
MEASURED_ON = ("a 2-vCPU AMD EPYC Linux machine, torch 2.13 on the CPU, shared with other "
               "jobs (load average 6-12 while measuring), 2026-11-30")
# ``python bench/presets.py NAME`` on MEASURED_ON, each preset in a fresh process: wall
# seconds, CPU seconds of the process, and the 1-minute load average (2 cores).
MEASUREMENTS: dict[str, dict[str, float]] = {
    "sweep-1min": {"seconds": 17.1, "cpu_seconds": 14.8, "load_average": 7.6},
    "compare-2min": {"seconds": 39.8, "cpu_seconds": 30.6, "load_average": 6.4},
    "meta-5min": {"seconds": 279.8, "cpu_seconds": 101.3, "load_average": 11.6},
}
# GPU presets: not measured (no GPU was available). Estimated from the CPU costs of the same
# methods divided by an assumed GPU speed-up of 20 (TF-IDF stays on the CPU).
GPU_ESTIMATES = {"gpu-sweep": 1300.0, "gpu-compare-all": 200.0, "gpu-episodic": 400.0}


@dataclass(frozen=True)
class Preset:
    """One classroom activity: a named plan (without data: the user's fills it in) and how
    long it takes.

    Attributes:
        name: Lowercase key (``sweep-1min``).
        plan: What it runs; ``plan.kind`` is "sweep" (K-shot sweep page), "compare" (Train &
            compare, adapt protocol) or "episodic" (Train & compare, unseen classes).
        seconds: Expected wall time on the sample data.
        measured: True when ``seconds`` was measured on ``MEASURED_ON``; False for estimates.
        machine: "cpu" (sized for a laptop) or "gpu".
    """

    name: str
    plan: ExperimentPlan
    seconds: float
    measured: bool
    machine: str = "cpu"

    @property
    def kind(self) -> str:
        return self.plan.kind

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.plan.methods)

    def with_data(self, data: DataSource) -> ExperimentPlan:
        """The preset's plan on ``data`` (a sweep keeps the data's split for every seed)."""
        return self.plan.with_data(data)


def _plan(methods: dict[str, dict[str, Any]], **kwargs: Any) -> ExperimentPlan:
    return ExperimentPlan(methods=methods, **kwargs)


SWEEP_SHOTS = (1, 2, 4, 8, 16, None)
META = ("protonet", "maml", "fomaml", "anil", "reptile")
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("sweep-1min", _plan({"nearest-centroid": {}, "linear-probe": {},
                                "tfidf-logreg": LIGHT_TFIDF},
                               shots=SWEEP_SHOTS, seeds=(0, 1, 2, 3, 4)),
           seconds=MEASUREMENTS["sweep-1min"]["seconds"], measured=True),
    Preset("compare-2min", _plan({"tfidf-logreg": LIGHT_TFIDF, "linear-probe": {},
                                  "nearest-centroid": {},
                                  "protonet": {"meta_episodes": 10, "n_way": 3, "k_shot": 2,
                                               "n_query": 2}}, shots=(8,), seeds=(0,)),
           seconds=MEASUREMENTS["compare-2min"]["seconds"], measured=True),
    Preset("meta-5min", _plan({"nearest-centroid": {}, "protonet": {"meta_episodes": 15},
                               "anil": {"meta_episodes": 10}}, protocol="episodic",
                              episodes=EpisodeShape(n_way=3, k_shot=3, n_query=3,
                                                    test_episodes=50), seeds=(0,)),
           seconds=MEASUREMENTS["meta-5min"]["seconds"], measured=True),
    Preset("gpu-sweep", _plan({m: {} for m in ("nearest-centroid", "linear-probe",
                                              "tfidf-logreg", "protonet", "full-finetune",
                                              "lora")}, shots=SWEEP_SHOTS, seeds=(0, 1, 2, 3, 4)),
           seconds=GPU_ESTIMATES["gpu-sweep"], measured=False, machine="gpu"),
    Preset("gpu-compare-all", _plan({m: {} for m in (
        "tfidf-logreg", "linear-probe", "nearest-centroid", "protonet", "maml", "fomaml",
        "anil", "reptile", "full-finetune", "lora")}, shots=(8,), seeds=(0, 1, 2)),
           seconds=GPU_ESTIMATES["gpu-compare-all"], measured=False, machine="gpu"),
    Preset("gpu-episodic", _plan({"nearest-centroid": {}, **{m: {"meta_episodes": 300}
                                                             for m in META}},
                                 protocol="episodic", seeds=(0,),
                                 episodes=EpisodeShape(n_way=3, k_shot=5, n_query=10,
                                                       test_episodes=600)),
           seconds=GPU_ESTIMATES["gpu-episodic"], measured=False, machine="gpu"),
)}


def get(name: str) -> Preset:
    """The preset called ``name``. Raises ``ValueError`` naming the presets."""
    if name not in PRESETS:
        raise MessageError("preset.unknown", name=str(name), choices=list(PRESETS))
    return PRESETS[name]


def for_kind(kind: str | None = None, machine: str | None = None) -> list[Preset]:
    """Presets of one kind and/or machine, in their listed order."""
    return [p for p in PRESETS.values()
            if (kind is None or p.kind == kind) and (machine is None or p.machine == machine)]
