"""The unseen-classes form's checks: the class split it will use and whether episodes of its
shape can be drawn, before anything runs.

No streamlit here: ``ui.episodic_view`` draws the widgets and calls these functions, which use
only ``metacore``'s own checks, so the app says exactly what ``metacore episodic`` would say
(in the form's words where the engine names a flag: the ``msg.term.hint.*`` strings).
"""

from __future__ import annotations

import pandas as pd

from metacore.data import DataError, Finding, TextSet
from metacore.data.episodes import PARTS, ClassSplit, episode_findings, resolve_class_split
from metacore.messages import msg
from metacore.plan import ExperimentPlan
from ui.form import Form
from ui.i18n import say, t


def split_kinds() -> dict[str, str]:
    """How the classes are split, in the interface language."""
    return {"column": t("episodic.split.column"), "random": t("episodic.split.random"),
            "pick": t("episodic.split.pick")}


def part_names() -> dict[str, str]:
    return {"meta_train": t("episodic.part.meta_train"), "meta_val": t("episodic.part.meta_val"),
            "novel": t("episodic.part.novel")}


def is_meta_learner(name: str) -> bool:
    """Methods that meta-train on base-class episodes (their config has ``meta_episodes``)."""
    from metacore.methods import registry

    return any(f.name == "meta_episodes" for f in registry.get(name).config_cls.fields())


def column_split_usable(frame: pd.DataFrame) -> bool:
    """Whether the file's split column assigns every class to one part (meta_train/...)."""
    try:
        resolve_class_split("column", frame, 0)
    except DataError:
        return False
    return True


def resolve(form: Form, frame: pd.DataFrame) -> ClassSplit:
    """The class split the run will use. Raises ``DataError`` (overlap, unknown, no novel)."""
    if form.split_kind == "pick":
        odd = [c for part in PARTS for c in form.picked.get(part, [])
               if any(x in c for x in ",;=")]
        if odd:
            raise DataError(t("episodic.odd_class", name=repr(odd[0])))
    return resolve_class_split(form.classes_split(), frame, form.plan.seeds[0])


def _said(finding: Finding, note: str = "") -> Finding:
    """The engine's finding as the page shows it (``say``: by its code, in the learner's
    language and the form's words), as plain text the page can add ``note`` to."""
    return Finding(finding.level, finding.code, say(finding, markdown=False) + note, finding.rows,
                   finding.count)


def feasibility(form: Form, frame: pd.DataFrame) -> tuple[ClassSplit | None, list[Finding]]:
    """(the split or None, findings) before anything runs: errors block the Start button."""
    try:
        split = resolve(form, frame)
    except DataError as exc:
        return None, [Finding("error", "class_split", say(exc, markdown=False))]
    plan: ExperimentPlan = form.plan
    everything = TextSet(tuple(frame["text"]), tuple(frame["label"]))
    e = plan.episodes
    shape = {"n_way": e.n_way, "k_shot": e.k_shot, "n_query": e.n_query}
    findings = [_said(f) for f in episode_findings(split.part(everything, "novel"), **shape,
                                                   part=msg("term.part.novel"))]
    meta = [m for m in plan.methods if is_meta_learner(m)
            and plan.method_settings(next(r for r in plan.runs() if r.method == m))
            .get("meta_episodes", 1) > 0]
    if meta:
        if not split.meta_train:
            findings.append(Finding("warning", "no_base_classes", t(
                "episodic.no_base", methods=", ".join(meta))))
        else:
            note = " " + t("episodic.shape_too", methods=", ".join(meta))
            findings += [_said(f, note)
                         for f in episode_findings(split.part(everything, "meta_train"),
                                                   **shape, part=msg("term.part.meta_training"))]
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
