"""Classroom links: a URL that fixes Train & compare's settings and hides controls.

The plan's own parameters (``preset``, ``protocol``, ``methods``, ``shots``, ``seeds``, the
episode shape, ``backbone``, ``device``, ``<method>.<setting>``) are read and written by the
engine (``metacore.plan.query``): a link is a patch on the plan the form already has. This
module adds the page's own parameters and nothing else (no streamlit here; the page side is
``ui.classroom_view``). Every parameter is optional and anything malformed is ignored with a
note, never an exception:

    lock=1                      what the link sets is shown read-only
    hide=advanced[,settings]    advanced: no advanced toggles, backbone or device pickers;
                                settings: no per-method settings at all
    lang=zh, data=sample:<file>, text, label, split   (the language and a bundled sample)

``owner`` (each browser's own id) is never part of a link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from metacore.messages import Message, msg
from metacore.plan import ExperimentPlan
from metacore.plan.query import from_query, is_plan_key, shown, to_query
from ui.i18n import LANGUAGES

HIDE = ("advanced", "settings")
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
DEFAULT_SPLIT = "0.2,0.1,0,1"
DATA_KEYS = ("data", "text", "label", "split")
OTHER_KEYS = ("owner", "lang", "test")  # read elsewhere, never noted as unknown
PAGE_KEYS = ("lock", "hide")


@dataclass
class Link:
    """What a link does to the page: the plan parts it sets (``fixed``), lock and hide."""

    preset: str | None = None
    fixed: frozenset[str] = frozenset()
    lock: bool = False
    hide: list[str] = field(default_factory=list)
    lang: str | None = None
    data: dict[str, str] = field(default_factory=dict)  # data/text/label/split of a sample

    def active(self) -> bool:
        """Whether the link sets anything on Train & compare (data and language aside)."""
        return bool(self.fixed or self.lock or self.hide)

    def locks(self, name: str) -> bool:
        """``lock=1`` makes exactly what the link sets read-only (and the preset picker)."""
        return self.lock and (name in self.fixed or (name == "preset" and bool(self.fixed)))

    def hides(self, what: str) -> bool:
        return what in self.hide


def is_classroom_link(params: Mapping[str, str]) -> bool:
    """Whether the URL carries any parameter of a classroom link."""
    return any(k in PAGE_KEYS or is_plan_key(k) for k in params)


def parse(params: Mapping[str, str], base: ExperimentPlan, *,
          check_backbone: Callable[[str], str] | None = None
          ) -> tuple[Link, ExperimentPlan, list[Message]]:
    """(what the link does to the page, ``base`` with its plan parameters, notes on what was
    ignored). Never raises for user input. ``check_backbone`` is the page's allow-list check
    (``ui.state.check_backbone``)."""
    if check_backbone is None:
        from ui.state import check_backbone
    get = {k: str(v).strip() for k, v in params.items()}
    found = from_query(get, base, check_backbone=check_backbone)
    link = Link(preset=found.preset, fixed=found.fixed)
    notes = list(found.notes)
    _parse_flags(get, link, notes)
    _parse_data(get, link)
    unknown = [k for k in get if k not in (*PAGE_KEYS, *DATA_KEYS, *OTHER_KEYS)
               and not is_plan_key(k) and "." not in k]
    if unknown and is_classroom_link(get):
        notes.append(msg("link.unknown", names=shown(", ".join(sorted(unknown)))))
    return link, found.plan, notes


def _parse_flags(get: dict[str, str], link: Link, notes: list[Message]) -> None:
    if "lock" in get:
        if get["lock"] in ("1", "0", "true", "false"):
            link.lock = get["lock"] in ("1", "true")
        else:
            notes.append(msg("link.lock", value=shown(get["lock"])))
    if "hide" in get:
        parts = [p.strip() for p in get["hide"].split(",") if p.strip()]
        bad = [p for p in parts if p not in HIDE]
        if bad:
            notes.append(msg("link.hide", value=shown(", ".join(bad)), choices=list(HIDE)))
        link.hide = [h for h in HIDE if h in parts]
    if get.get("lang") in LANGUAGES:
        link.lang = get["lang"]


def _parse_data(get: dict[str, str], link: Link) -> None:
    """A bundled sample (an upload stays with the browser that uploaded it)."""
    kind, _, name = get.get("data", "").partition(":")
    if not kind:
        return
    if kind != "sample" or "/" in name or "\\" in name or not (SAMPLES / name).is_file():
        return  # ui.state handles uploads; nothing here to fix or share
    link.data["data"] = f"sample:{name}"
    for key in ("text", "label"):
        if get.get(key) and len(get[key]) <= 100:
            link.data[key] = get[key]
    if get.get("split") and _split_ok(get["split"]):
        link.data["split"] = get["split"]


def _split_ok(text: str) -> bool:
    try:
        test, val, seed, column = text.split(",")
        return (0.05 <= float(test) <= 0.5 and 0.0 <= float(val) <= 0.3 and seed.isdigit()
                and column in ("0", "1"))
    except ValueError:
        return False


def link_query(plan: ExperimentPlan, *, preset: str | None = None, lock: bool = False,
               hide: list[str] | None = None, lang: str | None = None,
               data: dict[str, str] | None = None) -> str:
    """The query string (without ``?``) that ``parse`` reads back as this plan and page."""
    out: dict[str, Any] = dict(to_query(plan, preset=preset))
    out |= {k: (data or {})[k] for k in DATA_KEYS if (data or {}).get(k)}
    if lang:
        out["lang"] = lang
    if lock:
        out["lock"] = "1"
    if hide:
        out["hide"] = ",".join(hide)
    return urlencode(out, safe=",:")
