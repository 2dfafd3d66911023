"""``metacore`` on the command line: run, compare, validate and list methods.

Every command goes through the same API the app uses (``metacore.api``). Problems with the
input print one sentence and exit with code 2; a run that fails while training writes its
result with ``status: failed`` and exits with code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_UNUSABLE
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:  # DataError, BackboneError and bad settings
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metacore", description="Compare fine-tuning and meta-learning on labelled text.")
    sub = parser.add_subparsers(dest="command")
    for register in (_add_run, _add_methods, _add_validate, _add_episodic):
        register(sub)
    return parser


# --- shared arguments ------------------------------------------------------------------------
def add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="CSV, TSV, JSONL, XLSX or text<TAB>label file")
    p.add_argument("--text-col", help="column with the text (detected when omitted)")
    p.add_argument("--label-col", help="column with the label (detected when omitted)")


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", required=True, help="a name from `metacore methods`")
    p.add_argument("--backbone", default="minilm",
                   help="minilm (bundled), a Hugging Face id or folder, tiny, or random-init:NAME")
    p.add_argument("--allow-download", action="store_true",
                   help="allow downloading a model from the Hugging Face hub (or HF_ENDPOINT)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for result.json (and the model with --save-model)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a method setting, repeatable (see `metacore methods --verbose`)")
    for flag, kind in (("--epochs", int), ("--lr", float), ("--batch-size", int),
                       ("--max-length", int)):
        p.add_argument(flag, type=kind, help="shortcut for --set " + flag[2:].replace("-", "_"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def method_settings(args: argparse.Namespace) -> dict[str, Any]:
    """--set KEY=VALUE pairs plus the shortcut flags, checked against the method's config."""
    from metacore.methods import registry

    settings: dict[str, Any] = {}
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set expects KEY=VALUE, not {item!r}.")
        key, value = item.split("=", 1)
        settings[key.strip().replace("-", "_")] = value.strip()
    known = {f.name for f in registry.get(args.method).config_cls.fields()}
    for key in ("epochs", "lr", "batch_size", "max_length"):
        value = getattr(args, key, None)
        if value is None:
            continue
        if key not in known:
            raise ValueError(f"--{key.replace('_', '-')} does not apply to {args.method}.")
        settings[key] = value
    return settings


def parse_shots(value: str) -> int | None:
    if value.strip().lower() in {"all", "0", "none"}:
        return None
    shots = int(value)
    if shots < 1:
        raise argparse.ArgumentTypeError("--shots must be a positive number or 'all'.")
    return shots


# --- run ---------------------------------------------------------------------------------------
def _add_run(sub) -> None:
    p = sub.add_parser("run", help="adapt one method to the classes of a file and report")
    add_data_args(p)
    add_model_args(p)
    p.add_argument("--test", help="a separate test file (otherwise a stratified split)")
    p.add_argument("--shots", type=parse_shots, default=None,
                   help="labelled examples per class to train on, or 'all' (default)")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--val-size", type=float, default=0.1)
    p.add_argument("--ignore-split-column", action="store_true",
                   help="split at random even if the file has a split column")
    p.add_argument("--save-model", action="store_true",
                   help="save the adapted model (Hugging Face format) under OUT/model")
    p.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from metacore.api import RunSpec, run_experiment

    spec = RunSpec(
        data=args.data, test=args.test, text_col=args.text_col, label_col=args.label_col,
        method=args.method, method_config=method_settings(args), backbone=args.backbone,
        shots=args.shots, seed=args.seed, device=args.device, allow_download=args.allow_download,
        test_size=args.test_size, val_size=args.val_size,
        use_split_column=not args.ignore_split_column, save_model=args.save_model, out=args.out)
    with ConsoleProgress(enabled=not args.quiet) as progress:
        result = run_experiment(spec, callbacks=[progress])
    print_report(result)
    if args.out:
        print(f"\nWrote {args.out}/result.json", file=sys.stderr)
    return EXIT_FAILED if result.status == "failed" else EXIT_OK


def print_report(result) -> None:
    """The per-class report and headline metrics, as a table on stdout."""
    if result.status == "failed":
        print(f"Run failed: {result.error}", file=sys.stderr)
        return
    for finding in result.findings:  # data problems: overlap of train and test, small classes
        if finding.get("level") == "warning":
            print(f"warning: {finding.get('message')}", file=sys.stderr)
    for message in result.warnings:
        print(f"warning: {message}", file=sys.stderr)
    m = result.metrics
    head = f"{result.method} on {result.data.get('source', '?')} [{result.status}]"
    print(head)
    if "accuracy_mean" in m:
        print(f"accuracy {m['accuracy_mean']:.4f} ± {m.get('accuracy_ci95', 0):.4f}   "
              f"macro-F1 {m.get('macro_f1_mean', 0):.4f} ± {m.get('macro_f1_ci95', 0):.4f}")
    else:
        print(f"accuracy {m.get('accuracy', 0):.4f}   macro-F1 {m.get('macro_f1', 0):.4f}")
    width = max([len(str(k)) for k in result.per_class] + [5])
    print(f"\n{'class':<{width}}  precision  recall     f1  support")
    for label, row in result.per_class.items():
        print(f"{label:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  "
              f"{row['f1']:5.3f}  {row['support']:7d}")
    t = result.timing
    print(f"\ntrain {t.get('train_s', 0):.1f}s  predict {t.get('predict_s', 0):.1f}s  "
          f"total {t.get('total_s', 0):.1f}s  on {result.device}")


class ConsoleProgress:
    """Turns run events into a tqdm progress bar on stderr (shown after one second)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None

    def __enter__(self) -> ConsoleProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __call__(self, event) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        from metacore.training.events import PhaseChanged, RunEnded, StepEnded

        if isinstance(event, PhaseChanged):
            self._close()
            tqdm.write(f"[{event.phase}] {event.detail}".rstrip(), file=sys.stderr)
        elif isinstance(event, StepEnded):
            if self.bar is None:
                self.bar = tqdm(total=event.total_steps or None, desc="training", unit="step",
                                file=sys.stderr, delay=1.0, leave=False)
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix(loss=f"{event.loss:.4f}", refresh=False)
        elif isinstance(event, RunEnded):
            self._close()


# --- methods -----------------------------------------------------------------------------------
def _add_methods(sub) -> None:
    p = sub.add_parser("methods", help="list the registered methods")
    p.add_argument("--verbose", action="store_true", help="also list each method's settings")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_methods)


def cmd_methods(args: argparse.Namespace) -> int:
    from metacore.methods import registry

    specs = registry.available()
    if args.json:
        rows = [{**s.to_dict(), "settings": [vars(f) for f in s.config_cls.fields()]}
                for s in specs]
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK
    width = max(len(s.name) for s in specs)
    for s in specs:
        print(f"{s.name:<{width}}  [{s.family}] {s.description}")
        if args.verbose:
            for f in s.config_cls.fields():
                print(f"    {f.name}={f.default!r}: {f.help}")
    return EXIT_OK


# --- validate ----------------------------------------------------------------------------------
def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a data file; exit 0 when usable, 2 when not")
    p.add_argument("file")
    p.add_argument("--text-col")
    p.add_argument("--label-col")
    p.add_argument("--shots", type=parse_shots, default=None,
                   help="also check that every class has this many examples")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    from metacore.data import load_dataset, validate

    loaded = load_dataset(args.file, text_col=args.text_col, label_col=args.label_col)
    findings = validate(loaded, k_shot=args.shots)
    usable = not any(f.level == "error" for f in findings)
    if args.json:
        print(json.dumps({"usable": usable, "findings": [f.to_dict() for f in findings],
                          "rows": len(loaded.frame), "format": loaded.format,
                          "encoding": loaded.encoding}, indent=2, ensure_ascii=False))
        return EXIT_OK if usable else EXIT_UNUSABLE
    frame = loaded.frame
    if len(frame):
        print(f"{loaded.source}: {len(frame)} rows, {frame['label'].nunique()} classes, "
              f"format {loaded.format}, encoding {loaded.encoding}, text column "
              f"{loaded.text_column!r}, label column {loaded.label_column!r}")
    for f in findings:
        rows = f" (rows {', '.join(map(str, f.rows[:10]))}{'…' if len(f.rows) > 10 else ''})" \
            if f.rows else ""
        print(f"{f.level.upper():7} {f.message}{rows}")
    print("usable" if usable else "NOT usable")
    return EXIT_OK if usable else EXIT_UNUSABLE


# --- episodic (the unseen-class protocol) ------------------------------------------------------
def _add_episodic(sub) -> None:
    try:
        from metacore.episodic_cli import add_episodic_parser
    except ImportError:
        return
    add_episodic_parser(sub)


if __name__ == "__main__":
    sys.exit(main())
