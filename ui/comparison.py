"""Turn the Train & compare choices into queued runs (no streamlit here).

Messages are in the interface language (``ui.i18n.t``; English outside a Streamlit run).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metacore.api import RunSpec, prepare_data
from metacore.data import LoadedData
from metacore.methods import registry
from ui.i18n import t


@dataclass
class Choice:
    """What the user picked on Train & compare."""

    methods: list[str]
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    backbone: str = "minilm"
    allow_download: bool = False
    shots: int | None = 8
    seeds: list[int] = field(default_factory=lambda: [0])
    device: str = "auto"


def parse_seeds(text: str) -> list[int]:
    """"0, 1, 2" or "0-4" -> seeds. Raises ValueError with one sentence."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(t("comparison.seeds_format", part=repr(part)))
        seeds += list(range(int(low), int(high or low) + 1))
    if not seeds or len(seeds) > 20:
        raise ValueError(t("comparison.seeds_count"))
    return list(dict.fromkeys(seeds))


def build_specs(data: dict[str, Any], choice: Choice) -> list[RunSpec]:
    """One spec per method and seed; settings checked now, so errors show before queueing."""
    if not choice.methods:
        raise ValueError(t("comparison.no_method"))
    if any(registry.get(name).uses_backbone for name in choice.methods):
        from metacore.security import allowed_model_dirs, check_backbone_spec

        check_backbone_spec(choice.backbone, allowed_dirs=allowed_model_dirs(),
                            allow_download=choice.allow_download)  # BackboneError: ValueError
    specs = []
    for seed in choice.seeds:
        for name in choice.methods:
            registry.create(name, choice.configs.get(name, {}))  # raises on a bad setting
            specs.append(RunSpec(
                data=data["path"], test=data.get("test_path"), method=name,
                backbone=choice.backbone, method_config=dict(choice.configs.get(name, {})),
                text_col=data.get("text_col"), label_col=data.get("label_col"),
                shots=choice.shots, seed=seed, device=choice.device,
                allow_download=choice.allow_download, test_size=data["test_size"],
                val_size=data["val_size"], use_split_column=data["use_split_column"]))
    return specs


def start(queue: Any, data: dict[str, Any], choice: Choice, *, owner: str,
          loaded: LoadedData, test_loaded: LoadedData | None = None) -> tuple[str, list[str]]:
    """Prepare the data once per seed and queue every run. Returns (group, run ids).

    Raises:
        ValueError (DataError included): the data or a setting cannot be used.
    """
    specs = build_specs(data, choice)
    group = datetime.now().strftime("cmp-%Y%m%d-%H%M%S")
    prepared: dict[int, Any] = {}
    run_ids = []
    for spec in specs:
        if spec.seed not in prepared:
            prepared[spec.seed] = prepare_data(spec, loaded=loaded, test_loaded=test_loaded)
        run_ids.append(queue.submit(dataclasses.replace(spec), owner=owner, group=group,
                                    prepared=prepared[spec.seed]))
    return group, run_ids


def default_methods() -> list[str]:
    """The workshop comparison: linear probe, ProtoNet (when registered), full fine-tuning."""
    names = [s.name for s in registry.available()]
    return [m for m in ("linear-probe", "protonet", "full-finetune") if m in names]
