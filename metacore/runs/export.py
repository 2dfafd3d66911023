"""Downloads of one run: JSON, CSV tables, an offline HTML report, the model, and a bundle.

Every function returns bytes, ready for a download button or a file. CSV cells that a
spreadsheet would run as a formula are defused (OWASP "CSV injection"), and the HTML escapes
every piece of user text, because labels and texts come from uploaded files.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shlex
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from metacore.messages import msg
from metacore.runs.result import RunResult

# A spreadsheet treats a cell starting with one of these as a formula (tab and CR too, since
# some programs strip them before looking).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# UTF-8 with a byte-order mark: Excel otherwise opens Chinese or accented labels as mojibake.
CSV_ENCODING = "utf-8-sig"


def escape_cell(value: Any) -> Any:
    """Prefix ``'`` to text a spreadsheet would evaluate; numbers pass through unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([escape_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue().encode(CSV_ENCODING)


def result_json(result: RunResult) -> bytes:
    """The full result, as the documented JSON."""
    return result.to_json().encode("utf-8")


def per_class_csv(result: RunResult) -> bytes:
    """``class,precision,recall,f1,support`` per class, then the macro and weighted averages."""
    rows: list[list[Any]] = [
        [label, _round(v.get("precision")), _round(v.get("recall")), _round(v.get("f1")),
         v.get("support", "")]
        for label, v in result.per_class.items()
    ]
    total = sum(int(v.get("support", 0) or 0) for v in result.per_class.values())
    for average in ("macro", "weighted"):
        keys = [f"{average}_{name}" for name in ("precision", "recall", "f1")]
        if any(key in result.metrics for key in keys):
            rows.append([f"{average} avg", *(_round(result.metrics.get(k)) for k in keys), total])
    return _csv_bytes(["class", "precision", "recall", "f1", "support"], rows)


def predictions_csv(result: RunResult) -> bytes:
    """One row per test text: gold label, prediction, confidence, and each class probability."""
    proba_labels = list(result.extra.get("proba_labels") or [])
    header = ["text", "label", "predicted", "correct", "confidence",
              *(f"p({label})" for label in proba_labels)]
    rows = []
    for p in result.predictions:
        proba = list(p.get("proba") or [])
        proba += [""] * (len(proba_labels) - len(proba))
        rows.append([p.get("text", ""), p.get("label", ""), p.get("predicted", ""),
                     p.get("label") == p.get("predicted"), p.get("confidence", ""),
                     *proba[: len(proba_labels)]])
    return _csv_bytes(header, rows)


def figures_html(result: RunResult, lang: str = "en") -> bytes:
    """One standalone HTML page with every figure of the run; plotly.js is inlined once, so the
    page works offline. ``lang`` is the language of the figures' words (``figure.*`` messages).
    Raises ``RuntimeError`` when the reporting module is unavailable."""
    try:
        from plotly.offline import get_plotlyjs

        from metacore.reporting.figures import all_figures
    except ImportError as exc:
        raise RuntimeError(f"The HTML report needs metacore.reporting.figures and plotly "
                           f"(pip install plotly): {exc}") from exc
    sections = []
    for name, figure in all_figures(result, lang=lang).items():
        title = _figure_title(figure) or name.replace("_", " ").capitalize()
        # Plotly escapes "</" inside its JSON, so titles in the figure itself cannot break out.
        body = figure.to_html(full_html=False, include_plotlyjs=False)
        sections.append(f"<section><h2>{html.escape(title)}</h2>\n{body}\n</section>")
    heading = html.escape(f"{result.method} · {result.backbone or 'no backbone'} · "
                          f"{result.status}")
    page = _PAGE.format(
        title=html.escape(f"metacore run {result.run_id}"), heading=heading,
        details=_details_html(result), plotlyjs=get_plotlyjs(), sections="\n".join(sections))
    return page.encode("utf-8")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>body {{font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px;}}
dt {{font-weight: 600;}} code {{word-break: break-all;}}</style>
<script>{plotlyjs}</script>
</head>
<body>
<h1>{heading}</h1>
{details}
{sections}
</body>
</html>
"""


def _figure_title(figure: Any) -> str:
    try:
        return str(figure.layout.title.text or "")
    except AttributeError:
        return ""


def _details_html(result: RunResult) -> str:
    items = {"Run": result.run_id, "Created": result.created, "Device": result.device,
             "Data": str(result.data.get("source", "")), "Error": result.error or ""}
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()
                        if k in {"accuracy", "macro_f1", "accuracy_mean", "accuracy_ci95",
                                 "macro_f1_mean", "macro_f1_ci95"}  # episodic: mean ± CI
                        and isinstance(v, (int, float)))
    items["Metrics"] = metrics
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>"
                   for k, v in items.items() if v)
    command = html.escape(export_command(result))
    return f"<dl>{rows}</dl>\n<p>Reproduce with:</p>\n<pre><code>{command}</code></pre>"


def model_zip(model_dir: str | Path) -> bytes:
    """A zip of a saved model folder (Hugging Face format), its files under ``model/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add_folder(archive, Path(model_dir), "model")
    return buffer.getvalue()


def onnx_zip(model_dir: str | Path, texts: Sequence[str] = ()) -> bytes:
    """A zip of the model as ONNX (``metacore.runs.onnx.export_onnx``, checked on ``texts``),
    its files under ``onnx/``: the graph, tokenizer, ``onnx.json`` and ``example.py``."""
    import tempfile

    from metacore.runs.onnx import export_onnx

    with tempfile.TemporaryDirectory(prefix="metacore-onnx-") as tmp:
        export_onnx(model_dir, Path(tmp) / "onnx", texts=texts)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _add_folder(archive, Path(tmp) / "onnx", "onnx")
        return buffer.getvalue()


def _add_folder(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"No saved model in {folder}.")
    for path in sorted(folder.rglob("*")):
        # Symlinks are skipped: a saved model has none, and following one could leak files.
        if path.is_file() and not path.is_symlink():
            archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


def reproduce_command(result: RunResult) -> str:
    """The ``metacore`` command line that repeats this run."""
    if result.command:
        return result.command
    from metacore.plan import plan_of_result
    from metacore.plan.command import to_command

    plan = plan_of_result(result.config, result.protocol) if isinstance(result.config, dict) \
        else None
    return to_command(plan) if plan is not None else ""


# An upload kept by the app: METACORE_HOME/uploads/<12 hex digits of its SHA-1>/<name>.
_UPLOAD = re.compile(r"[0-9a-f]{12}")
# The samples that ship with metacore (the app's "sample" data).
SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def export_command(result: RunResult, lang: str = "en") -> str:
    """The command to give someone who repeats this run elsewhere: ``reproduce_command`` with
    ``--out runs/<run id>`` when it has none (so it writes result.json), a file the app keeps
    in its upload folder as ``./<name>`` and a bundled sample as ``sample_data/<name>`` (the
    server's folders mean nothing on another machine), and ``#`` comment lines before it, in
    ``lang``, saying where that data must be and whether this run was stopped before the end
    (the command runs it in full). Empty when no command was recorded."""
    command = reproduce_command(result)
    if not command:
        return ""
    try:
        argv = shlex.split(command)
    except ValueError:  # not a command line this module wrote: give it as recorded
        return command
    notes = []
    for flag in ("--data", "--test"):
        at = _flag_at(argv, flag)
        if at is None:
            continue
        path = Path(argv[at])
        if _is_upload(argv[at]):
            argv[at] = f"./{path.name}"
            notes.append(msg("export.data_next_to", name=_one_line(path.name),
                             upload=_one_line(f"uploads/{path.parent.name}/{path.name}")))
        elif path.is_absolute() and path.parent == SAMPLES:
            argv[at] = f"sample_data/{path.name}"
            notes.append(msg("export.data_sample", name=_one_line(argv[at])))
    if _flag_at(argv, "--out") is None and result.run_id:
        argv += ["--out", f"runs/{result.run_id}"]
    if result.status == "stopped":
        notes.append(_stopped_note(result))
    return "\n".join([*(f"# {note.text(lang)}" for note in notes), shlex.join(argv)])


def _flag_at(argv: list[str], flag: str) -> int | None:
    """The index of ``flag``'s value in ``argv`` (``--flag value`` or ``--flag=value`` split)."""
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return i + 1
        if arg.startswith(flag + "="):
            argv[i:i + 1] = [flag, arg[len(flag) + 1:]]
            return i + 1
    return None


def _one_line(text: str) -> str:
    """``text`` without line breaks or other control characters: a file name with a newline
    must not end the comment line and start a command of its own."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _is_upload(path: str) -> bool:
    p = Path(path)
    return p.parent.parent.name == "uploads" and bool(_UPLOAD.fullmatch(p.parent.name))


def _stopped_note(result: RunResult) -> Any:
    steps = (result.history.get("steps") or []) if isinstance(result.history, dict) else []
    done = max((int(s.get("step", 0) or 0) for s in steps if isinstance(s, dict)),
               default=len(steps))
    total = result.extra.get("total_steps") if isinstance(result.extra, dict) else None
    if isinstance(total, int) and total >= done and total > 0:
        return msg("export.stopped_at", step=done, total=total)
    return msg("export.stopped_at_step", step=done)


def bundle_zip(result: RunResult, model_dir: Path | None) -> bytes:
    """Everything above in one zip; the model only when ``model_dir`` holds one."""
    notes = [f"metacore run {result.run_id}", "", "Reproduce with:",
             export_command(result) or "(not recorded)"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("result.json", result_json(result))
        archive.writestr("per_class.csv", per_class_csv(result))
        archive.writestr("predictions.csv", predictions_csv(result))
        archive.writestr("command.txt", export_command(result) + "\n")
        try:
            archive.writestr("figures.html", figures_html(result))
        except Exception as exc:  # noqa: BLE001 - the rest of the bundle is still worth having
            notes += ["", f"figures.html was left out: {exc}"]
        if model_dir is not None and Path(model_dir).is_dir():
            _add_folder(archive, Path(model_dir), "model")
        archive.writestr("README.txt", "\n".join(notes) + "\n")
    return buffer.getvalue()


def _round(value: Any, digits: int = 4) -> Any:
    return round(float(value), digits) if isinstance(value, (int, float)) else ""
