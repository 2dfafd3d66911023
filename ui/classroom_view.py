"""Train & compare's workshop presets and classroom links (the page side of ``ui.classroom``).

A link's settings are applied once per session (and again when the link changes); they live in
``st.session_state`` so the page keeps them after a visit to another page, and are written back
to the URL there, so a reload keeps the exercise too. ``owner`` never goes into a shared link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import streamlit as st

from metacore import presets
from ui import classroom, state
from ui.classroom import Classroom
from ui.i18n import DEFAULT, language, t

CONFIG = "classroom_config"  # the link's Classroom (what it fixes, lock, hide)
NOTES = "classroom_notes"  # what the link said that was ignored, and why
APPLIED = "classroom_applied"  # the URL parameters last applied (applied again if they change)
PICKER = "train_preset"
SAMPLE_DATA = "support_intents_en.csv"  # the presets were timed on this sample
# Widgets whose state is forgotten when a preset or a link fills the choices, so they redraw
# from them (method settings, keyed cfg_*, are forgotten too).
WIDGETS = ("train_protocol", "train_backbone", "train_backbone_id", "train_download",
           "train_methods", "train_shots", "train_all_shots", "train_seeds", "train_device",
           "ep_methods", "ep_ways", "ep_shots", "ep_queries", "ep_meta_episodes",
           "ep_test_episodes", "ep_seed", "ep_device")


def mode() -> Classroom:
    """What this session's classroom link fixes and hides (nothing without a link)."""
    return st.session_state.get(CONFIG) or Classroom()


def _signature(params: dict[str, str]) -> str:
    keys = sorted(k for k in params if k in classroom.KEYS or "." in k)
    return "&".join(f"{k}={params[k]}" for k in keys)


def load() -> Classroom:
    """Read the URL: apply a new classroom link, or put this session's link back after a
    page switch cleared it. Returns what the link fixes."""
    params = st.query_params.to_dict()
    if classroom.is_classroom_link(params) or any("." in k for k in params):
        if _signature(params) != st.session_state.get(APPLIED):
            cfg, notes = classroom.parse(params)
            st.session_state[NOTES] = notes
            st.session_state[APPLIED] = _signature(params)
            if cfg.active():
                apply(cfg)
            st.session_state[CONFIG] = cfg
    elif mode().active():
        _write_url(mode())
    return mode()


def _write_url(cfg: Classroom) -> None:
    """Put the link's own parameters in the URL (data, language and owner are kept apart)."""
    wanted = dict(parse_qsl(classroom.link(Classroom(
        **{**cfg.__dict__, "data": {}, "lang": None}))))
    for key in [k for k in st.query_params if k in classroom.KEYS or "." in k]:
        if key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    st.session_state[APPLIED] = _signature(st.query_params.to_dict())


def apply(cfg: Classroom) -> None:
    """Fill this session's choices from a link or a preset; widgets redraw from them."""
    from ui import episodic_view, train_view
    from ui.episodic_plan import EpisodicChoice

    full = classroom.resolve(cfg)
    ch = train_view.choice()
    ep = st.session_state.setdefault(episodic_view.CHOICE, EpisodicChoice())
    if full.protocol:
        st.session_state[train_view.PROTOCOL] = full.protocol
    episodic = st.session_state.get(train_view.PROTOCOL) == "episodic"
    target: Any = ep if episodic else ch
    if full.methods is not None:
        target.methods = list(full.methods)
    if cfg.preset or cfg.methods is not None:  # a whole exercise: its settings, else defaults
        target.configs = {m: dict(v) for m, v in full.configs.items()}
    else:
        for method, values in full.configs.items():
            target.configs.setdefault(method, {}).update(values)
    _apply_numbers(full, ch, ep, episodic)
    if full.backbone is not None:
        ch.backbone, ch.allow_download = full.backbone, False
    if full.device is not None:
        ch.device = full.device
    st.session_state[PICKER] = cfg.preset or ""
    for key in [k for k in st.session_state if k in WIDGETS or str(k).startswith("cfg_")]:
        del st.session_state[key]


def _apply_numbers(full: Classroom, ch: Any, ep: Any, episodic: bool) -> None:
    if episodic:
        for name, attr in (("shots", "k_shot"), ("ways", "n_way"), ("queries", "n_query"),
                           ("episodes", "meta_episodes"), ("test_episodes", "test_episodes")):
            if getattr(full, name) is not None:
                setattr(ep, attr, int(getattr(full, name)))
        if full.seeds:
            ep.seed = full.seeds[0]
        return
    if full.shots is not None:
        ch.shots = None if full.shots == "all" else int(full.shots)
    if full.seeds:
        ch.seeds = list(full.seeds)


def notes() -> None:
    """What the link asked for that was ignored, and the classroom banner."""
    ignored = st.session_state.get(NOTES) or []
    if ignored:
        st.warning(t("classroom.ignored") + "\n\n" + "\n".join(f"- {n}" for n in ignored),
                   icon=":material/link_off:")
    cfg = mode()
    if cfg.lock or cfg.hide:
        st.info(t("classroom.banner"), icon=":material/school:")


def preset_picker(data: dict[str, Any], n_texts: int) -> str | None:
    """Compare and unseen-classes presets, each with its expected time, above the form."""
    from ui import teach_state

    options = [""] + [p.name for p in presets.PRESETS.values() if p.kind in classroom.KINDS]
    if st.session_state.get(PICKER) not in options:
        st.session_state[PICKER] = ""
    cfg = mode()
    picked = st.selectbox(t("train.preset.label"), options, key=PICKER, on_change=_on_pick,
                          format_func=_preset_option, help=t("train.preset.help"),
                          disabled=cfg.lock and bool(cfg.fixed()))
    if not picked:
        return None
    st.caption(f"{t(f'preset.{picked}.about')} {teach_state.preset_caption(picked)}")
    if not classroom.same_settings(current(), classroom.from_preset(picked)):
        st.caption(t("train.preset.changed"))
    elif data["name"] != SAMPLE_DATA:
        st.caption(t("train.preset.other_data", name=SAMPLE_DATA, texts=n_texts))
    return picked


def _preset_option(name: str) -> str:
    from ui import teach_state

    if not name:
        return t("train.preset.none")
    preset = presets.get(name)
    kind = t("train.preset.kind_episodic") if preset.kind == "episodic" else \
        t("train.preset.kind_compare")
    when = teach_state.human_seconds(preset.seconds)
    if not preset.measured:
        when = t("train.preset.estimated", time=when)
    return f"{t(f'preset.{name}.title')} · {kind} · {when}"


def _on_pick() -> None:
    name = st.session_state.get(PICKER)
    if not name:
        return
    apply(Classroom(preset=name))
    cfg = mode()
    if cfg.active():  # the link now stands for this preset
        st.session_state[CONFIG] = Classroom(preset=name, lock=cfg.lock, hide=list(cfg.hide),
                                             lang=cfg.lang, data=dict(cfg.data))
        _write_url(st.session_state[CONFIG])


def current() -> Classroom:
    """The form's settings as explicit link parameters (before lock/hide/data/language)."""
    from ui import episodic_view, train_view

    ch = train_view.choice()
    device = None if ch.device == "auto" else ch.device
    if st.session_state.get(train_view.PROTOCOL) == "episodic" and \
            episodic_view.CHOICE in st.session_state:
        ep = st.session_state[episodic_view.CHOICE]
        configs = {m: {k: v for k, v in ep.configs.get(m, {}).items()
                       if k not in classroom.SHAPE_FIELDS} for m in ep.methods}
        return Classroom(protocol="episodic", methods=list(ep.methods), shots=ep.k_shot,
                         seeds=[ep.seed], ways=ep.n_way, queries=ep.n_query,
                         episodes=ep.meta_episodes, test_episodes=ep.test_episodes,
                         backbone=ch.backbone, device=device,
                         configs={m: c for m, c in configs.items() if c})
    return Classroom(protocol="adapt", methods=list(ch.methods),
                     shots="all" if ch.shots is None else ch.shots, seeds=list(ch.seeds),
                     backbone=ch.backbone, device=device,
                     configs={m: dict(ch.configs[m]) for m in ch.methods if ch.configs.get(m)})


def data_params(data: dict[str, Any], split_column: bool = True) -> dict[str, str]:
    """The Data page's choice as link parameters: a bundled sample only, and only when it is
    not the default one with the default split (``split_column``: the file has one, so
    whether to use it matters)."""
    if data["kind"] != "sample":
        return {}
    out = {"data": f"sample:{data['name']}"}
    out |= {k: data[c] for k, c in (("text", "text_col"), ("label", "label_col")) if data[c]}
    use = int(bool(data["use_split_column"]) or not split_column)
    split = f"{data['test_size']:g},{data['val_size']:g},{data['seed']},{use}"
    if split != classroom.DEFAULT_SPLIT:
        out["split"] = split
    return {} if out == {"data": f"sample:{state.DEFAULT_SAMPLE}"} else out


def share_box(data: dict[str, Any], split_column: bool = True) -> None:
    """The current configuration as a link (no ``owner``), with lock and hide to choose."""
    cfg = mode()
    with st.expander(t("classroom.share.title"), icon=":material/link:"):
        st.caption(t("classroom.share.intro"))
        a, b = st.columns(2)
        lock = a.checkbox(t("classroom.share.lock"), value=cfg.lock, key="share_lock",
                          help=t("classroom.share.lock_help"))
        hide = b.checkbox(t("classroom.share.hide"), value=cfg.hides("advanced"),
                          key="share_hide", help=t("classroom.share.hide_help"))
        here = classroom.compact(current(), st.session_state.get(PICKER) or None)
        here.lock, here.hide = lock, ["advanced"] if hide else []
        here.data = data_params(data, split_column)
        here.lang = None if language() == DEFAULT else language()
        query = classroom.link(here)
        st.code(f"?{query}", language=None, wrap_lines=True)
        base = _base_url()
        if base:
            st.caption(t("classroom.share.full"))
            st.code(f"{base}?{query}", language=None, wrap_lines=True)
        if data["kind"] != "sample":
            st.caption(t("classroom.share.upload"))


def _base_url() -> str:
    """Train & compare's address in the browser, without a query (empty when unknown)."""
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - an old Streamlit or a test run: no address
        return ""
    if not url.startswith(("http://", "https://")):
        return ""
    head, _, last = url.rstrip("/").rpartition("/")
    pages = {p.stem for p in (state.REPO / "app_pages").glob("*.py")}
    root = head if last in pages and "//" in head else url.rstrip("/")  # the session's page
    return f"{root}/train"
