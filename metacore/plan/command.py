"""A plan as a ``metacore run`` / ``metacore episodic`` command line, and back.

``add_arguments`` declares the flags (the CLI's parser and ``from_command`` use the same ones),
``from_arguments`` builds the plan from parsed flags, ``to_command`` writes the exact command
that runs a plan again: every flag that differs from its default, so ``from_command`` of it is
the same plan.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from collections.abc import Sequence
from typing import Any

from metacore.plan.model import (
    DataSource,
    EpisodeShape,
    ExperimentPlan,
    PlanError,
    parse_seeds,
    parse_shots,
    seeds_text,
)


def to_command(plan: ExperimentPlan) -> str:
    """The ``metacore`` command that runs exactly this plan (``from_command`` reads it)."""
    return shlex.join(to_argv(plan))


def to_argv(plan: ExperimentPlan) -> list[str]:
    return ["metacore", "episodic" if plan.protocol == "episodic" else "run", *_argv(plan)]


def from_command(command: str | Sequence[str]) -> ExperimentPlan:
    """The plan of a ``metacore run|episodic`` command line (``shlex`` rules)."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv and argv[0] == "metacore":
        argv = argv[1:]
    if not argv or argv[0] not in ("run", "episodic"):
        raise PlanError("plan.not_a_command", command=" ".join(argv[:2]))
    parser = argparse.ArgumentParser(prog=f"metacore {argv[0]}", exit_on_error=False)
    add_arguments(parser, argv[0])
    try:
        args = parser.parse_args(argv[1:])
    except (argparse.ArgumentError, SystemExit) as exc:
        raise PlanError("plan.bad_command", detail=str(exc)) from None
    return from_arguments(args, argv[0])


SHORTCUTS = (("--epochs", int), ("--lr", float), ("--batch-size", int), ("--max-length", int))


def add_arguments(p: argparse.ArgumentParser, command: str = "run") -> None:
    """The flags of ``metacore run`` (adapt protocol) or ``metacore episodic``."""
    p.add_argument("--data", help="CSV, TSV, JSONL, XLSX or text<TAB>label file")
    p.add_argument("--text-col", help="column with the text (detected when omitted)")
    p.add_argument("--label-col", help="column with the label (detected when omitted)")
    p.add_argument("--label-format", default=None,
                   help="how a row's labels are written: none (one label), ; | , (several, "
                        "separated), json (a list), columns (one 0/1 column per label); "
                        "detected when omitted")
    p.add_argument("--method", help="a name from `metacore methods`; several: a,b,c "
                   "(run: the recommended method when left out)")
    p.add_argument("--backbone", default="minilm",
                   help="minilm (bundled), a Hugging Face id or folder, tiny, or random-init:NAME")
    p.add_argument("--allow-download", action="store_true",
                   help="allow downloading a model from the Hugging Face hub (or HF_ENDPOINT)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--seed", default="0", help="data seed (split and K-shot sample); several: "
                   "0,1,2 or 0-4")
    p.add_argument("--init-seed", default=None, help="seed of the weight initialisation and of "
                   "what training draws (default: the data seed); several: 0-4")
    p.add_argument("--out", help="folder for result.json (and the model with --save-model)")
    p.add_argument("--plan", help="a plan JSON file (`plan.json` of an earlier run); other "
                   "flags are ignored")
    p.add_argument("--set", action="append", default=[], metavar="[METHOD.]KEY=VALUE",
                   help=LazyHelp(set_help))
    p.formatter_class = HelpFormatter
    for flag, kind in SHORTCUTS:
        p.add_argument(flag, type=kind, help="shortcut for --set " + flag[2:].replace("-", "_"))
    p.add_argument("--save-model", action="store_true",
                   help="save the adapted model (Hugging Face format) under OUT/model")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    if command == "episodic":
        p.add_argument("--ways", type=int, default=5, help="classes per test episode (N)")
        p.add_argument("--shots", type=int, default=5, help="support examples per class (K)")
        p.add_argument("--queries", type=int, default=15, help="query examples per class")
        p.add_argument("--meta-train-episodes", type=int, default=None,
                       help="meta-training episodes (default: the method's own)")
        p.add_argument("--test-episodes", type=int, default=600,
                       help="test episodes drawn from the novel classes (default 600)")
        p.add_argument("--classes-split", default="column",
                       help="column (the file's split column: meta_train/meta_val/meta_test), "
                            "random (seeded), or meta_train=a,b;meta_val=c;novel=d,e")
        return
    p.add_argument("--test", help="a separate test file (otherwise a stratified split)")
    p.add_argument("--shots", default="all", help="labelled examples per class to train on, or "
                   "'all' (default); several make a K-shot sweep: 1,2,4,8,all")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--val-size", type=float, default=0.1)
    p.add_argument("--split-seed", type=int, default=None,
                   help="fix the train/validation/test split for every seed")
    p.add_argument("--ignore-split-column", action="store_true",
                   help="split at random even if the file has a split column")


class LazyHelp(str):
    """A help text computed only when help is printed: ``--set``'s lists every method's
    settings from the registry, which imports torch; building a parser must not."""

    def __new__(cls, make: Any) -> LazyHelp:
        text = super().__new__(cls, "a method setting")  # non-empty: argparse shows it
        text.make = make
        return text


class HelpFormatter(argparse.HelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str:
        help_ = action.help or ""
        return help_.make() if isinstance(help_, LazyHelp) else help_


def set_help() -> str:
    """``--set``'s help: the form, and each method's settings (from the registry)."""
    from metacore.methods import registry

    names = "; ".join(f"{s.name}: {', '.join(f.name for f in s.config_cls.fields())}"
                      for s in registry.available())
    return ("a method setting, repeatable; METHOD.KEY=VALUE when several methods run "
            f"(`metacore methods --verbose` explains each). Settings: {names}")


def from_arguments(args: argparse.Namespace, command: str = "run") -> ExperimentPlan:
    """The plan the parsed flags of ``metacore run`` or ``metacore episodic`` describe."""
    if getattr(args, "plan", None):
        from pathlib import Path

        plan = ExperimentPlan.from_json(Path(args.plan).read_text(encoding="utf-8"))
        return dataclasses.replace(plan, out=args.out or plan.out) if args.out else plan
    if not args.data:
        raise PlanError("plan.no_data")
    if not args.method and command == "episodic":
        raise PlanError("plan.no_method")
    from metacore.methods.recommend import RECOMMENDED

    # adapt to my classes without --method: the recommended method (metacore.methods.recommend)
    methods = [m.strip() for m in (args.method or RECOMMENDED).split(",") if m.strip()]
    settings = _settings(args, methods)
    common = dict(methods=settings, backbone=args.backbone, allow_download=args.allow_download,
                  seeds=tuple(parse_seeds(args.seed)), device=args.device,
                  init_seeds=None if args.init_seed is None else
                  tuple(parse_seeds(args.init_seed)), save_model=args.save_model, out=args.out)
    if command == "episodic":
        for flag in ("ways", "shots", "queries", "test_episodes"):
            if getattr(args, flag) < 1:
                raise PlanError("plan.flag_at_least", flag=f"--{flag.replace('_', '-')}")
        data = DataSource(path=args.data, text_col=args.text_col, label_col=args.label_col,
                          classes_split=args.classes_split)
        shape = EpisodeShape(n_way=args.ways, k_shot=args.shots, n_query=args.queries,
                             test_episodes=args.test_episodes,
                             meta_episodes=args.meta_train_episodes)
        return ExperimentPlan(protocol="episodic", data=data, episodes=shape, **common)
    data = DataSource(path=args.data, test_path=args.test, text_col=args.text_col,
                      label_col=args.label_col, label_format=args.label_format,
                      test_size=args.test_size,
                      val_size=args.val_size, use_split_column=not args.ignore_split_column,
                      split_seed=args.split_seed)
    shots = [parse_shots(s) for s in str(args.shots).split(",") if s.strip()]
    return ExperimentPlan(protocol="adapt", data=data, shots=tuple(shots), **common)


def _settings(args: argparse.Namespace, methods: list[str]) -> dict[str, dict[str, Any]]:
    """``--set [METHOD.]KEY=VALUE`` and the shortcut flags, per method. A key without a method
    goes to every method that has that setting (to all of them when none has it, so the
    method's config names the valid settings)."""
    from metacore.methods import registry

    out: dict[str, dict[str, Any]] = {m: {} for m in methods}
    fields = {m: {f.name for f in registry.get(m).config_cls.fields()} for m in methods}
    pairs: list[tuple[str, Any, str | None]] = []
    for item in args.set:
        if "=" not in item:
            raise PlanError("plan.set_format", item=item)
        key, value = (s.strip() for s in item.split("=", 1))
        method, dot, name = key.rpartition(".")  # method names keep their hyphens
        pairs.append((f"{method}{dot}{name.replace('-', '_')}", value, None))
    for flag, _ in SHORTCUTS:
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            pairs.append((flag[2:].replace("-", "_"), value, flag))
    for key, value, flag in pairs:
        method, _, name = key.rpartition(".")
        if method and method not in out:
            raise PlanError("plan.set_method", item=key, methods=methods)
        having = [m for m in methods if name in fields[m]]
        if flag and not having:
            raise PlanError("plan.flag_not_for", flag=flag, methods=methods)
        for m in [method] if method else (having or methods):
            out[m][name] = value
    return out


def _argv(plan: ExperimentPlan) -> list[str]:
    """The flags of ``to_command``: always data, method, backbone, shots and seed, then
    whatever differs from the defaults."""
    d, single = plan.data, len(plan.methods) == 1
    parts = ["--data", d.path, "--method", ",".join(plan.methods), "--backbone", plan.backbone]
    if plan.protocol == "episodic":
        e = plan.episodes
        parts += ["--ways", str(e.n_way), "--shots", str(e.k_shot), "--queries",
                  str(e.n_query), "--test-episodes", str(e.test_episodes), "--seed",
                  seeds_text(plan.seeds), "--classes-split", d.classes_split]
        optional = [("--meta-train-episodes", e.meta_episodes)]
    else:
        parts += ["--shots", ",".join("all" if k is None else str(k) for k in plan.shots),
                  "--seed", seeds_text(plan.seeds)]
        if d.test_size != 0.2:
            parts += ["--test-size", str(d.test_size)]
        if d.val_size != 0.1:
            parts += ["--val-size", str(d.val_size)]
        if not d.use_split_column:
            parts.append("--ignore-split-column")
        optional = [("--test", d.test_path), ("--split-seed", d.split_seed)]
    optional += [("--init-seed", None if plan.init_seeds is None
                  else seeds_text(plan.init_seeds)), ("--text-col", d.text_col),
                 ("--label-col", d.label_col), ("--label-format", d.label_format),
                 ("--out", plan.out)]
    parts += [x for flag, value in optional if value is not None and value != ""
              for x in (flag, str(value))]
    if plan.device != "auto":
        parts += ["--device", plan.device]
    if plan.allow_download:
        parts.append("--allow-download")
    if plan.save_model:
        parts.append("--save-model")
    for method, settings in plan.methods.items():
        for key, value in sorted(settings.items()):
            parts += ["--set", f"{key}={_text(value)}" if single else
                      f"{method}.{key}={_text(value)}"]
    return parts


def _text(value: Any) -> str:
    return str(value)  # True/False for booleans, as commands have always been written


