"""What the teaching pages share: the data they read, the backbone, the header, presets.

The data is whatever the Data page chose (``state.dataset()``), falling back to the bundled
English sample when that cannot be read. Embeddings come from the process-wide cache of the
frozen backbone (``RunContext.embed``), and the backbone is loaded once per process
(``state.backbone``), so redrawing a figure costs nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from metacore import presets
from metacore.data import Split, TextSet, load_dataset
from metacore.plan import DataSource
from metacore.presets import MEASURED_ON
from metacore.teaching import textset_of
from metacore.text import markdown_literal
from metacore.training.context import RunContext
from ui import state
from ui.i18n import LANGUAGES, language, lkey, set_language, t

BACKBONE_KEY = "teach_backbone"  # tests set "tiny"; the pages use the bundled MiniLM
PRESET_KEY = "teach_preset"


@dataclass(frozen=True)
class TeachData:
    """The texts the teaching pages use, and where they came from."""

    textset: TextSet
    name: str
    key: str  # identifies the data in caches: path and columns
    fallback: bool  # True when the chosen data could not be read and the sample is used


def backbone_spec() -> str:
    return st.session_state.get(BACKBONE_KEY) or os.environ.get("METACORE_TEACH_BACKBONE",
                                                                  "minilm")


def context(seed: int = 0) -> RunContext:
    """A run context with the shared backbone and the process-wide embedding cache."""
    from metacore.training.device import resolve_device

    return RunContext(device=resolve_device("auto"), seed=seed,
                      backbone=state.backbone(backbone_spec()))


def embed(texts: list[str] | tuple[str, ...]) -> np.ndarray:
    """Frozen-backbone embeddings (N, H), cached per process."""
    return context().embed(list(texts))


@st.cache_data(show_spinner=False, max_entries=8)
def _read(path: str, text_col: str | None, label_col: str | None) -> TextSet | None:
    try:
        loaded = load_dataset(path, text_col=text_col, label_col=label_col)
    except Exception:  # noqa: BLE001 - any unreadable file falls back to the sample
        return None
    if not loaded.ok or loaded.frame.empty or loaded.frame["label"].nunique() < 2:
        return None
    return textset_of(loaded.frame)


def data() -> TeachData:
    """The Data page's choice, or the English sample when it cannot be used."""
    chosen = state.dataset()
    textset = _read(chosen["path"], chosen["text_col"], chosen["label_col"])
    if textset is not None:
        key = f"{chosen['path']}|{chosen['text_col']}|{chosen['label_col']}"
        return TeachData(textset, chosen["name"], key, False)
    sample = str(state.SAMPLES / state.DEFAULT_SAMPLE)
    return TeachData(_read(sample, None, None), state.DEFAULT_SAMPLE, f"{sample}|None|None",
                     True)


def header(page: str) -> None:
    """Title, caption and the language switch of a teaching page."""
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    left.title(t(f"{page}.title"))
    current = language()
    picked = right.segmented_control(t("common.language"), list(LANGUAGES), default=current,
                                     format_func=LANGUAGES.get, key=f"lang_{page}",
                                     label_visibility="collapsed")
    if picked and picked != current:
        set_language(picked)
        st.rerun()
    st.caption(t(f"{page}.caption"))


def data_line(td: TeachData) -> None:
    """Which texts the figures use, with a link to change them."""
    n_classes = len(td.textset.classes)
    line = t("common.data_line", name=markdown_literal(td.name), texts=f"{len(td.textset):,}",
             classes=n_classes)
    if td.fallback:
        st.warning(t("common.data_fallback", name=markdown_literal(td.name)),
                   icon=":material/warning:")
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.markdown(line)
    right.page_link("app_pages/data.py", label=t("common.change_data"),
                    icon=":material/table_view:")


def human_seconds(seconds: float, lang: str | None = None) -> str:
    if seconds != seconds:  # NaN: unknown
        return "—"
    if seconds < 1:
        return t("common.ms", lang=lang, value=max(1, round(seconds * 1000)))
    if seconds < 90:
        return t("common.seconds", lang=lang, value=round(seconds))
    return t("common.minutes", lang=lang, value=f"{seconds / 60:.1f}")


def preset_caption(name: str) -> str:
    """The preset's expected time and how that figure was obtained."""
    preset = presets.get(name)
    when = human_seconds(preset.seconds)
    if preset.measured:
        return t("presets.measured", time=when, machine=MEASURED_ON)
    return t("presets.estimated", time=when)


def preset_picker(kind: str | None, key: str, on_pick: Any = None) -> str | None:
    """A select box of presets (of ``kind``) showing each one's expected time."""
    options = ["", *(p.name for p in presets.for_kind(kind))]
    if len(options) == 1:
        return None
    chosen = picked_preset(key, kind) or ""

    def picked_now() -> None:  # before the page reruns: the preset's settings fill the form
        st.session_state[f"{key}{CHOSEN}"] = st.session_state.get(lkey(key)) or ""
        if on_pick is not None:
            on_pick()

    picked = st.selectbox(t("presets.label"), options, index=options.index(chosen),
                          key=lkey(key), on_change=picked_now, format_func=_preset_label,
                          help=t("presets.help"))
    st.session_state[f"{key}{CHOSEN}"] = picked or ""
    if picked:
        st.caption(f"{t(f'preset.{picked}.about')} {preset_caption(picked)}")
    return picked or None


def _preset_label(name: str, lang: str | None = None) -> str:
    if not name:
        return t("presets.none", lang=lang)
    return (f"{t(f'preset.{name}.title', lang=lang)} · "
            f"{human_seconds(presets.get(name).seconds, lang)}")


CHOSEN = "__chosen"  # the chosen preset's name, kept apart from the widget (ui.i18n.lkey)


def picked_preset(key: str, kind: str | None) -> str | None:
    """The preset chosen in the select box ``key`` (None: none), by name. The page keeps the
    name itself: the box's key changes with the language (``lkey``), because the browser keeps
    a choice by its label, and the new box starts from this name."""
    value = st.session_state.get(f"{key}{CHOSEN}")
    return value if value in {p.name for p in presets.for_kind(kind)} else None


def choose_preset(key: str, name: str) -> None:
    """Choose preset ``name`` in the box ``key`` from code (a link from the Learn page)."""
    st.session_state[f"{key}{CHOSEN}"] = name
    for widget in (key, *(f"{key}__{lang}" for lang in LANGUAGES)):  # redraw from the name
        st.session_state.pop(widget, None)


def data_source(td: TeachData) -> DataSource:
    """The Data page's file and split settings (the sample's defaults when it is the fallback),
    as a plan names them: the split is fixed by the page's seed for every run."""
    if td.fallback:
        return DataSource(path=td.key.split("|")[0], split_seed=0)
    chosen = state.dataset()
    return DataSource(path=chosen["path"], test_path=chosen["test_path"],
                      text_col=chosen["text_col"], label_col=chosen["label_col"],
                      test_size=chosen["test_size"], val_size=chosen["val_size"],
                      use_split_column=chosen["use_split_column"], split_seed=chosen["seed"])


def split(td: TeachData) -> Split:
    """Train, validation and test as the Data page's split settings cut them (the sweep's
    texts, and the add-a-class view's)."""
    d = data_source(td)
    return _split(d.path, d.text_col, d.label_col, d.test_path, d.test_size, d.val_size,
                  d.split_seed or 0, d.use_split_column)


@st.cache_data(show_spinner=False, max_entries=8)
def _split(path: str, text_col: str | None, label_col: str | None, test_path: str | None,
           test_size: float, val_size: float, seed: int, use_split_column: bool) -> Split:
    from metacore.data import make_split

    loaded = load_dataset(path, text_col=text_col, label_col=label_col)
    test = load_dataset(test_path, text_col=text_col, label_col=label_col) if test_path \
        else None
    return make_split(loaded, test_data=test, test_size=test_size, val_size=val_size,
                      seed=seed, use_split_column=use_split_column)


def speed(texts: list[str] | tuple[str, ...]) -> Any:
    """The backbone's measured seconds per text on the runs' device (``metacore.estimate``;
    measured once per process), or None when it cannot be measured: estimates then say
    "unknown" rather than block anything."""
    from metacore.estimate import calibrate
    from metacore.teaching.common import model_threads
    from metacore.training.device import resolve_device

    try:
        # with the threads the teaching computations train with: one on a busy CPU, where
        # two threads measured a small batch 3-10x slower than the sweep then ran
        with model_threads():
            return calibrate(state.backbone(backbone_spec()), list(texts)[:32],
                             resolve_device("auto"))
    except Exception:  # noqa: BLE001 - an estimate must never break the page
        return None
