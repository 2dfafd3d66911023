"""What Train & compare has chosen, kept as plans: one ``ExperimentPlan`` per protocol.

The form is the session's ``Form``: the protocol shown, and for each protocol the plan its
widgets edit (without data: the Data page's choice fills it in when a run starts), plus how the
unseen-class protocol splits the classes. Widgets read their values from these plans and write
them back, so what the page shows is what a run will use, a switch of language or protocol
keeps every choice, and a reload or History's "re-run" restores a form from the plan of a
comparison (``Form.show``). Nothing here draws a widget; ``current()`` is the session's form.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from metacore.plan import DataSource, EpisodeShape, ExperimentPlan
from metacore.plan.model import PROTOCOLS

FORM = "train_form"
# Keys of the form's widgets, forgotten when the form is filled from elsewhere (a preset, a
# link, a restored comparison) so they redraw from the plan.
WIDGET_PREFIXES = ("train_", "ep_", "cfg_")
KEEP = (FORM, "train_start", "train_open_results")
PARTS = ("meta_train", "meta_val", "novel")
SPLIT_KINDS = ("column", "random", "pick")
# Laptop-sized starting points (a workshop's first run should take a minute or two). The app's
# unseen-class plan differs from the command line's research defaults (5-way, 15 queries, 600
# test episodes) on purpose, and says so in its widgets: these are its values, not hidden caps.
# The recommended method first (metacore.methods.recommend), then two to compare it with.
ADAPT_METHODS = ("centroid-blend", "linear-probe", "protonet")
UNSEEN_METHODS = {"nearest-centroid": {}, "linear-probe": {}, "protonet": {"meta_episodes": 30}}
UNSEEN_SHAPE = EpisodeShape(n_way=3, k_shot=5, n_query=5, test_episodes=100)


def default_plan(protocol: str, seed: int = 0) -> ExperimentPlan:
    """The plan a new session's form starts from."""
    from metacore.methods import registry

    names = {s.name for s in registry.installed()}
    if protocol == "episodic":
        return ExperimentPlan(methods={m: s for m, s in UNSEEN_METHODS.items() if m in names},
                              protocol="episodic", episodes=UNSEEN_SHAPE, seeds=(seed,))
    return ExperimentPlan(methods=[m for m in ADAPT_METHODS if m in names], shots=(8,),
                          seeds=(seed,))


@dataclass
class Form:
    """The Train & compare form: a plan per protocol, the protocol shown, the class split."""

    protocol: str = "adapt"
    plans: dict[str, ExperimentPlan] = field(default_factory=dict)
    split_kind: str = ""  # unseen classes: column | random | pick ("" = column if usable)
    picked: dict[str, list[str]] = field(default_factory=dict)  # part -> classes ("pick")
    preset: str = ""  # the workshop preset the plan came from (its time applies while equal)

    def __post_init__(self) -> None:
        for protocol in PROTOCOLS:
            self.plans.setdefault(protocol, default_plan(protocol))

    @property
    def plan(self) -> ExperimentPlan:
        """The plan of the protocol shown."""
        return self.plans[self.protocol]

    def update(self, **changes: Any) -> ExperimentPlan:
        """Change the shown plan (``dataclasses.replace``: the plan checks itself)."""
        self.plans[self.protocol] = dataclasses.replace(self.plan, **changes)
        return self.plan

    def set_settings(self, method: str, settings: dict[str, Any]) -> None:
        methods = {m: dict(s) for m, s in self.plan.methods.items()}
        if method in methods:
            methods[method] = dict(settings)
            self.update(methods=methods)

    def show(self, plan: ExperimentPlan, preset: str = "") -> None:
        """Show ``plan`` (a comparison being restored, a re-run, a link or a preset)."""
        self.protocol = plan.protocol
        self.plans[plan.protocol] = dataclasses.replace(plan, data=DataSource(), out=None)
        self.preset = preset
        if plan.protocol == "episodic":
            self.split_kind, self.picked = _split_of(plan.data.classes_split)

    def classes_split(self) -> str:
        """The ``classes_split`` value of the unseen-class plan."""
        if self.split_kind != "pick":
            return self.split_kind or "random"
        return ";".join(f"{part}={','.join(self.picked.get(part, []))}" for part in PARTS)

    def to_run(self, data: dict[str, Any]) -> ExperimentPlan:
        """The shown plan with the Data page's choice (``ui.state.dataset()``) as its data."""
        source = DataSource(path=data["path"], test_path=data.get("test_path"),
                            text_col=data.get("text_col"), label_col=data.get("label_col"),
                            label_format=data.get("label_format"),
                            test_size=data["test_size"], val_size=data["val_size"],
                            use_split_column=data["use_split_column"],
                            classes_split=self.classes_split())
        if self.protocol == "episodic":
            source = dataclasses.replace(source, test_path=None)
        return dataclasses.replace(self.plan, data=source)


def _split_of(text: str) -> tuple[str, dict[str, list[str]]]:
    """(split kind, picked classes) of a ``classes_split`` value."""
    if text in ("column", "random"):
        return text, {}
    picked: dict[str, list[str]] = {}
    for part in text.split(";"):
        name, _, classes = part.partition("=")
        if name.strip() in PARTS:
            picked[name.strip()] = [c.strip() for c in classes.split(",") if c.strip()]
    return "pick", picked


def current() -> Form:
    """The session's form: a comparison it started is shown again after a reload (its plan
    comes back with it), else the defaults with the Data page's seed."""
    from ui import state

    if FORM not in st.session_state:
        new = Form(plans={"adapt": default_plan("adapt", state.dataset()["seed"])})
        plan = state.comparison_plan()
        if plan is not None:
            new.show(plan)
        st.session_state[FORM] = new
    return st.session_state[FORM]


def forget_widgets() -> None:
    """Drop the form widgets' own state: they redraw from the plan next time."""
    for key in [k for k in st.session_state if str(k).startswith(WIDGET_PREFIXES)
                and k not in KEEP]:
        del st.session_state[key]


def submit(f: Form, data: dict[str, Any], *, queue: Any, owner: str, loaded: Any,
           test_loaded: Any = None) -> Any:
    """Queue the shown plan on the Data page's data: its data is prepared here, once per data
    seed and K (a data error raises ``DataError`` before anything is queued), and submitting
    the same plan again while it runs returns the runs already queued (``Submission.new``).

    Raises:
        ValueError (DataError, BackboneError and PlanError included): it cannot run.
    """
    from metacore.run import prepare
    from metacore.security import allowed_model_dirs, check_backbone_spec

    plan = f.to_run(data)
    if not plan.methods:
        from metacore.plan import PlanError

        raise PlanError("plan.no_method")
    if any(_uses_backbone(m) for m in plan.methods):
        check_backbone_spec(plan.backbone, allowed_dirs=allowed_model_dirs(),
                            allow_download=plan.allow_download)  # BackboneError: ValueError
    cache: dict[tuple[int, Any], Any] = {}

    def prepared(run: Any) -> Any:
        key = (run.seed, run.shots)
        if key not in cache:
            cache[key] = prepare(plan, run, loaded=loaded, test_loaded=test_loaded)
        return cache[key]

    return queue.submit_plan(plan, owner=owner, prepared=prepared)


def _uses_backbone(method: str) -> bool:
    from metacore.methods import registry

    return registry.get(method).uses_backbone
