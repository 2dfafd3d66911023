"""A plan as a classroom link's query string, and back.

Like the TensorFlow Playground's shareable URLs, everyone who opens the same link sees the same
exercise. A link is a *patch*: every parameter is optional and sets one part of the plan the page
already has (``from_query(params, base)``); what it sets is reported in ``LinkPlan.fixed`` so a
page can lock exactly those controls. Anything malformed is ignored with a note (a ``Message``),
never an exception. Parameters (documented in README.md and docs/workshop.md):

    preset=compare-2min         a Train & compare workshop preset (``metacore.presets``)
    protocol=adapt|unseen       adapt to my classes, or unseen classes (episodic)
    methods=linear-probe,protonet
    shots=8 | all               K per class (adapt; ``all``: every training text) or K per
                                episode class (unseen)
    seeds=0,1 | 0-4             adapt: one run per seed; unseen: exactly one seed
    ways=3 queries=5 episodes=30 test_episodes=100    unseen classes only
    backbone=minilm             checked by the page (``check_backbone``), never downloaded
    device=auto|cpu|cuda|mps
    <method>.<setting>=<value>  a method setting, e.g. protonet.meta_episodes=10

The page's own parameters (``lock``, ``hide``, ``lang``, the data) are the page's business
(``ui/classroom.py``); ``owner`` is never part of a link.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from metacore.messages import Message, msg
from metacore.plan.model import (
    ALIASES,
    DEVICES,
    ExperimentPlan,
    PlanError,
    parse_seeds,
    seeds_text,
)

NUMBERS = {  # parameter: (smallest, largest), as the form's widgets allow
    "shots": (1, 1000), "ways": (2, 50), "queries": (1, 100), "episodes": (0, 20_000),
    "test_episodes": (10, 5_000)}
EPISODIC_ONLY = ("ways", "queries", "episodes", "test_episodes")
SHAPE_SETTINGS = ("n_way", "k_shot", "n_query")  # set by the episode shape when unseen
KEYS = ("preset", "protocol", "methods", "shots", "seeds", *EPISODIC_ONLY, "backbone",
        "device")
PRESET_KINDS = ("compare", "episodic")  # the presets Train & compare runs
SEED_MAX, MAX_SEEDS = 10_000, 20


@dataclass(frozen=True)
class LinkPlan:
    """What a link makes of a plan: the plan, the parts it set, the preset it named and notes
    on what it ignored."""

    plan: ExperimentPlan
    fixed: frozenset[str] = frozenset()
    preset: str | None = None
    notes: tuple[Message, ...] = ()


def shown(value: Any) -> str:
    """A value from the URL as it may appear in a note (inside a code span: no markup)."""
    return str(value)[:60].replace("`", "'").replace("\n", " ")


def is_plan_key(key: str) -> bool:
    from metacore.methods import registry

    names = {s.name for s in registry.available()}
    return key in KEYS or ("." in key and key.partition(".")[0] in names)


@dataclass
class _Reader:
    base: ExperimentPlan
    params: Mapping[str, str]
    check_backbone: Callable[[str], str] | None
    values: dict[str, Any] = field(default_factory=dict)
    fixed: set[str] = field(default_factory=set)
    notes: list[Message] = field(default_factory=list)

    def note(self, code: str, **params: Any) -> None:
        self.notes.append(msg(f"link.{code}", **params))


def from_query(params: Mapping[str, str], base: ExperimentPlan, *,
               check_backbone: Callable[[str], str] | None = None) -> LinkPlan:
    """The plan ``base`` with what the link ``params`` set. Never raises for user input.

    ``check_backbone`` is the page's allow-list check; it raises ``ValueError`` for a backbone
    the server does not let its users load (without it a link cannot set the backbone).
    """
    get = {k: str(v).strip() for k, v in params.items()}
    r = _Reader(base, get, check_backbone)
    preset = _preset(r)
    plan = r.base
    _protocol(r)
    protocol = r.values.get("protocol", plan.protocol)
    _methods(r)
    for name in ("shots", *EPISODIC_ONLY):
        _number(r, name, protocol)
    _seeds(r, protocol)
    _backbone(r)
    _device(r)
    settings = _settings(r, protocol)
    plan = _apply(plan, r.values, settings, protocol)
    return LinkPlan(plan, frozenset(r.fixed), preset, tuple(r.notes))


def _preset(r: _Reader) -> str | None:
    from metacore import presets

    name = r.params.get("preset")
    if not name:
        return None
    if name in presets.PRESETS and presets.get(name).kind in PRESET_KINDS:
        preset = presets.get(name)
        r.base = dataclasses.replace(preset.plan, data=r.base.data, device=r.base.device)
        r.fixed |= {"protocol", "methods", "shots", "seeds", "backbone", "settings"}
        if preset.kind == "episodic":
            r.fixed |= {"ways", "queries", "episodes", "test_episodes"}
        return name
    if name in presets.PRESETS:
        r.note("sweep_preset", name=shown(name))
    else:
        r.note("preset", name=shown(name), choices=[p.name for p in presets.PRESETS.values()
                                                    if p.kind in PRESET_KINDS])
    return None


def _protocol(r: _Reader) -> None:
    value = r.params.get("protocol")
    if value is None:
        return
    protocol = ALIASES.get(value, value)
    if protocol in ("adapt", "episodic"):
        r.values["protocol"] = protocol
        r.fixed.add("protocol")
    else:
        r.note("protocol", value=shown(value))


def _methods(r: _Reader) -> None:
    from metacore.methods import registry

    if "methods" not in r.params:
        return
    names = [m.strip() for m in r.params["methods"].split(",") if m.strip()]
    known = [s.name for s in registry.available()]
    bad = [m for m in names if m not in known]
    if bad:
        r.note("methods", names=shown(", ".join(bad[:5])))
    good = list(dict.fromkeys(m for m in names if m in known))
    if good:
        r.values["methods"] = good
        r.fixed |= {"methods", "settings"}
    elif not bad:
        r.note("no_methods")


def _number(r: _Reader, name: str, protocol: str) -> None:
    value = r.params.get(name)
    if value is None:
        return
    low, high = NUMBERS[name]
    if name == "shots" and value == "all":
        if protocol == "adapt":
            r.values["shots"] = None
            r.fixed.add("shots")
        else:
            r.note("all_episodic")
        return
    if name == "shots" and protocol == "episodic":
        high = 100
    if not value.isdigit() or not low <= int(value) <= high:
        r.note("number", name=name, value=shown(value), low=low, high=high)
        return
    if name in EPISODIC_ONLY and protocol != "episodic":
        r.note("episodic_only", name=name)
        return
    r.values[name] = int(value)
    r.fixed.add(name)


def _seeds(r: _Reader, protocol: str) -> None:
    if "seeds" not in r.params:
        return
    try:
        seeds = parse_seeds(r.params["seeds"])
    except PlanError:
        seeds = []
    if not seeds or max(seeds) > SEED_MAX or len(seeds) > MAX_SEEDS:
        r.note("seeds", value=shown(r.params["seeds"]))
        return
    if protocol == "episodic" and len(seeds) > 1:
        r.note("one_seed", seed=seeds[0])
        seeds = seeds[:1]
    r.values["seeds"] = seeds
    r.fixed.add("seeds")


def _backbone(r: _Reader) -> None:
    spec = r.params.get("backbone")
    if not spec:
        return
    try:
        if r.check_backbone is None:
            raise ValueError(spec)
        r.values["backbone"] = r.check_backbone(spec)  # the page's allow-list; never downloads
        r.fixed.add("backbone")
    except ValueError:
        r.note("backbone", value=shown(spec))


def _device(r: _Reader) -> None:
    value = r.params.get("device")
    if value is None:
        return
    if value in DEVICES:
        r.values["device"] = value
        r.fixed.add("device")
    else:
        r.note("device", value=shown(value), choices=list(DEVICES))


def _settings(r: _Reader, protocol: str) -> dict[str, dict[str, Any]]:
    """``<method>.<setting>`` parameters, each checked by the method's own config."""
    from metacore.methods import registry

    known = {s.name: s for s in registry.available()}
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(k for k in r.params if "." in k):
        method, _, name = key.partition(".")
        if method not in known:
            r.note("setting_method", param=shown(key))
            continue
        fields = {f.name for f in known[method].config_cls.fields()}
        if name not in fields or (protocol == "episodic" and name in SHAPE_SETTINGS):
            r.note("setting_name", param=shown(key))
            continue
        try:
            config = known[method].config_cls.from_dict({**out.get(method, {}),
                                                         name: r.params[key]})
        except (ValueError, TypeError):
            r.note("setting_value", param=shown(key), value=shown(r.params[key]))
            continue
        out.setdefault(method, {})[name] = getattr(config, name)
        r.fixed.add("settings")
    return out


def _apply(plan: ExperimentPlan, values: dict[str, Any], settings: dict[str, dict[str, Any]],
           protocol: str) -> ExperimentPlan:
    """``plan`` with the link's values; a link that names methods brings its own settings
    (a whole exercise), otherwise its settings update the plan's."""
    methods = {m: dict(s) for m, s in plan.methods.items()}
    if "methods" in values:
        methods = {m: dict(settings.get(m, {})) for m in values["methods"]}
    else:
        for method, given in settings.items():
            if method in methods:
                methods[method].update(given)
    changes: dict[str, Any] = {"methods": methods, "protocol": protocol}
    for name in ("backbone", "device"):
        if name in values:
            changes[name] = values[name]
    if "backbone" in values:
        changes["allow_download"] = False
    if "seeds" in values:
        changes["seeds"] = tuple(values["seeds"])
    episodes = plan.episodes
    if protocol == "episodic":
        shape = {"k_shot": values.get("shots"), "n_way": values.get("ways"),
                 "n_query": values.get("queries"), "test_episodes": values.get("test_episodes"),
                 "meta_episodes": values.get("episodes")}
        episodes = dataclasses.replace(episodes, **{k: v for k, v in shape.items()
                                                    if v is not None})
        changes["episodes"] = episodes
    elif "shots" in values:
        changes["shots"] = (values["shots"],)
    return dataclasses.replace(plan, **changes)


def to_query(plan: ExperimentPlan, *, preset: str | None = None) -> dict[str, str]:
    """The parameters that make ``from_query`` give ``plan`` (its data aside): ``preset=NAME``
    (and the device) when the plan is still that preset's, else every part of it."""
    from metacore import presets

    out: dict[str, str] = {}
    if preset and preset in presets.PRESETS and same_plan(plan, presets.get(preset).plan):
        out["preset"] = preset
        if plan.device != "auto":
            out["device"] = plan.device
        return out
    out["protocol"] = "unseen" if plan.protocol == "episodic" else "adapt"
    out["methods"] = ",".join(plan.methods)
    if plan.protocol == "episodic":
        e = plan.episodes
        out |= {"shots": str(e.k_shot), "seeds": seeds_text(plan.seeds[:1]),
                "ways": str(e.n_way), "queries": str(e.n_query),
                "test_episodes": str(e.test_episodes)}
        if e.meta_episodes is not None:
            out["episodes"] = str(e.meta_episodes)
    else:
        out |= {"shots": "all" if plan.shots[0] is None else str(plan.shots[0]),
                "seeds": seeds_text(plan.seeds)}
    out["backbone"] = plan.backbone
    if plan.device != "auto":
        out["device"] = plan.device
    for method, settings in plan.methods.items():
        for name, value in sorted(settings.items()):
            out[f"{method}.{name}"] = _text(value)
    return out


def same_plan(a: ExperimentPlan, b: ExperimentPlan) -> bool:
    """Whether two plans run the same thing, their data and device aside."""
    def core(p: ExperimentPlan) -> dict[str, Any]:
        d = p.to_dict()
        for key in ("data", "device", "out", "save_model", "allow_download"):
            d.pop(key, None)
        if p.protocol == "episodic":
            d.pop("shots", None)
            d["seeds"] = d["seeds"][:1]
        else:
            d.pop("episodes", None)
        return d
    return core(a) == core(b)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)
