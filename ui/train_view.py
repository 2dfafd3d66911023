"""Train & compare widgets: protocol, backbone, methods with their settings, estimates.

Every widget reads its value from the session's ``ui.form.Form`` (a plan per protocol) and
writes the new value back, so the form survives a language switch, a page switch and (through
the plan stored with a running comparison) a reload. Widgets whose options are words in the
interface language carry the language in their key (``ui.i18n.lkey``): the browser keeps a
chosen option by its label, and a label that changed with the language must not come back as
a value. A classroom link (``ui.classroom_view.mode()``) can make a widget read-only
(``lock=1``) or leave it out (``hide=advanced`` / ``hide=settings``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from metacore.config import FieldInfo
from metacore.methods import registry
from metacore.methods.costs import DataSizes
from metacore.plan import PlanError, parse_seeds, seeds_text
from metacore.text import markdown_literal
from ui import classroom_view, estimate, state
from ui.form import Form
from ui.i18n import language, lkey, say, t

BACKBONES = ("minilm", "", "random-init:minilm", "tiny")  # "" = a Hugging Face id or folder
DEVICES = ["auto", "cpu", "cuda", "mps"]


def backbone_names() -> dict[str, str]:
    """Each backbone choice's label in the interface language."""
    return {"minilm": t("train.backbone.minilm"), "": t("train.backbone.custom"),
            "random-init:minilm": t("train.backbone.random"), "tiny": t("train.backbone.tiny")}


def protocol(f: Form) -> str:
    options = {"adapt": t("train.protocol.adapt"), "episodic": t("train.protocol.episodic")}
    picked = st.segmented_control(t("train.protocol.label"), list(options),
                                  format_func=options.get, default=f.protocol,
                                  key=lkey("train_protocol"), help=t("train.protocol.help"),
                                  disabled=classroom_view.mode().locks("protocol"))
    if picked and picked != f.protocol:
        f.protocol = picked
    return f.protocol


def method_label(name: str) -> str:
    """``name · family`` with the family in the interface language."""
    from metacore.methods.recommend import is_recommended

    family = registry.get(name).family
    mark = f" · ★ {t('train.methods.recommended')}" if is_recommended(name) else ""
    return f"{name} · {say_term('family', family)}{mark}"


def say_term(kind: str, value: str) -> str:
    from metacore.messages import msg

    return say(msg(f"term.{kind}.{value}"))


def method_description(name: str) -> str:
    return registry.description(name, language())


def setting_label(info: FieldInfo) -> str:
    return registry.setting_text(info, "label", language())


def setting_help(info: FieldInfo) -> str:
    return registry.setting_text(info, "help", language())


def backbone(f: Form) -> None:
    mode, names = classroom_view.mode(), backbone_names()
    plan = f.plan
    if mode.hides("advanced"):  # a classroom link decides (or the default stays)
        st.markdown(t("train.backbone.fixed",
                      name=markdown_literal(names.get(plan.backbone, plan.backbone))))
        return
    locked = mode.locks("backbone")
    current = plan.backbone if plan.backbone in BACKBONES else ""
    picked = st.selectbox(t("train.backbone.label"), BACKBONES,
                          index=BACKBONES.index(current), key=lkey("train_backbone"),
                          format_func=names.get, help=t("train.backbone.help"), disabled=locked)
    allow = False
    if not picked:
        given = "" if plan.backbone in BACKBONES else plan.backbone
        picked = st.text_input(t("train.backbone.id"), value=given, key="train_backbone_id",
                               placeholder=t("train.backbone.id_placeholder"),
                               help=t("train.backbone.id_help"), disabled=locked).strip()
        from metacore.security import ALLOW_DOWNLOAD_ENV, downloads_permitted

        permitted = downloads_permitted()
        allow = st.checkbox(t("train.backbone.download"),
                            value=plan.allow_download and permitted, key="train_download",
                            disabled=not permitted or locked,
                            help=None if permitted else t("train.backbone.download_off",
                                                          env=ALLOW_DOWNLOAD_ENV)) and permitted
    f.update(backbone=picked or "minilm", allow_download=allow)


MULTI_LABEL_DEFAULT = ("tfidf-logreg", "linear-probe", "nearest-centroid")


def methods(f: Form, sizes: DataSizes | None = None, *, multi_label: bool = False) -> None:
    """The method picker and, per method, its settings (with what this data changes). For
    multi-label data only the methods that learn several labels a text are offered, and a
    caption names the others and why."""
    mode = classroom_view.mode()
    names = [s.name for s in registry.installed()]
    hidden = [n for n in names if multi_label
              and not registry.get(n).method_cls.supports_multi_label]
    names = [n for n in names if n not in hidden]
    current = f.plan.methods
    if hidden and not any(m in names for m in current):  # nothing chosen can run: a start
        current = {m: {} for m in MULTI_LABEL_DEFAULT if m in names}
    key = lkey(f"{_prefix(f)}methods")
    # Chosen methods' chips wrap onto as many rows as they need (wrap=True) and the picker
    # grows with them: its own height cap (about five rows) would scroll the last chips of ten
    # methods out of sight. Its text box keeps its unfocused width when focused: at 48 px it
    # moved to a row of its own, the picker grew a row on focus and shrank on blur, and a click
    # on Start that blurred it landed after the button had moved up (the click was lost). The
    # style applies to this one widget (its key's class) only.
    st.html(f"<style>.st-key-{html.escape(key)} div {{max-height: none !important;}}"
            f" .st-key-{html.escape(key)} input {{min-width: 8px !important;}}</style>")
    chosen = st.multiselect(t("train.methods.label"), names,
                            default=[m for m in current if m in names],
                            key=key, format_func=method_label,
                            help=t("train.methods.help" if f.protocol == "adapt"
                                   else "episodic.methods_help"),
                            disabled=mode.locks("methods"), wrap=True)  # every chip in sight
    f.update(methods={m: dict(current.get(m, {})) for m in chosen})
    if hidden:
        st.caption(t("train.methods.multi_label_hidden", names=", ".join(hidden)))
    elif f.protocol == "adapt":
        from metacore.methods.recommend import reason

        st.caption(reason(language()), help=t("train.methods.recommended_help"))
    absent = registry.missing()
    if absent:
        from metacore.messages import msg

        st.caption(say(msg("method.not_installed", names=[s.name for s in absent],
                           extras=sorted({s.requires for s in absent}))))
    for name in chosen:
        if mode.hides("settings"):
            continue  # the link's settings (or the defaults) apply, unseen
        with st.expander(t("train.methods.settings", name=markdown_literal(name)),
                         icon=":material/tune:"):
            st.caption(method_description(name))
            f.set_settings(name, settings_form(f, name, sizes))


def _prefix(f: Form) -> str:
    """Widget keys of the unseen-class form start with ``ep_``, so the same method's settings
    of the two protocols never share a widget."""
    return "ep_" if f.protocol == "episodic" else "train_"


SHAPE_SETTINGS = ("n_way", "k_shot", "n_query")


def settings_form(f: Form, method: str, sizes: DataSizes | None = None) -> dict[str, Any]:
    """Basic settings shown, advanced ones behind a toggle; returns the method's own settings
    (those that differ from what it runs with otherwise). Each field shows the value the run
    uses, and beside it what this data changes when the run starts (``sizes``); with unseen
    classes the episode shape comes from the form's own fields above."""
    mode = classroom_view.mode()
    locked = mode.locks("settings")
    spec = registry.get(method)
    own = dict(f.plan.methods[method])
    baseline = _baseline(f, method)
    shown = {**baseline, **own}
    fields = [i for i in spec.config_cls.fields()
              if not (f.protocol == "episodic" and i.name in SHAPE_SETTINGS)]
    keyed = f"cfg_{'ep_' if f.protocol == 'episodic' else ''}{method}"
    notes = _adjustments(method, own, sizes)
    values = {i.name: _field(keyed, i, shown[i.name], locked, notes.get(i.name))
              for i in fields if not i.advanced}
    advanced = [i for i in fields if i.advanced]
    if advanced and not mode.hides("advanced") and st.toggle(
            t("train.methods.advanced"), key=f"{keyed}__advanced"):
        values |= {i.name: _field(keyed, i, shown[i.name], locked, notes.get(i.name))
                   for i in advanced}
    for name in [n for n in notes if n not in values]:  # beside a setting not shown here
        for note in notes[name]:
            st.caption(":material/info: " + note)
    hidden = {k: v for k, v in own.items() if k not in values}
    return hidden | {k: v for k, v in values.items() if v != baseline[k]}


def _baseline(f: Form, method: str) -> dict[str, Any]:
    """The settings ``method`` runs with in this plan when it has none of its own: its
    defaults, and with unseen classes the plan's episode shape and episodes."""
    from metacore.plan import PlannedRun

    defaults = {i.name: i.default for i in registry.get(method).config_cls.fields()}
    if f.protocol != "episodic":
        return defaults
    return defaults | f.plan.method_settings(PlannedRun(method, {}, None, 0, 0))


def _field(keyed: str, info: FieldInfo, value: Any, locked: bool = False,
           notes: list[str] | None = None) -> Any:
    """One setting's widget; ``notes`` (what the data changes in it) show right under it."""
    picked = _widget(keyed, info, value, locked)
    for note in notes or []:
        st.caption(":material/info: " + note)
    return picked


def _widget(keyed: str, info: FieldInfo, value: Any, locked: bool) -> Any:
    key, label, helptext = f"{keyed}_{info.name}", setting_label(info), setting_help(info)
    if info.choices:
        options = list(info.choices)
        return st.selectbox(label, options, index=options.index(value) if value in options
                            else 0, key=key, help=helptext, disabled=locked)
    if info.type == "bool":
        return st.checkbox(label, value=bool(value), key=key, help=helptext, disabled=locked)
    if info.type in ("int", "float"):
        cast = int if info.type == "int" else float
        low = cast(info.minimum) if info.minimum is not None else None
        high = cast(info.maximum) if info.maximum is not None else None
        fmt = "%d" if info.type == "int" else ("%.2e" if 0 < abs(value) < 1e-3 else "%.4g")
        return st.number_input(label, min_value=low, max_value=high, value=cast(value),
                               step=1 if cast is int else None, format=fmt, key=key,
                               help=helptext, disabled=locked)
    return st.text_input(label, value=str(value), key=key, help=helptext, disabled=locked)


def _adjustments(method: str, settings: dict[str, Any], sizes: DataSizes | None
                 ) -> dict[str, list[str]]:
    """What this data changes in the method's settings when it runs, by the setting each note
    belongs beside (``Method.adjustments``), in the interface language."""
    if sizes is None:
        return {}
    spec = registry.get(method)
    try:
        notes = spec.method_cls.adjustments(spec.config_cls.from_dict(settings), sizes)
    except ValueError:
        return {}
    out: dict[str, list[str]] = {}
    for note in notes:
        out.setdefault(note.params.get("field", ""), []).append(say(note))
    return out


def run_settings(f: Form) -> bool:
    """K shots, seeds and device; False when the seeds do not parse."""
    mode = classroom_view.mode()
    a, b, c = st.columns(3)
    plan = f.plan
    locked = mode.locks("shots")
    every = a.toggle(t("train.run.all"), value=plan.shots == (None,), key="train_all_shots",
                     help=t("train.run.all_help"), disabled=locked)
    shots = a.number_input(t("train.run.shots"), 1, 1000, plan.shots[0] or 8,
                           key="train_shots", disabled=locked or every,
                           help=t("train.run.shots_help"))
    f.update(shots=(None if every else int(shots),))
    text = b.text_input(t("train.run.seeds"), value=", ".join(map(str, plan.seeds)),
                        key="train_seeds", help=t("train.run.seeds_help"),
                        disabled=mode.locks("seeds"))
    device(c, f, key="train_device")
    try:
        seeds = parse_seeds(text)
        if len(seeds) > 20:
            raise PlanError("plan.too_many_seeds", most=20)
    except PlanError as exc:
        b.error(say(exc))
        return False
    f.update(seeds=tuple(seeds))
    return True


def device(where: Any, f: Form, *, key: str) -> None:
    """The device picker and what was detected (a classroom link may hide or fix it)."""
    mode = classroom_view.mode()
    if not mode.hides("advanced"):
        picked = where.selectbox(t("train.run.device"), DEVICES,
                                 index=DEVICES.index(f.plan.device)
                                 if f.plan.device in DEVICES else 0, key=key,
                                 help=t("train.run.device_help"),
                                 disabled=mode.locks("device"))
        f.update(device=picked)
    where.caption(t("train.run.detected", device=state.device_label()))


def adapt_sizes(f: Form, frame: pd.DataFrame, data: dict[str, Any]) -> DataSizes:
    """The sizes of one adapt-protocol run of this form on the Data page's data."""
    counts = frame["label"].value_counts()
    n_classes = len(counts)
    n_test = 0 if data["test_path"] else int(len(frame) * data["test_size"])
    n_val = int((len(frame) - n_test) * data["val_size"])
    keep = 1 - (0 if data["test_path"] else data["test_size"]) - data["val_size"]
    smallest = max(1, int(counts.min() * keep))
    k = f.plan.shots[0]
    n_train = len(frame) - n_test - n_val if k is None else sum(
        min(k, max(1, int(n * keep))) for n in counts)
    return DataSizes(n_train=n_train, n_val=0 if not n_val else min(n_val, n_train),
                     n_test=n_test, n_classes=n_classes,
                     per_class=smallest if k is None else min(k, smallest))


def estimates(f: Form, sizes: DataSizes, *, texts: Sequence[str] = ()) -> None:
    """Time, memory and trainable parameters per method, before anything runs (``texts``: a
    few of the user's, to time the backbone on texts of their length)."""
    plan = f.plan
    if not plan.methods:
        return
    needs = any(registry.get(m).uses_backbone for m in plan.methods)
    try:
        bb = state.backbone(plan.backbone, plan.allow_download) if needs else None
    except ValueError as exc:  # BackboneError: missing model, no safetensors...
        st.error(say(exc), icon=":material/error:")
        return
    runs = [r for r in plan.runs() if r.seed == plan.seeds[0]]
    found = estimate.estimate_all(runs, plan, bb, sizes, gpu="cuda" in state.device_label(),
                                  texts=texts)
    rows = [{t("train.est.method"): e.method,
             t("train.est.trainable"): f"{e.trainable:,}" if e.trainable else "—",
             t("train.est.time"): estimate.human_seconds(e.seconds),
             t("train.est.memory"): f"~{e.memory_mb:,.0f} MB" if e.memory_mb else "?",
             t("train.est.note"): e.note} for e in found]
    long_note = any(len(e.note) > NOTE_ONE_LINE for e in found)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="train_estimates",
                 column_config=estimate_columns(), row_height=ROW_WRAPPED if long_note else None)
    seeds = len(plan.seeds)
    st.caption(t("train.est.caption", texts=sizes.n_train, seeds=seeds,
                 device=state.device_label()))
    if all(e.seconds is not None for e in found) and len(found) * seeds > 1:
        total = sum(e.seconds for e in found) * seeds
        st.caption(t("train.est.total", runs=len(found) * seeds,
                     time=estimate.human_seconds(total)))


# Pixels per column of the estimate table: the longest method name (nearest-centroid) and
# every header in English and Chinese fit whole; the note takes the rest of the width.
ESTIMATE_WIDTHS = {"method": 150, "trainable": 150, "time": 110, "memory": 100, "note": None}
NOTE_ONE_LINE = 48  # characters of a note that fit the note column on one line
ROW_WRAPPED = 70  # px: above 4 rem the table wraps a cell's text over two or three lines


def estimate_columns() -> dict[str, Any]:
    """The estimate table's columns, by their header in the interface language: each wide
    enough for its header and its longest value, with a help text."""
    return {t(f"train.est.{name}"): st.column_config.TextColumn(
        width=width or "large", help=t(f"train.est.{name}_help"))
        for name, width in ESTIMATE_WIDTHS.items()}


def seeds_label(f: Form) -> str:
    return seeds_text(f.plan.seeds)
