"""``metacore`` on the command line: run, compare, validate and list methods.

``run`` and ``episodic`` build an ``ExperimentPlan`` from their flags (``metacore.plan``) and
run it with the same runner the app uses (``metacore.run``). Problems with the
input print one sentence and exit with code 2; a run that fails while training writes its
result with ``status: failed`` and exits with code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
    for register in (_add_run, _add_episodic, _add_methods, _add_validate, _add_export,
                     _add_sweep):
        register(sub)
    return parser


# --- run and episodic: a plan, run by the one runner -----------------------------------------
def _add_run(sub) -> None:
    from metacore.plan.command import add_arguments

    p = sub.add_parser("run", help="adapt methods to the classes of a file and report (several "
                       "methods, seeds or K values: a comparison or a K-shot sweep)")
    add_arguments(p, "run")
    p.set_defaults(handler=cmd_plan, protocol="run")


def _add_episodic(sub) -> None:
    from metacore.plan.command import add_arguments

    p = sub.add_parser(
        "episodic", help="meta-train on base classes, test on N-way K-shot novel-class episodes")
    add_arguments(p, "episodic")
    p.set_defaults(handler=cmd_plan, protocol="episodic")


def cmd_plan(args: argparse.Namespace) -> int:
    """Run every run of the plan the flags describe; one result.json each."""
    from metacore.plan.command import from_arguments

    plan = from_arguments(args, args.protocol)
    runs = plan.runs()
    out = Path(plan.out) if plan.out else None
    check_before_work(plan, runs, out)
    if out is not None and len(runs) > 1:
        out.mkdir(parents=True, exist_ok=True)
        (out / "plan.json").write_text(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False),
                                       encoding="utf-8")
    results = _run_all(plan, runs, out, quiet=args.quiet)
    if len(results) > 1:
        print_summary(results)
    if out is not None:
        where = out / "result.json" if len(runs) == 1 else out
        print(f"\nWrote {where}", file=sys.stderr)
    return EXIT_FAILED if any(r.status == "failed" for r in results) else EXIT_OK


def check_before_work(plan, runs, out: Path | None) -> None:
    """Everything that can be checked without the data or a backbone, before either is
    loaded: every method's settings, and that ``--out`` is a folder this user can write to
    (a file, a folder under a file or a read-only folder would otherwise only fail once
    training is over, losing its result). Raises ``ValueError`` with one sentence."""
    import tempfile

    from metacore.messages import MessageError
    from metacore.methods import registry

    for one in runs:
        registry.require_installed(one.method)
        registry.create(one.method, plan.method_settings(one))
    if out is None:
        return
    if out.exists() and not out.is_dir():
        raise MessageError("store.out.is_file", path=str(out))
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".metacore-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            raise MessageError("store.out.is_file", path=str(exc.filename or out)) from None
        raise MessageError("store.out.not_writable", path=str(out),
                           detail=exc.strerror or str(exc)) from None


def _run_all(plan, runs, out: Path | None, *, quiet: bool) -> list:
    """Each run in turn, sharing the backbone and each data seed's prepared data."""
    from metacore.methods import registry
    from metacore.run import prepare, run

    backbone, prepared, results = None, {}, []
    if any(registry.get(r.method).uses_backbone for r in runs):
        from metacore.backbones import load_backbone

        backbone = load_backbone(plan.backbone, allow_download=plan.allow_download)
    for one in runs:
        key = (one.seed, one.shots)
        if key not in prepared:
            prepared[key] = prepare(plan, one)
        where = None if out is None else (out if len(runs) == 1 else out / one.key)
        with ConsoleProgress(enabled=not quiet) as progress:
            result = run(plan, one, callbacks=[progress], backbone=backbone,
                         prepared=prepared[key], out=where)
        print_report(result)
        results.append(result)
    return results


def print_summary(results) -> None:
    """One line per run: method, K, seeds, status, accuracy and macro-F1."""
    print(f"\n{'method':<18} {'K':>4} {'seed':>4} {'init':>4}  {'status':<9} {'accuracy':>8} "
          f"{'macro-F1':>8}")
    for r in results:
        run = r.config.get("run", {})
        m = r.metrics
        acc = m.get("accuracy", m.get("accuracy_mean"))
        f1 = m.get("macro_f1", m.get("macro_f1_mean"))
        shots = run.get("shots", run.get("k_shot"))
        print(f"{r.method:<18} {'all' if shots is None else shots:>4} {run.get('seed', 0):>4} "
              f"{run.get('init_seed', run.get('seed', 0)):>4}  {r.status:<9} "
              f"{_pct(acc):>8} {_pct(f1):>8}")


def _pct(value) -> str:
    return "—" if value is None else f"{value:.4f}"


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
            tqdm.write(event.detail, file=sys.stderr)
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
        from metacore.methods.recommend import RECOMMENDED

        rows = [{**s.to_dict(), "recommended": s.name == RECOMMENDED,
                 "settings": [vars(f) for f in s.config_cls.fields()]} for s in specs]
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK
    from metacore.methods.recommend import RECOMMENDED

    width = max(len(s.name) for s in specs)
    for s in specs:
        notes = "".join([" (recommended)" if s.name == RECOMMENDED else "",
                         "" if s.installed else
                         f" (not installed: pip install 'metacore[{s.requires}]')"])
        print(f"{s.name:<{width}}  [{s.family}]{notes} {s.description}")
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
    p.add_argument("--label-format", choices=("none", ";", "|", ",", "json", "columns"),
                   help="how a row's labels are written (detected when omitted)",
                   default=None)
    p.add_argument("--shots", type=_shots, default=None,
                   help="also check that every class has this many examples")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(handler=cmd_validate)


def _shots(value: str) -> int | None:
    from metacore.plan import parse_shots

    try:
        return parse_shots(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_validate(args: argparse.Namespace) -> int:
    from metacore.data import load_dataset, validate

    loaded = load_dataset(args.file, text_col=args.text_col, label_col=args.label_col,
                          label_format=args.label_format)
    findings = validate(loaded, k_shot=args.shots)
    usable = not any(f.level == "error" for f in findings)
    if args.json:
        print(json.dumps({"usable": usable, "findings": [f.to_dict() for f in findings],
                          "rows": len(loaded.frame), "format": loaded.format,
                          "encoding": loaded.encoding}, indent=2, ensure_ascii=False))
        return EXIT_OK if usable else EXIT_UNUSABLE
    frame = loaded.frame
    if len(frame):
        kind = f"{len(loaded.to_textset().classes)} labels (several a row)" \
            if loaded.multi_label else f"{frame['label'].nunique()} classes"
        print(f"{loaded.source}: {len(frame)} rows, {kind}, "
              f"format {loaded.format}, encoding {loaded.encoding}, text column "
              f"{loaded.text_column!r}, label column {loaded.label_column!r}")
    for f in findings:
        rows = f" (rows {', '.join(map(str, f.rows[:10]))}{'…' if len(f.rows) > 10 else ''})" \
            if f.rows else ""
        print(f"{f.level.upper():7} {f.message}{rows}")
    print("usable" if usable else "NOT usable")
    return EXIT_OK if usable else EXIT_UNUSABLE


# --- sweep -------------------------------------------------------------------------------------
def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="run a plan's grid (data sets x methods x K x seeds) "
                       "through the queue into the store, resumably")
    p.add_argument("plan", help="a plan as JSON (plan.json of `metacore run`), optionally with "
                   "\"datasets\": [files]")
    p.add_argument("--store", help="the store folder (default: $METACORE_HOME, the app's)")
    p.add_argument("--name", help="the sweep's name (default: the file's); its runs are the "
                   "store's group sweep-NAME")
    p.add_argument("--save-model", action="store_true", help="keep every run's model")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the runs as Ray tasks: on the cluster at ADDRESS ('auto': the one "
                   "this machine is part of), or on a local Ray without ADDRESS")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", help="also write the table of results to this file")
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from metacore.run.sweep import load_sweep, results_table, run_sweep
    from metacore.runs.store import RunStore

    sweep = load_sweep(args.plan, name=args.name)
    store = RunStore(args.store)
    for plan in sweep.plans:
        check_before_work(plan, plan.runs(), None)
    bar = None

    def progress(p) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=p.total, initial=p.done, unit="run", file=sys.stderr,
                       desc=sweep.group, dynamic_ncols=True)
            if p.skipped:
                bar.write(f"{p.skipped} of {p.total} runs already in the store: not run again",
                          file=sys.stderr)
            return
        bar.update(1)
        r = p.result
        f1 = r.metrics.get("macro_f1", r.metrics.get("macro_f1_mean"))
        bar.set_postfix_str(f"{p.run.method} K={p.run.shots} seed {p.run.seed}: {r.status}"
                            + (f" F1 {f1:.3f}" if f1 is not None else ""))

    submit = None
    if args.ray:
        from metacore.run.ray_backend import ray_submitter

        submit = ray_submitter(store, None if args.ray == "local" else args.ray,
                               save_models=args.save_model)
    summary = run_sweep(sweep, store, save_models=args.save_model, progress=progress,
                        submit=submit)
    if bar is not None:
        bar.close()
    rows = results_table(store, sweep)
    print(f"{'data':<28} {'method':<18} {'K':>4} {'runs':>4} {'macro-F1':>8} {'accuracy':>8}")
    for row in rows:
        shots = "all" if row["shots"] is None else row["shots"]
        print(f"{row['data'][:28]:<28} {row['method']:<18} {shots:>4} {row['runs']:>4} "
              f"{_pct(row['macro_f1']):>8} {_pct(row['accuracy']):>8}")
    ran = len(summary.results)
    print(f"\n{ran} runs now, {summary.skipped} from before, {summary.failed} failed; in "
          f"{store.root} (group {sweep.group})", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"group": sweep.group, "rows": rows}, indent=2,
                                              ensure_ascii=False), encoding="utf-8")
    return EXIT_FAILED if summary.failed else EXIT_OK


# --- export ------------------------------------------------------------------------------------
def _add_export(sub) -> None:
    p = sub.add_parser("export", help="write a run's saved model in another format (ONNX) and "
                       "check it against the PyTorch model")
    p.add_argument("run", help="a folder written by `metacore run --out`, a saved model "
                   "folder, or a run id of the app's store")
    p.add_argument("--format", choices=["onnx"], default="onnx")
    p.add_argument("--out", help="output folder (default: RUN/onnx, or ./RUN-onnx for a run "
                   "id)")
    p.add_argument("--store", help="the app's store folder for a run id (default: "
                   "$METACORE_HOME)")
    p.add_argument("--check", type=int, default=500,
                   help="test texts to compare onnxruntime with PyTorch on (0 = none)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from metacore.runs.onnx import export_onnx, locate

    model, texts = locate(args.run, args.store)
    if args.out:
        out = Path(args.out)
    elif Path(args.run).is_dir():
        out = (model.parent if model.name == "model" else model) / "onnx"
    else:
        out = Path(f"{args.run}-onnx")
    print(f"exporting {model} to {out} ...", file=sys.stderr)
    report = export_onnx(model, out, texts=texts[: max(0, args.check)])
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return EXIT_OK
    beside = "tokenizer, onnx.json" if report.max_length else "onnx.json"
    print(f"wrote {out / 'model.onnx'} ({report.file_bytes / 2**20:.1f} MiB; input "
          f"{', '.join(report.inputs)}), {beside} and example.py")
    if report.checked_texts:
        lat = report.latency_ms
        print(f"checked on {report.checked_texts} test texts: largest probability difference "
              f"{report.max_abs_diff:.2e} from {report.reference}, same prediction for "
              f"{100 * report.same_prediction:.1f} %")
        print(f"CPU latency per text: onnxruntime {lat['onnxruntime']} ms, "
              f"{report.reference} {lat[report.reference.lower()]} ms "
              f"({int(lat['threads'])} threads)")
    else:
        print("not checked: no test texts with this model (export a run folder to check it)")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
