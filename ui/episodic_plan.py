"""Turn the unseen-classes form into a class split, feasibility findings and queued runs.

No streamlit here (like ``ui.comparison``): the form in ``ui.episodic_view`` draws widgets and
calls these functions, which only use ``metacore``'s own checks so the app says exactly what
``metacore episodic`` would say.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from metacore.data import DataError, Finding, TextSet
from metacore.data.episodes import PARTS, ClassSplit, episode_findings, resolve_class_split
from metacore.episodic import EpisodicSpec, prepare_episodic
from metacore.methods import registry
from ui.i18n import t

# Set by the form for every method (EpisodicSpec fills them in), never drawn per method. A
# method's own ``meta_episodes`` in ``EpisodicChoice.configs`` (a preset's budget for it) still
# wins over the form's number; changing that number drops them.
EPISODE_FIELDS = ("n_way", "k_shot", "n_query", "meta_episodes")
SPLIT_KINDS = ("column", "random", "pick")
APP_TEST_EPISODES = 100  # the CLI's default is 600; 100 keeps a laptop run to minutes


def split_kinds() -> dict[str, str]:
    """How the classes are split, in the interface language."""
    return {"column": t("episodic.split.column"), "random": t("episodic.split.random"),
            "pick": t("episodic.split.pick")}


def part_names() -> dict[str, str]:
    return {"meta_train": t("episodic.part.meta_train"), "meta_val": t("episodic.part.meta_val"),
            "novel": t("episodic.part.novel")}


def cli_words() -> dict[str, str]:
    """metacore's messages name the CLI's flags; the form's labels say the same in the app."""
    return {"--shots": t("episodic.shots"), "--queries": t("episodic.queries"),
            "--ways": t("episodic.ways"), "--classes-split random": t("episodic.random_split")}


@dataclass
class EpisodicChoice:
    """What the user picked for the unseen-classes protocol (small presets: laptop CPU)."""

    methods: list[str] = field(default_factory=lambda: default_methods())
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    n_way: int = 3
    k_shot: int = 5
    n_query: int = 5
    meta_episodes: int = 30
    test_episodes: int = APP_TEST_EPISODES
    split: str = ""  # "column" | "random" | "pick"; "" = column when the file has one
    seed: int = 0
    picked: dict[str, list[str]] = field(default_factory=dict)  # part -> classes ("pick")


def default_methods() -> list[str]:
    """A frozen-encoder baseline, one that fits each support set, and a meta-learner."""
    names = [s.name for s in registry.available()]
    return [m for m in ("nearest-centroid", "linear-probe", "protonet") if m in names]


def is_meta_learner(name: str) -> bool:
    """Methods that meta-train on base-class episodes (their config has ``meta_episodes``)."""
    return any(f.name == "meta_episodes" for f in registry.get(name).config_cls.fields())


def column_split_usable(frame: pd.DataFrame) -> bool:
    """Whether the file's split column assigns every class to one part (meta_train/...)."""
    try:
        resolve_class_split("column", frame, 0)
    except DataError:
        return False
    return True


def split_text(ch: EpisodicChoice) -> str:
    """The ``--classes-split`` value: column, random, or meta_train=a,b;meta_val=c;novel=d."""
    if ch.split != "pick":
        return ch.split or "random"
    return ";".join(f"{part}={','.join(ch.picked.get(part, []))}" for part in PARTS)


def resolve(ch: EpisodicChoice, frame: pd.DataFrame) -> ClassSplit:
    """The class split the run will use. Raises ``DataError`` (overlap, unknown, no novel)."""
    if ch.split == "pick":
        odd = [c for part in PARTS for c in ch.picked.get(part, []) if any(x in c for x in ",;=")]
        if odd:
            raise DataError(t("episodic.odd_class", name=repr(odd[0])))
    return resolve_class_split(split_text(ch), frame, ch.seed)


def app_words(message: str) -> str:
    for flag, words in cli_words().items():
        message = message.replace(flag, words)
    return message


def feasibility(ch: EpisodicChoice, frame: pd.DataFrame) -> tuple[ClassSplit | None,
                                                                    list[Finding]]:
    """(the split or None, findings) before anything runs: errors block the Start button."""
    split, findings = _feasibility(ch, frame)
    return split, [dataclasses.replace(f, message=app_words(f.message)) for f in findings]


def _said(finding: Finding) -> Finding:
    """The engine's finding in the learner's language, before the page adds to its sentence
    (the translation reads the values out of the engine's English sentence)."""
    from ui.translate import finding_message

    return dataclasses.replace(finding, message=finding_message(finding))


def _feasibility(ch: EpisodicChoice, frame: pd.DataFrame) -> tuple[ClassSplit | None,
                                                                     list[Finding]]:
    try:
        split = resolve(ch, frame)
    except DataError as exc:
        return None, [Finding("error", "class_split", str(exc))]
    everything = TextSet(tuple(frame["text"]), tuple(frame["label"]))
    shape = {"n_way": ch.n_way, "k_shot": ch.k_shot, "n_query": ch.n_query}
    findings = [_said(f) for f in episode_findings(split.part(everything, "novel"), **shape,
                                                   part="the novel part")]
    meta = [m for m in ch.methods if is_meta_learner(m)]
    if meta and ch.meta_episodes > 0:
        if not split.meta_train:
            findings.append(Finding("warning", "no_base_classes", t(
                "episodic.no_base", methods=", ".join(meta))))
        else:
            note = " " + t("episodic.shape_too", methods=", ".join(meta))
            findings += [dataclasses.replace(f, message=_said(f).message + note)
                         for f in episode_findings(split.part(everything, "meta_train"),
                                                   **shape, part="the meta-training part")]
        if not split.meta_val:
            findings.append(Finding("info", "no_val_classes", t("episodic.no_val")))
    return split, findings


def split_table(split: ClassSplit, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per part: its classes and how many texts they hold."""
    counts, names = frame["label"].value_counts(), part_names()
    return pd.DataFrame([{t("episodic.table.part"): names[p],
                          t("episodic.table.classes"): ", ".join(getattr(split, p)) or "—",
                          t("episodic.table.texts"): int(sum(counts.get(c, 0)
                                                              for c in getattr(split, p)))}
                         for p in PARTS])


def build_specs(data: dict[str, Any], ch: EpisodicChoice, *, backbone: str,
                allow_download: bool, device: str) -> list[EpisodicSpec]:
    """One spec per method; settings checked now, so errors show before queueing."""
    if not ch.methods:
        raise ValueError(t("episodic.no_methods"))
    specs = []
    for name in ch.methods:
        chosen = ch.configs.get(name, {})
        config = {k: v for k, v in chosen.items() if k not in EPISODE_FIELDS}
        registry.create(name, config)  # raises on a bad setting
        specs.append(EpisodicSpec(
            data=data["path"], method=name, backbone=backbone, method_config=config,
            text_col=data.get("text_col"), label_col=data.get("label_col"), n_way=ch.n_way,
            k_shot=ch.k_shot, n_query=ch.n_query,
            meta_train_episodes=int(chosen.get("meta_episodes", ch.meta_episodes)),
            test_episodes=ch.test_episodes, seed=ch.seed, classes_split=split_text(ch),
            device=device, allow_download=allow_download))
    return specs


def start(queue: Any, data: dict[str, Any], ch: EpisodicChoice, *, owner: str, backbone: str,
          allow_download: bool = False, device: str = "auto") -> tuple[str, list[str]]:
    """Split the classes and draw the test episodes once, then queue every method on them.

    Raises:
        ValueError (DataError included): the data, the split or a setting cannot be used.
    """
    specs = build_specs(data, ch, backbone=backbone, allow_download=allow_download,
                        device=device)
    prepared = prepare_episodic(specs[0])  # the same episodes for every method
    group = datetime.now().strftime("episodic-%Y%m%d-%H%M%S")
    run_ids = [queue.submit(spec, owner=owner, group=group, prepared=prepared)
               for spec in specs]
    return group, run_ids
