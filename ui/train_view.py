"""Train & compare widgets: protocol, backbone, methods with their settings, estimates."""

from __future__ import annotations

import importlib.util
from typing import Any

import pandas as pd
import streamlit as st

from metacore.config import FieldInfo
from metacore.methods import registry
from ui import comparison, estimate, state

CHOICE = "train_choice"
BACKBONES = {
    "Bundled MiniLM (all-MiniLM-L6-v2)": "minilm",
    "Hugging Face id or folder": "",
    "Random-init MiniLM (control: no pretraining)": "random-init:minilm",
    "Tiny random model (smoke test)": "tiny",
}


def choice() -> comparison.Choice:
    if CHOICE not in st.session_state:
        st.session_state[CHOICE] = comparison.Choice(methods=comparison.default_methods())
    return st.session_state[CHOICE]


def episodic_available() -> bool:
    return importlib.util.find_spec("metacore.episodic") is not None


def protocol() -> str:
    options = {"adapt": "Adapt to my classes", "episodic": "Unseen classes (episodic)"}
    picked = st.segmented_control("Protocol", list(options), format_func=options.get,
                                  default="adapt", key="train_protocol",
                                  help="Adapt: train on K examples of each of your classes "
                                  "and test on the same classes. Unseen classes: meta-train "
                                  "on some classes, test on N-way K-shot episodes of others.")
    if picked == "episodic" and not episodic_available():
        st.info("The unseen-classes protocol needs metacore.episodic, which this install "
                "lacks.", icon=":material/construction:")
        return "adapt"
    return picked or "adapt"


def backbone(ch: comparison.Choice) -> None:
    labels = list(BACKBONES)
    current = next((k for k, v in BACKBONES.items() if v == ch.backbone), labels[1])
    label = st.selectbox("Backbone", labels, index=labels.index(current), key="train_backbone",
                         help="The pretrained text encoder the neural methods start from.")
    spec = BACKBONES[label]
    if not spec:
        given = "" if ch.backbone in BACKBONES.values() else ch.backbone
        spec = st.text_input("Model id or folder", value=given, key="train_backbone_id",
                             placeholder="e.g. BAAI/bge-small-zh-v1.5 or /models/my-bert",
                             help="A Hugging Face model id (needs downloads on) or a local "
                             "folder with config.json and model.safetensors.").strip()
        from metacore.security import ALLOW_DOWNLOAD_ENV, downloads_permitted

        permitted = downloads_permitted()
        ch.allow_download = st.checkbox(
            "Allow downloading from Hugging Face", value=ch.allow_download and permitted,
            key="train_download", disabled=not permitted,
            help=None if permitted else "Downloads are off on this server: models load from "
            f"its local cache only (the operator can set {ALLOW_DOWNLOAD_ENV}=1).") and permitted
    ch.backbone = spec or "minilm"


def methods(ch: comparison.Choice) -> None:
    specs = {s.name: s for s in registry.available()}
    default = [m for m in ch.methods if m in specs]
    ch.methods = st.multiselect(
        "Methods", list(specs), default=default, key="train_methods",
        format_func=lambda n: f"{n} · {specs[n].family}",
        help="Every method is trained on the same split and K-shot sample.")
    for name in ch.methods:
        with st.expander(f"{name} settings", icon=":material/tune:"):
            st.caption(specs[name].description)
            ch.configs[name] = settings_form(name, specs[name].config_cls.fields(),
                                             ch.configs.get(name, {}))


def settings_form(method: str, fields: list[FieldInfo], current: dict[str, Any]) -> dict:
    """Basic settings shown, advanced ones behind a toggle; returns values changed from default."""
    basic = [f for f in fields if not f.advanced]
    advanced = [f for f in fields if f.advanced]
    values = {f.name: _field(method, f, current.get(f.name, f.default)) for f in basic}
    if advanced and st.toggle("Advanced settings", key=f"cfg_{method}__advanced"):
        values |= {f.name: _field(method, f, current.get(f.name, f.default)) for f in advanced}
    else:
        values |= {f.name: current[f.name] for f in advanced if f.name in current}
    return {k: v for k, v in values.items() if v != next(f.default for f in fields
                                                           if f.name == k)}


def _field(method: str, info: FieldInfo, value: Any) -> Any:
    key, label, helptext = f"cfg_{method}_{info.name}", info.name.replace("_", " "), info.help
    if info.choices:
        options = list(info.choices)
        return st.selectbox(label, options, index=options.index(value) if value in options
                            else 0, key=key, help=helptext)
    if info.type == "bool":
        return st.checkbox(label, value=bool(value), key=key, help=helptext)
    if info.type in ("int", "float"):
        cast = int if info.type == "int" else float
        low = cast(info.minimum) if info.minimum is not None else None
        high = cast(info.maximum) if info.maximum is not None else None
        fmt = "%d" if info.type == "int" else ("%.2e" if 0 < abs(value) < 1e-3 else "%.4g")
        return st.number_input(label, min_value=low, max_value=high, value=cast(value),
                               step=1 if cast is int else None, format=fmt, key=key,
                               help=helptext)
    return st.text_input(label, value=str(value), key=key, help=helptext)


def run_settings(ch: comparison.Choice, data: dict[str, Any]) -> bool:
    """K shots, seeds and device; False when the seeds do not parse."""
    a, b, c = st.columns(3)
    ch.shots = int(a.number_input(
        "K shots per class", 1, 1000, ch.shots or 8, key="train_shots",
        disabled=st.session_state.get("train_all_shots", ch.shots is None),
        help="Training examples per class, sampled with the seed."))
    if a.toggle("All examples", value=ch.shots is None, key="train_all_shots",
                help="Train on every training example instead of K per class."):
        ch.shots = None
    seeds = b.text_input("Seeds", value=", ".join(map(str, ch.seeds or [data["seed"]])),
                         key="train_seeds", help="One run per method and seed, e.g. '0, 1, 2'.")
    ch.device = c.selectbox("Device", ["auto", "cpu", "cuda", "mps"],
                            index=["auto", "cpu", "cuda", "mps"].index(ch.device),
                            key="train_device", help="auto picks the GPU when there is one.")
    c.caption(f"Detected: **{state.device_label()}**")
    try:
        ch.seeds = comparison.parse_seeds(seeds)
    except ValueError as exc:
        b.error(str(exc))
        return False
    return True


def estimates(ch: comparison.Choice, n_train: int, n_classes: int) -> None:
    """Time, memory and trainable parameters per method, before anything runs."""
    specs = {s.name: s for s in registry.available()}
    needs = any(specs[m].uses_backbone for m in ch.methods)
    try:
        bb = state.backbone(ch.backbone, ch.allow_download) if needs else None
    except ValueError as exc:  # BackboneError: missing model, no safetensors...
        st.error(str(exc), icon=":material/error:")
        return
    gpu = "cuda" in state.device_label()
    rows = []
    for name in ch.methods:
        config = specs[name].config_cls.from_dict(ch.configs.get(name, {})).to_dict()
        est = estimate.estimate(specs[name], config, bb, n_train=n_train, n_classes=n_classes,
                                gpu=gpu)
        engine = estimate.engine_estimate(name, config, bb)
        memory = engine["bytes"] / 2**20 if engine.get("bytes") else est.memory_mb
        count = engine.get("trainable_params", est.trainable)
        trainable = f"{count:,}" if count else "—"
        rows.append({"method": name, "trainable parameters": trainable,
                     "time per run": estimate.human_seconds(est.seconds),
                     "memory": f"~{memory:,.0f} MB", "note": est.note})
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="train_estimates")
    st.caption(f"Rough estimates for {n_train} training texts × {len(ch.seeds)} seed(s) on "
               f"{state.device_label()}; runs wait their turn in one queue.")
