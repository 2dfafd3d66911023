"""Workshop presets: named settings that finish within a stated time, measured, not guessed.

A preset names the methods, K, seeds, episodes and backbone of one classroom activity. Each
CPU preset was run once, end to end, on the machine described in ``MEASURED_ON`` (with
``bench/presets.py``, on the bundled English sample: 342 texts, 9 classes) and its wall time
is stored in ``seconds``; a typical 4-core laptop is about as fast or faster. GPU presets could
not be measured here: their ``seconds`` is an estimate (``measured`` is False), scaled from the
CPU measurements of the same methods, and says so wherever it is shown.

``apply_preset(name)`` returns plain settings the pages (and later Train & compare) apply:
``methods``, ``configs`` (per-method settings), ``shots`` (one K, or a list for a sweep),
``seeds``, ``backbone``, and for episodic presets ``n_way``, ``k_shot``, ``n_query``,
``meta_episodes`` and ``test_episodes``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

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
# GPU presets: not measured (no GPU was available). Estimated from the CPU costs in
# ``metacore.teaching.costs`` divided by its assumed GPU speed-up (TF-IDF stays on the CPU).
GPU_ESTIMATES = {"gpu-sweep": 1300.0, "gpu-compare-all": 200.0, "gpu-episodic": 400.0}


@dataclass(frozen=True)
class Preset:
    """One classroom activity and how long it takes.

    Attributes:
        name: Lowercase key (``sweep-1min``).
        kind: "sweep" (K-shot sweep page), "compare" (Train & compare, adapt protocol) or
            "episodic" (Train & compare, unseen classes).
        device: "cpu" (sized for a laptop) or "gpu".
        seconds: Expected wall time on the sample data.
        measured: True when ``seconds`` was measured on ``MEASURED_ON``; False for estimates.
    """

    name: str
    kind: str
    methods: tuple[str, ...]
    shots: tuple[int | None, ...]
    seeds: tuple[int, ...]
    seconds: float
    measured: bool
    device: str = "cpu"
    backbone: str = "minilm"
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    episodes: dict[str, int] = field(default_factory=dict)  # n_way, k_shot, n_query, ...


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("sweep-1min", "sweep", ("nearest-centroid", "linear-probe", "tfidf-logreg"),
           (1, 2, 4, 8, 16, None), (0, 1, 2, 3, 4), seconds=MEASUREMENTS["sweep-1min"][
               "seconds"], measured=True,
           configs={"tfidf-logreg": LIGHT_TFIDF}),
    Preset("compare-2min", "compare",
           ("tfidf-logreg", "linear-probe", "nearest-centroid", "protonet"), (8,), (0,),
           seconds=MEASUREMENTS["compare-2min"]["seconds"], measured=True, configs={
               "tfidf-logreg": LIGHT_TFIDF,
               "protonet": {"meta_episodes": 10, "n_way": 3, "k_shot": 2, "n_query": 2}}),
    Preset("meta-5min", "episodic", ("nearest-centroid", "protonet", "anil"), (3,), (0,),
           seconds=MEASUREMENTS["meta-5min"]["seconds"], measured=True,
           configs={"protonet": {"meta_episodes": 15}, "anil": {"meta_episodes": 10}},
           episodes={"n_way": 3, "k_shot": 3, "n_query": 3, "test_episodes": 50}),
    Preset("gpu-sweep", "sweep", ("nearest-centroid", "linear-probe", "tfidf-logreg",
                                  "protonet", "full-finetune", "lora"),
           (1, 2, 4, 8, 16, None), (0, 1, 2, 3, 4), seconds=GPU_ESTIMATES["gpu-sweep"],
           measured=False, device="gpu"),
    Preset("gpu-compare-all", "compare", ("tfidf-logreg", "linear-probe", "nearest-centroid",
                                          "protonet", "maml", "fomaml", "anil", "reptile",
                                          "full-finetune", "lora"), (8,), (0, 1, 2),
           seconds=GPU_ESTIMATES["gpu-compare-all"], measured=False, device="gpu"),
    Preset("gpu-episodic", "episodic", ("nearest-centroid", "protonet", "maml", "fomaml",
                                        "anil", "reptile"), (5,), (0,),
           seconds=GPU_ESTIMATES["gpu-episodic"],
           measured=False, device="gpu", configs={m: {"meta_episodes": 300} for m in (
               "protonet", "maml", "fomaml", "anil", "reptile")},
           episodes={"n_way": 3, "k_shot": 5, "n_query": 10, "test_episodes": 600}),
)}


def get(name: str) -> Preset:
    """The preset called ``name``. Raises ``ValueError`` naming the presets."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return PRESETS[name]


def apply_preset(name: str) -> dict[str, Any]:
    """The settings of preset ``name`` as a plain dict (a fresh copy each call)."""
    preset = get(name)
    settings: dict[str, Any] = {
        "preset": preset.name, "kind": preset.kind, "methods": list(preset.methods),
        "configs": copy.deepcopy(preset.configs), "backbone": preset.backbone,
        "seeds": list(preset.seeds), "device": preset.device,
        "shots": list(preset.shots) if preset.kind == "sweep" else preset.shots[0],
        "expected_seconds": preset.seconds, "measured": preset.measured,
    }
    if preset.kind == "episodic":
        settings.update(preset.episodes)
        settings["meta_episodes"] = {m: c["meta_episodes"] for m, c in preset.configs.items()
                                     if "meta_episodes" in c}
    return settings


def for_kind(kind: str | None = None, device: str | None = None) -> list[Preset]:
    """Presets of one kind and/or device, in their listed order."""
    return [p for p in PRESETS.values()
            if (kind is None or p.kind == kind) and (device is None or p.device == device)]
