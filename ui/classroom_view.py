"""Train & compare's workshop presets and classroom links (the page side of ``ui.classroom``).

A link's settings are applied once per session (and again when the link changes) to the form's
plans; what the link does to the page (lock, hide) lives in ``st.session_state`` so the page
keeps it after a visit to another page, and is written back to the URL there, so a reload keeps
the exercise too. ``owner`` never goes into a shared link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import streamlit as st

from metacore import presets
from metacore.plan.query import PRESET_KINDS, is_plan_key, same_plan
from ui import classroom, form, state
from ui.classroom import Link
from ui.i18n import DEFAULT, language, lkey, say, t

CONFIG = "classroom_config"  # the link's Link (what it fixes, lock, hide)
NOTES = "classroom_notes"  # what the link said that was ignored, and why
APPLIED = "classroom_applied"  # the URL parameters last applied (applied again if they change)
PICKER = "train_preset"
SAMPLE_DATA = "support_intents_en.csv"  # the presets were timed on this sample


def mode() -> Link:
    """What this session's classroom link fixes and hides (nothing without a link)."""
    return st.session_state.get(CONFIG) or Link()


def _link_params(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k in classroom.PAGE_KEYS or is_plan_key(k)
            or "." in k}


def _signature(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(_link_params(params).items()))


def load() -> Link:
    """Read the URL: apply a new classroom link, or put this session's link back after a
    page switch cleared it. Returns what the link fixes."""
    params = st.query_params.to_dict()
    if _link_params(params):
        if _signature(params) != st.session_state.get(APPLIED):
            apply_link(params)
    elif mode().active():
        _write_url()
    return mode()


def apply_link(params: dict[str, str]) -> None:
    """Fill the form's plan from a link (its protocol's plan; a preset decides which)."""
    f = form.current()
    protocol = _link_protocol(params, f.protocol)
    link, plan, notes = classroom.parse(params, f.plans[protocol])
    st.session_state[NOTES] = notes
    st.session_state[APPLIED] = _signature(params)
    st.session_state[CONFIG] = link
    if link.fixed:
        f.show(plan, preset=link.preset or "")
        st.session_state[lkey(PICKER)] = link.preset or ""
        form.forget_widgets()


def _link_protocol(params: dict[str, str], current: str) -> str:
    from metacore.plan import ALIASES

    name = params.get("preset")
    if name in presets.PRESETS and presets.get(name).kind in PRESET_KINDS:
        return presets.get(name).plan.protocol
    value = ALIASES.get(params.get("protocol", ""), params.get("protocol", ""))
    return value if value in ("adapt", "episodic") else current


def _write_url() -> None:
    """Put the link's own parameters in the URL (data, language and owner are kept apart)."""
    link, f = mode(), form.current()
    wanted = dict(parse_qsl(classroom.link_query(f.plan, preset=link.preset, lock=link.lock,
                                                 hide=link.hide)))
    for key in [k for k in st.query_params if k in _link_params({k: ""})]:
        if key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    st.session_state[APPLIED] = _signature(st.query_params.to_dict())


def notes() -> None:
    """What the link asked for that was ignored, and the classroom banner."""
    ignored = st.session_state.get(NOTES) or []
    if ignored:
        st.warning(t("classroom.ignored") + "\n\n" + "\n".join(f"- {say(n)}" for n in ignored),
                   icon=":material/link_off:")
    link = mode()
    if link.lock or link.hide:
        st.info(t("classroom.banner"), icon=":material/school:")


def preset_picker(data: dict[str, Any], n_texts: int) -> str | None:
    """Compare and unseen-classes presets, each with its expected time, above the form."""
    from ui import teach_state

    f = form.current()
    options = [""] + [p.name for p in presets.PRESETS.values() if p.kind in PRESET_KINDS]
    key = lkey(PICKER)
    if st.session_state.get(key) not in options:
        st.session_state[key] = f.preset if f.preset in options else ""
    link = mode()
    picked = st.selectbox(t("train.preset.label"), options, key=key, on_change=_on_pick,
                          format_func=_preset_option, help=t("train.preset.help"),
                          disabled=link.locks("preset"))
    if not picked:
        return None
    st.caption(f"{t(f'preset.{picked}.about')} {teach_state.preset_caption(picked)}")
    if not same_plan(f.plan, presets.get(picked).plan):
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
    name = st.session_state.get(lkey(PICKER))
    f = form.current()
    f.preset = name or ""
    if not name:
        return
    preset = presets.get(name)
    f.show(preset.plan.with_data(f.plans[preset.plan.protocol].data), preset=name)
    form.forget_widgets()
    link = mode()
    if link.active():  # the link now stands for this preset
        st.session_state[CONFIG] = Link(preset=name, fixed=link.fixed, lock=link.lock,
                                        hide=list(link.hide), lang=link.lang,
                                        data=dict(link.data))
        _write_url()


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
    return {} if out == {"data": f"sample:{state.default_sample()}"} else out


def share_box(data: dict[str, Any], split_column: bool = True) -> None:
    """The current configuration as a link (no ``owner``), with lock and hide to choose."""
    link, f = mode(), form.current()
    with st.expander(t("classroom.share.title"), icon=":material/link:"):
        st.caption(t("classroom.share.intro"))
        a, b = st.columns(2)
        lock = a.checkbox(t("classroom.share.lock"), value=link.lock, key="share_lock",
                          help=t("classroom.share.lock_help"))
        hide = b.checkbox(t("classroom.share.hide"), value=link.hides("advanced"),
                          key="share_hide", help=t("classroom.share.hide_help"))
        query = classroom.link_query(f.plan, preset=f.preset or None, lock=lock,
                                     hide=["advanced"] if hide else [],
                                     lang=None if language() == DEFAULT else language(),
                                     data=data_params(data, split_column))
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
