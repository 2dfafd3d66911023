"""Classroom links: a URL that fixes Train & compare's settings and hides controls.

Like the TensorFlow Playground's shareable URLs, every participant who opens the same link sees
the same exercise. This module only parses and writes the query string (no streamlit): the page
side is ``ui.classroom_view``. Every parameter is optional and anything malformed is ignored
with a note, never an exception. Parameters (documented in README.md and docs/workshop.md):

    preset=compare-2min         a Train & compare workshop preset (``metacore.presets``)
    protocol=adapt|unseen       adapt to my classes, or unseen classes (episodic)
    methods=linear-probe,protonet
    shots=8 | all               K per class (adapt; ``all``: every training text) or K per
                                episode class (unseen)
    seeds=0,1 | 0-4             adapt: one run per seed; unseen: exactly one seed
    ways=3 queries=5 episodes=30 test_episodes=100    unseen classes only
    backbone=minilm             checked against the server's allow-list, never downloaded
    device=auto|cpu|cuda|mps
    <method>.<setting>=<value>  a method setting, e.g. protonet.meta_episodes=10
    lock=1                      what the link sets is shown read-only
    hide=advanced[,settings]    advanced: no advanced toggles, backbone or device pickers;
                                settings: no per-method settings at all
    lang=zh, data=sample:<file>, text, label, split   (the language and a bundled sample)

``owner`` (each browser's own id) is never part of a link.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from metacore import presets
from metacore.config import FieldInfo
from metacore.methods import registry
from ui.i18n import LANGUAGES, t

PROTOCOLS = {"adapt": "adapt", "unseen": "episodic", "episodic": "episodic"}
DEVICES = ("auto", "cpu", "cuda", "mps")
HIDE = ("advanced", "settings")
KINDS = ("compare", "episodic")  # the presets Train & compare runs (sweeps have their page)
# Per-method settings the unseen-classes form sets for every method instead (meta_episodes
# may still be set per method: a preset trains each meta-learner for its own budget).
SHAPE_FIELDS = ("n_way", "k_shot", "n_query")
NUMBERS = {  # parameter: (smallest, largest), as the form's widgets allow
    "shots": (1, 1000), "ways": (2, 50), "queries": (1, 100), "episodes": (0, 20_000),
    "test_episodes": (10, 5_000)}
EPISODIC_ONLY = ("ways", "queries", "episodes", "test_episodes")
SEED_MAX = 10_000
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
DEFAULT_SPLIT = "0.2,0.1,0,1"
DATA_KEYS = ("data", "text", "label", "split")
OTHER_KEYS = ("owner", "lang", "test")  # read elsewhere, never noted as unknown
KEYS = ("preset", "protocol", "methods", "shots", "seeds", *EPISODIC_ONLY, "backbone", "device",
        "lock", "hide")


@dataclass
class Classroom:
    """What a link fixes. ``None`` (or empty) means the link leaves that setting alone."""

    preset: str | None = None
    protocol: str | None = None  # "adapt" | "episodic"
    methods: list[str] | None = None
    shots: int | str | None = None  # K, or "all" (adapt only)
    seeds: list[int] | None = None
    ways: int | None = None
    queries: int | None = None
    episodes: int | None = None  # meta-training episodes (unseen classes)
    test_episodes: int | None = None
    backbone: str | None = None
    device: str | None = None
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: bool = False
    hide: list[str] = field(default_factory=list)
    lang: str | None = None
    data: dict[str, str] = field(default_factory=dict)  # data/text/label/split of a sample

    def fixed(self) -> set[str]:
        """The settings this link sets (``lock=1`` makes exactly these read-only)."""
        out = {name for name in ("protocol", "methods", "shots", "seeds", *EPISODIC_ONLY,
                                 "backbone", "device") if getattr(self, name) is not None}
        if self.preset:
            out |= {"preset", "protocol", "methods", "shots", "seeds", "backbone"}
            if presets.get(self.preset).kind == "episodic":
                out |= set(EPISODIC_ONLY)
        if self.preset or self.methods is not None or self.configs:
            out.add("settings")
        return out

    def active(self) -> bool:
        """Whether the link sets anything on Train & compare (data and language aside)."""
        return bool(self.fixed() or self.lock or self.hide)

    def locks(self, name: str) -> bool:
        return self.lock and name in self.fixed()

    def hides(self, what: str) -> bool:
        return what in self.hide


def shown(value: str) -> str:
    """A value from the URL as literal text in a note (a code span: no links, no markup)."""
    return "`" + value[:60].replace("`", "'").replace("\n", " ") + "`"


def method_names() -> list[str]:
    """The methods this install offers, in the registry's order."""
    return [s.name for s in registry.available()]


def is_classroom_link(params: Mapping[str, str]) -> bool:
    """Whether the URL carries any of this module's parameters."""
    return any(k in KEYS or _setting_key(k) for k in params)


def _setting_key(key: str) -> bool:
    return "." in key and key.partition(".")[0] in method_names()


def parse(params: Mapping[str, str], *, check_backbone: Callable[[str], str] | None = None
          ) -> tuple[Classroom, list[str]]:
    """(what the link fixes, notes on what was ignored). Never raises for user input.

    ``check_backbone`` is the page's allow-list check (``ui.state.check_backbone``); it raises
    ``ValueError`` for a backbone this server does not let its users load.
    """
    cfg, notes = Classroom(), []
    get = {k: str(v).strip() for k, v in params.items()}
    _parse_preset(get, cfg, notes)
    _parse_protocol(get, cfg, notes)
    _parse_methods(get, cfg, notes)
    for name in ("shots", *EPISODIC_ONLY):
        _parse_number(name, get, cfg, notes)
    _parse_seeds(get, cfg, notes)
    _parse_backbone(get, cfg, notes, check_backbone)
    if "device" in get:
        if get["device"] in DEVICES:
            cfg.device = get["device"]
        else:
            notes.append(t("classroom.note.device", value=shown(get["device"]), choices=", ".join(
                DEVICES)))
    _parse_settings(get, cfg, notes)
    _parse_flags(get, cfg, notes)
    _parse_data(get, cfg, notes)
    unknown = [k for k in get if k not in (*KEYS, *DATA_KEYS, *OTHER_KEYS)
               and not _setting_key(k) and "." not in k]
    if unknown and is_classroom_link(get):
        notes.append(t("classroom.note.unknown", names=shown(", ".join(sorted(unknown)))))
    return cfg, notes


def _parse_preset(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    name = get.get("preset")
    if not name:
        return
    if name in presets.PRESETS and presets.get(name).kind in KINDS:
        cfg.preset = name
    elif name in presets.PRESETS:
        notes.append(t("classroom.note.sweep_preset", name=shown(name)))
    else:
        notes.append(t("classroom.note.preset", name=shown(name), choices=", ".join(
            p.name for p in presets.PRESETS.values() if p.kind in KINDS)))


def _parse_protocol(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    value = get.get("protocol")
    if value is None:
        return
    if value in PROTOCOLS:
        cfg.protocol = PROTOCOLS[value]
    else:
        notes.append(t("classroom.note.protocol", value=shown(value)))


def _parse_methods(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    if "methods" not in get:
        return
    names = [m.strip() for m in get["methods"].split(",") if m.strip()]
    known = method_names()
    bad = [m for m in names if m not in known]
    if bad:
        notes.append(t("classroom.note.methods", names=shown(", ".join(bad[:5]))))
    good = list(dict.fromkeys(m for m in names if m in known))
    if good:
        cfg.methods = good
    elif not bad:
        notes.append(t("classroom.note.no_methods"))


def _protocol(cfg: Classroom) -> str:
    if cfg.protocol:
        return cfg.protocol
    if cfg.preset:
        return "episodic" if presets.get(cfg.preset).kind == "episodic" else "adapt"
    return "adapt"


def _parse_number(name: str, get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    value = get.get(name)
    if value is None:
        return
    low, high = NUMBERS[name]
    if name == "shots" and value == "all":
        if _protocol(cfg) == "adapt":
            cfg.shots = "all"
        else:
            notes.append(t("classroom.note.all_episodic"))
        return
    if name == "shots" and _protocol(cfg) == "episodic":
        high = 100
    if not value.isdigit() or not low <= int(value) <= high:
        notes.append(t("classroom.note.number", name=name, value=shown(value), low=low, high=high))
        return
    if name in EPISODIC_ONLY and _protocol(cfg) != "episodic":
        notes.append(t("classroom.note.episodic_only", name=name))
        return
    setattr(cfg, name, int(value))


def _parse_seeds(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    if "seeds" not in get:
        return
    from ui.comparison import parse_seeds

    try:
        seeds = parse_seeds(get["seeds"])
    except ValueError:
        seeds = []
    if not seeds or max(seeds) > SEED_MAX:
        notes.append(t("classroom.note.seeds", value=shown(get["seeds"])))
        return
    if _protocol(cfg) == "episodic" and len(seeds) > 1:
        notes.append(t("classroom.note.one_seed", seed=seeds[0]))
        seeds = seeds[:1]
    cfg.seeds = seeds


def _parse_backbone(get: dict[str, str], cfg: Classroom, notes: list[str],
                    check: Callable[[str], str] | None) -> None:
    spec = get.get("backbone")
    if not spec:
        return
    if check is None:
        from ui.state import check_backbone as check
    try:
        cfg.backbone = check(spec)  # the page's own allow-list; a link never downloads
    except ValueError:
        notes.append(t("classroom.note.backbone", value=shown(spec)))


def field_of(method: str, name: str) -> FieldInfo | None:
    return next((f for f in registry.get(method).config_cls.fields() if f.name == name), None)


def convert(info: FieldInfo, text: str) -> Any:
    """A setting's value from its URL text. Raises ``ValueError`` when it does not fit."""
    if info.type == "bool":
        words = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
        if text.lower() not in words:
            raise ValueError(text)
        value: Any = words[text.lower()]
    elif info.type == "int":
        value = int(text)
    elif info.type == "float":
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
    else:
        value = text
    if info.choices and value not in info.choices:
        raise ValueError(text)
    if info.type in ("int", "float") and (
            (info.minimum is not None and value < info.minimum)
            or (info.maximum is not None and value > info.maximum)):
        raise ValueError(text)
    return value


def _parse_settings(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    for key in sorted(k for k in get if "." in k):
        method, _, name = key.partition(".")
        if method not in method_names():
            notes.append(t("classroom.note.setting_method", param=shown(key)))
            continue
        info = field_of(method, name)
        if info is None or (_protocol(cfg) == "episodic" and name in SHAPE_FIELDS):
            notes.append(t("classroom.note.setting_name", param=shown(key)))
            continue
        try:
            value = convert(info, get[key])
            registry.get(method).config_cls.from_dict(
                {**cfg.configs.get(method, {}), name: value})  # the config checks itself
        except (ValueError, TypeError):
            notes.append(t("classroom.note.setting_value", param=shown(key),
                           value=shown(get[key])))
            continue
        cfg.configs.setdefault(method, {})[name] = value


def _parse_flags(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    if "lock" in get:
        if get["lock"] in ("1", "0", "true", "false"):
            cfg.lock = get["lock"] in ("1", "true")
        else:
            notes.append(t("classroom.note.lock", value=shown(get["lock"])))
    if "hide" in get:
        parts = [p.strip() for p in get["hide"].split(",") if p.strip()]
        bad = [p for p in parts if p not in HIDE]
        if bad:
            notes.append(t("classroom.note.hide", value=shown(", ".join(bad)),
                           choices=", ".join(HIDE)))
        cfg.hide = [h for h in HIDE if h in parts]
    if get.get("lang") in LANGUAGES:
        cfg.lang = get["lang"]


def _parse_data(get: dict[str, str], cfg: Classroom, notes: list[str]) -> None:
    """A bundled sample (an upload stays with the browser that uploaded it)."""
    kind, _, name = get.get("data", "").partition(":")
    if not kind:
        return
    if kind != "sample" or "/" in name or "\\" in name or not (SAMPLES / name).is_file():
        return  # ui.state handles uploads; nothing here to fix or share
    cfg.data["data"] = f"sample:{name}"
    for key in ("text", "label"):
        if get.get(key) and len(get[key]) <= 100:
            cfg.data[key] = get[key]
    if get.get("split") and _split_ok(get["split"]):
        cfg.data["split"] = get["split"]


def _split_ok(text: str) -> bool:
    try:
        test, val, seed, column = text.split(",")
        return (0.05 <= float(test) <= 0.5 and 0.0 <= float(val) <= 0.3 and seed.isdigit()
                and column in ("0", "1"))
    except ValueError:
        return False


def link(cfg: Classroom) -> str:
    """The query string (without ``?``) that ``parse`` reads back as ``cfg``."""
    out: dict[str, str] = {}
    if cfg.preset:
        out["preset"] = cfg.preset
    if cfg.protocol:
        out["protocol"] = "unseen" if cfg.protocol == "episodic" else "adapt"
    if cfg.methods is not None:
        out["methods"] = ",".join(cfg.methods)
    if cfg.shots is not None:
        out["shots"] = str(cfg.shots)
    if cfg.seeds is not None:
        out["seeds"] = ",".join(map(str, cfg.seeds))
    for name in (*EPISODIC_ONLY, "backbone", "device"):
        if getattr(cfg, name) is not None:
            out[name] = str(getattr(cfg, name))
    for method in sorted(cfg.configs):
        for name, value in sorted(cfg.configs[method].items()):
            out[f"{method}.{name}"] = _text(value)
    out |= {k: cfg.data[k] for k in DATA_KEYS if cfg.data.get(k)}
    if cfg.lang:
        out["lang"] = cfg.lang
    if cfg.lock:
        out["lock"] = "1"
    if cfg.hide:
        out["hide"] = ",".join(cfg.hide)
    return urlencode(out, safe=",:")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def from_preset(name: str) -> Classroom:
    """The explicit settings a preset stands for."""
    settings = presets.apply_preset(name)
    episodic = settings["kind"] == "episodic"
    configs = {m: dict(c) for m, c in settings["configs"].items() if m in settings["methods"]}
    cfg = Classroom(protocol="episodic" if episodic else "adapt",
                    methods=list(settings["methods"]), seeds=list(settings["seeds"][:1] if
                                                                  episodic else settings["seeds"]),
                    backbone=settings["backbone"], configs=configs,
                    shots="all" if settings["shots"] is None else settings["shots"])
    if episodic:
        cfg.shots = settings["k_shot"]
        cfg.ways, cfg.queries = settings["n_way"], settings["n_query"]
        cfg.test_episodes = settings["test_episodes"]
        meta = settings["meta_episodes"]
        cfg.episodes = max(meta.values()) if meta else 0
    return cfg


SETTINGS = ("protocol", "methods", "shots", "seeds", *EPISODIC_ONLY, "backbone", "configs")


def resolve(cfg: Classroom) -> Classroom:
    """The explicit settings of ``cfg``: its preset's, overridden by what the link says."""
    if not cfg.preset:
        return cfg
    out = from_preset(cfg.preset)
    for name in (*SETTINGS, "device"):
        if name == "configs":
            for method, values in cfg.configs.items():
                out.configs.setdefault(method, {}).update(values)
        elif getattr(cfg, name) is not None:
            setattr(out, name, getattr(cfg, name))
    return dataclasses.replace(out, preset=cfg.preset, lock=cfg.lock, hide=list(cfg.hide),
                               lang=cfg.lang, data=dict(cfg.data))


def compact(current: Classroom, preset: str | None) -> Classroom:
    """``current`` as ``preset=NAME`` (plus the device) when it still equals that preset."""
    if not preset or preset not in presets.PRESETS:
        return current
    if not same_settings(current, from_preset(preset)):
        return current
    return Classroom(preset=preset, device=current.device, lock=current.lock,
                     hide=list(current.hide), lang=current.lang, data=dict(current.data))


def same_settings(a: Classroom, b: Classroom) -> bool:
    """Whether two explicit configurations run the same thing (the device aside)."""
    def configs(c: Classroom) -> dict:
        return {m: v for m, v in c.configs.items() if v and m in (c.methods or [])}
    return all(getattr(a, n) == getattr(b, n) for n in SETTINGS if n != "configs") \
        and configs(a) == configs(b)
