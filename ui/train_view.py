"""Train & compare widgets: protocol, backbone, methods with their settings, estimates.

A classroom link (``ui.classroom_view.mode()``) can make a widget read-only (``lock=1``) or
leave it out (``hide=advanced`` / ``hide=settings``); the values then come from the link.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from metacore.config import FieldInfo
from metacore.methods import registry
from ui import classroom_view, comparison, estimate, state
from ui.i18n import strings, t

CHOICE = "train_choice"
PROTOCOL = "train_protocol_value"  # the protocol a preset or a link chose (the widget's default)
# Option ids of the backbone picker (stable across languages; shown through ``backbone_names``).
BACKBONES = {
    "Bundled MiniLM (all-MiniLM-L6-v2)": "minilm",
    "Hugging Face id or folder": "",
    "Random-init MiniLM (control: no pretraining)": "random-init:minilm",
    "Tiny random model (smoke test)": "tiny",
}
DEVICES = ["auto", "cpu", "cuda", "mps"]


def backbone_names() -> dict[str, str]:
    """Each backbone spec's label in the interface language."""
    return {"minilm": t("train.backbone.minilm"), "": t("train.backbone.custom"),
            "random-init:minilm": t("train.backbone.random"), "tiny": t("train.backbone.tiny")}


def choice() -> comparison.Choice:
    if CHOICE not in st.session_state:
        st.session_state[CHOICE] = comparison.Choice(methods=comparison.default_methods())
    return st.session_state[CHOICE]


def episodic_available() -> bool:
    return importlib.util.find_spec("metacore.episodic") is not None


def protocol() -> str:
    options = {"adapt": t("train.protocol.adapt"), "episodic": t("train.protocol.episodic")}
    default = st.session_state.get(PROTOCOL, "adapt")
    picked = st.segmented_control(t("train.protocol.label"), list(options),
                                  format_func=options.get, default=default,
                                  key="train_protocol", help=t("train.protocol.help"),
                                  disabled=classroom_view.mode().locks("protocol"))
    if picked == "episodic" and not episodic_available():
        st.info(t("train.protocol.missing"), icon=":material/construction:")
        return "adapt"
    st.session_state[PROTOCOL] = picked or "adapt"
    return picked or "adapt"


def method_label(name: str) -> str:
    """``name · family`` with the family in the interface language."""
    family = registry.get(name).family
    return f"{name} · {_translated(f'family.{family}', family)}"


def method_description(name: str) -> str:
    spec = registry.get(name)
    return _translated(f"method.{name}", spec.description)


def _translated(key: str, english: str) -> str:
    """``t(key)`` when the English string there is ``english`` (the engine's text), else
    ``english``: an engine text that changed is shown as it is, never a stale translation."""
    return t(key) if strings("en").get(key) == english else english


def setting_help(method: str, info: FieldInfo) -> str:
    """The engine's help text of a setting, translated (``setting.<method>.<name>``, then
    ``setting.<name>`` or ``setting_alt.<name>``, the two texts most methods share) when the
    translation is of that very text."""
    for key in (f"setting.{method}.{info.name}", f"setting.{info.name}",
                f"setting_alt.{info.name}"):
        if strings("en").get(key) == info.help:
            return t(key)
    return info.help


def setting_label(info: FieldInfo) -> str:
    key = f"setting_name.{info.name}"
    return t(key) if key in strings("en") else info.name.replace("_", " ")


def backbone(ch: comparison.Choice) -> None:
    mode = classroom_view.mode()
    names = backbone_names()
    if mode.hides("advanced"):  # a classroom link decides (or the default stays)
        label = names.get(ch.backbone, ch.backbone)
        st.markdown(t("train.backbone.fixed", name=label))
        return
    labels = list(BACKBONES)
    current = next((k for k, v in BACKBONES.items() if v == ch.backbone), labels[1])
    locked = mode.locks("backbone")
    label = st.selectbox(t("train.backbone.label"), labels, index=labels.index(current),
                         key="train_backbone", format_func=lambda k: names[BACKBONES[k]],
                         help=t("train.backbone.help"), disabled=locked)
    spec = BACKBONES[label]
    if not spec:
        given = "" if ch.backbone in BACKBONES.values() else ch.backbone
        spec = st.text_input(t("train.backbone.id"), value=given, key="train_backbone_id",
                             placeholder=t("train.backbone.id_placeholder"),
                             help=t("train.backbone.id_help"), disabled=locked).strip()
        from metacore.security import ALLOW_DOWNLOAD_ENV, downloads_permitted

        permitted = downloads_permitted()
        ch.allow_download = st.checkbox(
            t("train.backbone.download"), value=ch.allow_download and permitted,
            key="train_download", disabled=not permitted or locked,
            help=None if permitted else t("train.backbone.download_off",
                                          env=ALLOW_DOWNLOAD_ENV)) and permitted
    ch.backbone = spec or "minilm"


def methods(ch: comparison.Choice) -> None:
    mode = classroom_view.mode()
    specs = {s.name: s for s in registry.available()}
    default = [m for m in ch.methods if m in specs]
    ch.methods = st.multiselect(
        t("train.methods.label"), list(specs), default=default, key="train_methods",
        format_func=method_label, help=t("train.methods.help"),
        disabled=mode.locks("methods"))
    for name in ch.methods:
        if mode.hides("settings"):
            continue  # the link's settings (or the defaults) apply, unseen
        with st.expander(t("train.methods.settings", name=name), icon=":material/tune:"):
            st.caption(method_description(name))
            ch.configs[name] = settings_form(name, specs[name].config_cls.fields(),
                                             ch.configs.get(name, {}))


def settings_form(method: str, fields: list[FieldInfo], current: dict[str, Any]) -> dict:
    """Basic settings shown, advanced ones behind a toggle; returns values changed from default.

    ``method`` prefixes the widget keys (``ep_<name>`` on the unseen-classes form).
    """
    mode = classroom_view.mode()
    locked = mode.locks("settings")
    basic = [f for f in fields if not f.advanced]
    advanced = [f for f in fields if f.advanced]
    values = {f.name: _field(method, f, current.get(f.name, f.default), locked) for f in basic}
    if advanced and not mode.hides("advanced") and st.toggle(
            t("train.methods.advanced"), key=f"cfg_{method}__advanced"):
        values |= {f.name: _field(method, f, current.get(f.name, f.default), locked)
                   for f in advanced}
    else:
        values |= {f.name: current[f.name] for f in advanced if f.name in current}
    return {k: v for k, v in values.items() if v != next(f.default for f in fields
                                                           if f.name == k)}


def _field(method: str, info: FieldInfo, value: Any, locked: bool = False) -> Any:
    key, label = f"cfg_{method}_{info.name}", setting_label(info)
    helptext = setting_help(method.removeprefix("ep_"), info)
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


def run_settings(ch: comparison.Choice, data: dict[str, Any]) -> bool:
    """K shots, seeds and device; False when the seeds do not parse."""
    mode = classroom_view.mode()
    a, b, c = st.columns(3)
    shots_locked = mode.locks("shots")
    ch.shots = int(a.number_input(
        t("train.run.shots"), 1, 1000, ch.shots or 8, key="train_shots",
        disabled=shots_locked or st.session_state.get("train_all_shots", ch.shots is None),
        help=t("train.run.shots_help")))
    if a.toggle(t("train.run.all"), value=ch.shots is None, key="train_all_shots",
                help=t("train.run.all_help"), disabled=shots_locked):
        ch.shots = None
    seeds = b.text_input(t("train.run.seeds"), value=", ".join(map(str, ch.seeds or
                                                                    [data["seed"]])),
                         key="train_seeds", help=t("train.run.seeds_help"),
                         disabled=mode.locks("seeds"))
    device(c, ch, key="train_device")
    try:
        ch.seeds = comparison.parse_seeds(seeds)
    except ValueError as exc:  # in the interface language (ui.comparison)
        b.error(str(exc))
        return False
    return True


def device(where: Any, ch: comparison.Choice, *, key: str) -> None:
    """The device picker and what was detected (a classroom link may hide or fix it)."""
    mode = classroom_view.mode()
    if not mode.hides("advanced"):
        ch.device = where.selectbox(t("train.run.device"), DEVICES,
                                    index=DEVICES.index(ch.device), key=key,
                                    help=t("train.run.device_help"),
                                    disabled=mode.locks("device"))
    where.caption(t("train.run.detected", device=state.device_label()))


def estimates(ch: comparison.Choice, n_train: int, n_classes: int, *, n_val: int = 0,
              n_test: int = 0, texts: Sequence[str] = ()) -> None:
    """Time, memory and trainable parameters per method, before anything runs (``texts``: a
    few of the user's, to time the backbone on texts of their length)."""
    specs = {s.name: s for s in registry.available()}
    needs = any(specs[m].uses_backbone for m in ch.methods)
    try:
        bb = state.backbone(ch.backbone, ch.allow_download) if needs else None
    except ValueError as exc:  # BackboneError: missing model, no safetensors...
        st.error(str(exc), icon=":material/error:")
        return
    gpu = "cuda" in state.device_label()
    configs = {name: specs[name].config_cls.from_dict(ch.configs.get(name, {})).to_dict()
               for name in ch.methods}
    found = estimate.estimate_all(specs, ch.methods, configs, bb, n_train=n_train,
                                  n_classes=n_classes, n_val=n_val, n_test=n_test, gpu=gpu,
                                  texts=texts)
    rows = [{t("train.est.method"): e.method,
             t("train.est.trainable"): f"{e.trainable:,}" if e.trainable else "—",
             t("train.est.time"): estimate.human_seconds(e.seconds),
             t("train.est.memory"): f"~{e.memory_mb:,.0f} MB" if e.memory_mb else "?",
             t("train.est.note"): e.note} for e in found]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="train_estimates")
    st.caption(t("train.est.caption", texts=n_train, seeds=len(ch.seeds),
                 device=state.device_label()))
    if all(e.seconds is not None for e in found) and len(found) * len(ch.seeds) > 1:
        total = sum(e.seconds for e in found) * len(ch.seeds)
        st.caption(t("train.est.total", runs=len(found) * len(ch.seeds),
                     time=estimate.human_seconds(total)))
