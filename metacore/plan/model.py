"""``ExperimentPlan``: what to run, in one type that the pages, links, presets and CLI all build.

A plan names the protocol (adapt to my classes, or unseen classes), the data and how to split
it, the methods with the settings that differ from their defaults, the backbone, the shots (or
the episode shape), the seeds and the device. It checks itself when it is made and converts to
and from a dict (JSON), the ``metacore`` command line and a classroom link's query string; a
preset is a named plan (``metacore.presets``); ``metacore.plan.command`` and
``metacore.plan.query`` write and read its command line and its classroom link. ``runs()``
lists the single runs it stands for, one per K, data seed, init seed and method, in the order
the queue runs them.

Seeds (``metacore.seeds``): ``seeds`` are data seeds (the split, unless ``data.split_seed``
fixes it, and the K-shot sample); ``init_seeds`` repeat training on the same data (the weight
initialisation and everything a method draws); without them each run's init seed is its data
seed, as one ``--seed`` always meant.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from metacore.messages import Message, MessageError, msg

VERSION = 1
PROTOCOLS = ("adapt", "episodic")
ALIASES = {"unseen": "episodic"}  # what links and people call the unseen-class protocol
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_SHOTS = 100_000


class PlanError(MessageError):
    """A plan that cannot run, in one sentence (a ``ValueError``)."""


@dataclass(frozen=True)
class DataSource:
    """The data file and how it is split.

    Attributes:
        path: The data file ("" in a preset or a link: the user's data fills it in).
        test_path: A separate test file (adapt protocol); otherwise a stratified split.
        text_col, label_col: Column names (detected when None).
        test_size, val_size: Shares of the data held out for testing and validation.
        use_split_column: Follow the file's own ``split`` column when it has one.
        split_seed: Fixes the train/validation/test split for every run; None: each run's
            data seed draws it.
        classes_split: Unseen classes: ``column`` (the file's split column), ``random``, or
            ``meta_train=a,b;meta_val=c;novel=d,e``.
        label_format: How a row's labels are written (``metacore.data.multilabel.FORMATS``:
            "none" one label, ";" "|" "," separated, "json" a list, "columns" 0/1 columns);
            None detects it.
    """

    path: str = ""
    test_path: str | None = None
    text_col: str | None = None
    label_col: str | None = None
    test_size: float = 0.2
    val_size: float = 0.1
    use_split_column: bool = True
    split_seed: int | None = None
    classes_split: str = "column"
    label_format: str | None = None

    def check(self) -> None:
        from metacore.data.multilabel import FORMATS

        if self.label_format is not None and self.label_format not in FORMATS:
            raise PlanError("plan.label_format", value=self.label_format, formats=list(FORMATS))
        if not 0.0 < self.test_size < 1.0:
            raise PlanError("plan.test_size", value=self.test_size)
        if not 0.0 <= self.val_size < 1.0 or self.test_size + self.val_size >= 1.0:
            raise PlanError("plan.val_size", value=self.val_size, test=self.test_size)
        if self.split_seed is not None and self.split_seed < 0:
            raise PlanError("plan.seed_negative", seed=self.split_seed)


@dataclass(frozen=True)
class EpisodeShape:
    """The unseen-class protocol's test episodes (N-way K-shot, Q queries per class).

    ``n_way``, ``k_shot`` and ``n_query`` also shape each meta-learner's training episodes
    unless its own settings say otherwise; ``meta_episodes`` (None: each method's own) sets
    how many episodes every meta-learner trains on, again unless its settings say otherwise.
    """

    n_way: int = 5
    k_shot: int = 5
    n_query: int = 15
    test_episodes: int = 600
    meta_episodes: int | None = None

    def check(self) -> None:
        for name, low in (("n_way", 2), ("k_shot", 1), ("n_query", 1), ("test_episodes", 1)):
            if int(getattr(self, name)) < low:
                raise PlanError("plan.episode_field", name=name, low=low,
                                value=getattr(self, name))
        if self.meta_episodes is not None and self.meta_episodes < 0:
            raise PlanError("plan.episode_field", name="meta_episodes", low=0,
                            value=self.meta_episodes)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a plan: a method with its settings, K, a data seed and an init seed."""

    method: str
    settings: Mapping[str, Any]
    shots: int | None
    seed: int
    init_seed: int

    @property
    def key(self) -> str:
        """A name for the run's folder: ``protonet-k8-s0`` (``-i1`` when the init differs)."""
        k = "all" if self.shots is None else str(self.shots)
        init = "" if self.init_seed == self.seed else f"-i{self.init_seed}"
        return f"{self.method}-k{k}-s{self.seed}{init}"


@dataclass(frozen=True)
class ExperimentPlan:
    """Everything that defines an experiment (see the module docstring).

    Attributes:
        methods: Method name -> the settings that differ from its defaults, in order.
        protocol: "adapt" (adapt to my classes) or "episodic" (unseen classes).
        shots: Adapt protocol: K examples per class (None: every training text); several
            values make a K-shot sweep.
        episodes: Unseen-class protocol: the episode shape.
        save_model: Keep each run's adapted model (``OUT/model``).
        out: Folder for the result (``OUT/result.json``; ``OUT/<run key>/`` for several runs).
    """

    methods: Mapping[str, Mapping[str, Any]]
    data: DataSource = field(default_factory=DataSource)
    protocol: str = "adapt"
    backbone: str = "minilm"
    allow_download: bool = False
    shots: tuple[int | None, ...] = (None,)
    episodes: EpisodeShape = field(default_factory=EpisodeShape)
    seeds: tuple[int, ...] = (0,)
    init_seeds: tuple[int, ...] | None = None
    device: str = "auto"
    save_model: bool = False
    out: str | None = None

    def __post_init__(self) -> None:
        protocol = ALIASES.get(self.protocol, self.protocol)
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "protocol", protocol)
        set_(self, "methods", _checked_methods(self.methods))
        set_(self, "shots", tuple(_shots(self.shots)))
        set_(self, "seeds", tuple(_seeds(self.seeds, "seeds")))
        if self.init_seeds is not None:
            set_(self, "init_seeds", tuple(_seeds(self.init_seeds, "init_seeds")))
        if protocol not in PROTOCOLS:
            raise PlanError("plan.protocol", value=protocol, choices=list(PROTOCOLS))
        if protocol == "episodic" and self.shots != (None,):
            set_(self, "shots", (None,))  # episodes have their own K
        base = self.device.split(":")[0]
        if base not in DEVICES or (":" in self.device and base != "cuda"):
            raise PlanError("plan.device", value=self.device, choices=list(DEVICES))
        self.data.check()
        self.episodes.check()

    # --- what it runs ---------------------------------------------------------------------
    def runs(self) -> list[PlannedRun]:
        """Every single run: by K, then data seed, then init seed, then method (a sweep that
        stops half-way has every method at the small K values)."""
        return [PlannedRun(name, dict(settings), shots, seed, init)
                for shots in self.shots for seed in self.seeds
                for init in (self.init_seeds or (seed,))
                for name, settings in self.methods.items()]

    def only(self, run: PlannedRun) -> ExperimentPlan:
        """The plan of that single run (for its result and its command)."""
        return dataclasses.replace(self, methods={run.method: dict(run.settings)},
                                   shots=(run.shots,), seeds=(run.seed,),
                                   init_seeds=None if run.init_seed == run.seed
                                   else (run.init_seed,))

    def with_data(self, data: DataSource) -> ExperimentPlan:
        return dataclasses.replace(self, data=data)

    def method_settings(self, run: PlannedRun) -> dict[str, Any]:
        """The run's settings with the plan's episode shape filled in where the method has
        those settings (unseen classes: the test shape, unless the method's own says)."""
        from metacore.methods import registry

        settings = dict(run.settings)
        if self.protocol != "episodic":
            return settings
        names = {f.name for f in registry.get(run.method).config_cls.fields()}
        e = self.episodes
        wanted = {"n_way": e.n_way, "k_shot": e.k_shot, "n_query": e.n_query,
                  "meta_episodes": e.meta_episodes}
        return {**{k: v for k, v in wanted.items() if k in names and v is not None},
                **settings}

    @property
    def is_sweep(self) -> bool:
        return len(self.shots) > 1

    @property
    def kind(self) -> str:
        """"sweep", "compare" (adapt protocol) or "episodic"."""
        if self.protocol == "episodic":
            return "episodic"
        return "sweep" if self.is_sweep else "compare"

    # --- dict and JSON ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["methods"] = [{"name": n, "settings": dict(s)} for n, s in self.methods.items()]
        out["shots"], out["seeds"] = list(self.shots), list(self.seeds)
        out["init_seeds"] = None if self.init_seeds is None else list(self.init_seeds)
        return {"version": VERSION, **out}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ExperimentPlan:
        """The plan of ``to_dict()``; unknown keys are refused, missing ones take defaults."""
        values = dict(values)
        values.pop("version", None)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise PlanError("plan.unknown_keys", names=unknown)
        methods = values.pop("methods", {})
        if isinstance(methods, list):
            methods = {m["name"]: dict(m.get("settings") or {}) for m in methods}
        data = DataSource(**_known(DataSource, values.pop("data", None) or {}))
        episodes = EpisodeShape(**_known(EpisodeShape, values.pop("episodes", None) or {}))
        return cls(methods=methods, data=data, episodes=episodes, **values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExperimentPlan:
        return cls.from_dict(json.loads(text))

    def key(self) -> str:
        """A digest of what the plan runs: two equal plans have the same key."""
        import hashlib

        return hashlib.sha1(self.to_json().encode("utf-8")).hexdigest()[:16]

def _known(kind: type, values: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise PlanError("plan.unknown_keys", names=unknown)
    return dict(values)


def _checked_methods(methods: Any) -> dict[str, dict[str, Any]]:
    """Known methods with valid settings, typed (``"3"`` -> 3), in the given order."""
    from metacore.methods import registry

    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, Mapping):
        methods = {name: {} for name in methods}
    out: dict[str, dict[str, Any]] = {}
    for name, settings in methods.items():
        spec = registry.get(name)  # raises naming the valid methods
        config = spec.config_cls.from_dict(dict(settings or {}))  # raises on a bad setting
        out[spec.name] = {k: getattr(config, k) for k in (settings or {})}
    return out


def _shots(values: Iterable[int | str | None] | int | None) -> list[int | None]:
    if values is None or isinstance(values, (int, str)):
        values = [values]
    out: list[int | None] = []
    for value in values:
        k = parse_shots(value) if isinstance(value, str) else value
        if k is not None and not 1 <= int(k) <= MAX_SHOTS:
            raise PlanError("plan.shots", value=k, high=MAX_SHOTS)
        if k not in out:
            out.append(None if k is None else int(k))
    if not out:
        raise PlanError("plan.no_shots")
    return out


def _seeds(values: Iterable[int] | int | str, name: str) -> list[int]:
    if isinstance(values, str):
        values = parse_seeds(values)
    elif isinstance(values, int):
        values = [values]
    out = list(dict.fromkeys(int(v) for v in values))
    if not out:
        raise PlanError("plan.no_seeds", name=name)
    if min(out) < 0:
        raise PlanError("plan.seed_negative", seed=min(out))
    return out


def parse_shots(text: str | int | None) -> int | None:
    """``"8"`` -> 8; ``"all"`` (or 0, none) -> None: every training text."""
    if text is None or (isinstance(text, str) and text.strip().lower() in {"all", "0", "none"}):
        return None
    try:
        value = int(text)
    except ValueError:
        raise PlanError("plan.shots_format", value=str(text)) from None
    if value < 1:
        raise PlanError("plan.shots_format", value=str(text))
    return value


def parse_seeds(text: str) -> list[int]:
    """``"0, 1, 2"`` or ``"0-4"`` -> seeds. Raises ``PlanError`` with one sentence."""
    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise PlanError("plan.seeds_format", part=part)
        seeds += list(range(int(low), int(high or low) + 1))
    if not seeds:
        raise PlanError("plan.no_seeds", name="seeds")
    return list(dict.fromkeys(seeds))


def seeds_text(seeds: Sequence[int]) -> str:
    """``[0, 1, 2, 3]`` -> ``"0-3"``; ``[0, 2]`` -> ``"0,2"`` (what ``parse_seeds`` reads)."""
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def describe(plan: ExperimentPlan) -> Message:
    """One line that says what the plan runs (for logs and the queue)."""
    return msg("plan.describe", methods=list(plan.methods), runs=len(plan.runs()),
               protocol=msg(f"term.protocol.{plan.protocol}"))


# --- results written before plans existed ----------------------------------------------------
def legacy_dict(plan: ExperimentPlan) -> dict[str, Any]:
    """A single-run plan as the flat ``RunSpec``/``EpisodicSpec`` dict that results kept in
    ``config.run`` before plans existed (kept there, so older readers still find it)."""
    run = plan.runs()[0]
    d, e = plan.data, plan.episodes
    out: dict[str, Any] = {"data": d.path, "method": run.method, "backbone": plan.backbone,
                           "method_config": dict(run.settings), "text_col": d.text_col,
                           "label_col": d.label_col, "seed": run.seed,
                           "init_seed": run.init_seed, "device": plan.device,
                           "allow_download": plan.allow_download, "out": plan.out,
                           "save_model": plan.save_model}
    if plan.protocol == "episodic":
        out.update(n_way=e.n_way, k_shot=e.k_shot, n_query=e.n_query,
                   meta_train_episodes=e.meta_episodes, test_episodes=e.test_episodes,
                   classes_split=d.classes_split)
    else:
        out.update(test=d.test_path, shots=run.shots, test_size=d.test_size,
                   val_size=d.val_size, use_split_column=d.use_split_column,
                   split_seed=d.split_seed)
    return out


def from_legacy(run: Mapping[str, Any], protocol: str = "adapt") -> ExperimentPlan:
    """The plan of a flat ``config.run`` dict (see ``legacy_dict``), old results included."""
    get = run.get
    methods = {get("method"): dict(get("method_config") or {})}
    common = dict(methods=methods, backbone=get("backbone") or "minilm",
                  allow_download=bool(get("allow_download")), seeds=(int(get("seed") or 0),),
                  init_seeds=None if get("init_seed") in (None, get("seed"))
                  else (int(get("init_seed")),), device=get("device") or "auto",
                  save_model=bool(get("save_model")), out=get("out"))
    if protocol == "episodic" or "n_way" in run:
        data = DataSource(path=get("data") or "", text_col=get("text_col"),
                          label_col=get("label_col"),
                          classes_split=get("classes_split") or "column")
        shape = EpisodeShape(n_way=int(get("n_way") or 5), k_shot=int(get("k_shot") or 5),
                             n_query=int(get("n_query") or 15),
                             test_episodes=int(get("test_episodes") or 600),
                             meta_episodes=get("meta_train_episodes"))
        return ExperimentPlan(protocol="episodic", data=data, episodes=shape, **common)
    data = DataSource(path=get("data") or "", test_path=get("test"), text_col=get("text_col"),
                      label_col=get("label_col"), test_size=float(get("test_size") or 0.2),
                      val_size=float(0.1 if get("val_size") is None else get("val_size")),
                      use_split_column=get("use_split_column", True) is not False,
                      split_seed=get("split_seed"))
    return ExperimentPlan(protocol="adapt", data=data, shots=(get("shots"),), **common)


def plan_of_result(config: Mapping[str, Any], protocol: str = "adapt") -> ExperimentPlan | None:
    """The plan a stored result ran (``config.plan``, else its legacy ``config.run``)."""
    try:
        if config.get("plan"):
            return ExperimentPlan.from_dict(config["plan"])
        if config.get("run"):
            return from_legacy(config["run"], protocol)
    except (ValueError, TypeError, KeyError):
        return None
    return None
