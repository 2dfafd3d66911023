"""A saved model as ONNX: one file that onnxruntime runs without metacore or PyTorch.

Three graphs, each the method's whole prediction, class probabilities out
(``probabilities``, N x C, a sigmoid per label for multi-label models; ``logits`` too):

- an encoder model (``hf-encoder+head``, the format of fine-tuning, LoRA, the frozen-embedding
  heads and the meta-learners): token ids and attention mask in, the encoder, mean pooling,
  the normalisation the method applies, the linear head. PyTorch's exporter traces it
  (``torch.onnx.export``, the TorchScript path, which needs no extra package) with dynamic
  batch and sequence axes; the tokenizer (``tokenizer.json``, read by the ``tokenizers``
  package) goes beside it;
- the TF-IDF pipeline (``tfidf-logreg``): texts in (``text``, strings), built operator by
  operator in ``metacore.runs.onnx_tfidf``;
- centroid-blend with its n-gram view: both inputs, the two views blended as the method does.

Beside the graph go ``onnx.json`` (classes, inputs, thresholds, what was checked) and
``example.py``, ten lines at most that classify texts with onnxruntime.

``export_onnx`` then checks the file: onnxruntime's probabilities against the method's own
(PyTorch, or scikit-learn) on the run's test texts (the largest absolute difference and the
share of texts with the same prediction), and times both on the CPU, one text at a time.

Not exportable, with one sentence each: SetFit's own format, and a model of one class.
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metacore.messages import Message, MessageError, msg

MODEL_FILE = "model.onnx"
INFO_FILE = "onnx.json"
EXAMPLE_FILE = "example.py"
OPSET = 17
CHECK_TEXTS = 200  # test texts the History page's export is checked on
LATENCY_TEXTS = 30  # texts timed one at a time for the latency figures

@dataclass
class OnnxReport:
    """What ``export_onnx`` wrote and measured (``onnx.json`` holds the same)."""

    folder: str
    method: str
    classes: list[str]
    max_length: int | None  # an encoder's: the tokenizer's truncation and padding
    pad_id: int | None
    file_bytes: int
    checked_texts: int
    max_abs_diff: float | None
    same_prediction: float | None
    latency_ms: dict[str, float] = field(default_factory=dict)
    opset: int = OPSET
    inputs: list[str] = field(default_factory=lambda: ["input_ids", "attention_mask"])
    reference: str = "PyTorch"  # what the file was checked and timed against
    lowercase_locale: str | None = None  # the graph's lower-casing of texts, where it has one
    # Multi-label models: ``probabilities`` are a sigmoid per label, and a label applies when
    # its probability reaches its threshold (``thresholds``, in the order of ``classes``).
    multi_label: bool = False
    thresholds: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise MessageError("onnx.error.missing") from None
    return onnxruntime


def why_not(model_dir: str | Path) -> Message | None:
    """Why the saved model in ``model_dir`` cannot be exported (None when it can): read from
    its manifest alone, so a page can say it before anything is loaded."""
    import importlib.util

    from metacore.methods.base import read_manifest

    try:
        manifest = read_manifest(model_dir)
    except (OSError, ValueError):
        return msg("onnx.error.no_model", run=str(model_dir))
    problem = _why_not(manifest)
    if problem is None and importlib.util.find_spec("onnxruntime") is None:
        return msg("onnx.error.missing")
    return problem


def _why_not(manifest: dict[str, Any]) -> Message | None:
    method = manifest.get("method", "?")
    tfidf = manifest.get("format") == "joblib" and method == "tfidf-logreg"
    if manifest.get("format") != "hf-encoder+head" and not tfidf:
        return msg("onnx.error.format", method=method)
    if len(manifest.get("classes") or ()) < 2 and not manifest.get("multi_label"):
        return msg("onnx.error.one_class", method=method)
    return None


def _blended(manifest: dict[str, Any]) -> bool:
    """Whether the model blends in an n-gram view (centroid-blend's, when it chose one)."""
    return float(manifest.get("blend_weight") or 0.0) > 0


def _graph(method: Any, manifest: dict[str, Any]):
    """The PyTorch module that the exporter traces: ids and mask in, (probabilities, logits)
    out, exactly as the method predicts."""
    import torch
    from torch import nn

    from metacore.backbones.base import encode

    problem = _why_not(manifest)
    if problem is not None:
        raise MessageError(problem)
    encoder, head = _encoder_and_head(method)
    normalize = bool(manifest.get("normalize"))
    multi = bool(manifest.get("multi_label"))  # a sigmoid per label, as the method predicts

    class Exported(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.head = encoder, head

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
            feats = encode(self.encoder, input_ids, attention_mask).float()
            if normalize:
                feats = nn.functional.normalize(feats, dim=-1)
            logits = self.head(feats)
            if multi:
                return torch.sigmoid(logits), logits
            return torch.softmax(logits, dim=-1), logits

    return Exported().eval()


def _encoder_and_head(method: Any):
    """(encoder, linear head) of a loaded ``hf-encoder+head`` method, on the CPU."""
    import torch
    from torch import nn

    if getattr(method, "model", None) is not None:  # fine-tuning and LoRA
        return method.model.encoder.cpu().eval(), method.model.head.cpu().eval()
    if getattr(method, "predictor", None) is not None:  # the meta-learners
        return method.predictor.cpu().eval(), method.head.cpu().eval()
    # the frozen-embedding heads: numpy weight and bias over the saved encoder
    head = nn.Linear(method.weight.shape[1], method.weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(np.asarray(method.weight), dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(np.asarray(method.bias), dtype=torch.float32))
    return method.backbone.model.cpu().eval(), head.eval()


def _write_encoder(method: Any, manifest: dict[str, Any], out: Path, path: Path
                   ) -> tuple[Any, int, int]:
    """Trace the encoder model into ``path``; write its tokenizer into ``out``. Returns the
    backbone, the longest text in tokens and the padding id."""
    import torch

    graph = _graph(method, manifest)
    backbone = method.backbone
    max_length = int(manifest.get("max_length") or method.config.to_dict().get("max_length")
                     or backbone.max_length)
    dummy = _feed(backbone.tokenize(["an example", "another example text"], max_length),
                  backbone.pad_id())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes about tracing and its future
        torch.onnx.export(
            graph, (torch.as_tensor(dummy["input_ids"]), torch.as_tensor(dummy["attention_mask"])),
            str(path), input_names=["input_ids", "attention_mask"],
            output_names=["probabilities", "logits"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "probabilities": {0: "batch"}, "logits": {0: "batch"}})
    backbone.tokenizer.save_pretrained(out)
    return backbone, max_length, int(backbone.pad_id())


def _example(inputs: Sequence[str], multi_label: bool) -> str:
    """``example.py`` for a graph with these inputs, without metacore: ten lines for an
    encoder, six for the TF-IDF pipeline, twelve for both (centroid-blend's n-gram view)."""
    encoder, text = "input_ids" in inputs, "text" in inputs
    texts = '["I want my money back", "what a lovely day"]'
    lines = ["import json, numpy as np, onnxruntime as ort"]
    if encoder:
        lines.append("from tokenizers import Tokenizer")
    lines += ['info = json.load(open("onnx.json", encoding="utf-8"))',
              'session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])']
    if text:
        lines.append(f"texts = {texts}")
    feed = []
    if encoder:
        lines += ['tok = Tokenizer.from_file("tokenizer.json")',
                  'tok.enable_truncation(info["max_length"]); '
                  'tok.enable_padding(pad_id=info["pad_id"])',
                  f"enc = tok.encode_batch({'texts' if text else texts})"]
        feed += ['"input_ids": np.array([e.ids for e in enc], np.int64)',
                 '"attention_mask": np.array([e.attention_mask for e in enc], np.int64)']
    if text:
        feed.append('"text": np.array(texts, dtype=object)')
    lines.append("feed = {" + ",\n        ".join(feed) + "}")
    run = 'session.run(["probabilities"], feed)[0]'
    if multi_label:  # every label at or above its threshold
        lines += [f"p = {run}",
                  'print([[c for c, q, t in zip(info["classes"], row, info["thresholds"]) '
                  'if q >= t] for row in p])']
    else:
        lines.append(f'print([info["classes"][i] for i in {run}.argmax(1)])')
    return "\n".join(lines) + "\n"


def export_onnx(model_dir: str | Path, out: str | Path, *, texts: Sequence[str] = ()
                ) -> OnnxReport:
    """Write ``out/model.onnx`` (with ``onnx.json``, ``example.py`` and, for an encoder, its
    tokenizer) from the saved model in ``model_dir``; check it on ``texts`` (the run's test
    texts) and time it.

    Three graphs: an encoder model (token ids and mask in), the TF-IDF pipeline (texts in:
    ``metacore.runs.onnx_tfidf``), and centroid-blend with its n-gram view (both, blended as
    the method blends them).

    Raises:
        MessageError: the model's format cannot be exported, or onnxruntime is missing.
    """
    import onnx

    from metacore.methods import load_method
    from metacore.methods.base import read_manifest
    from metacore.runs import onnx_tfidf
    from metacore.training.context import RunContext

    ort = _import_onnxruntime()
    model_dir, out = Path(model_dir), Path(out)
    manifest = read_manifest(model_dir)
    problem = _why_not(manifest)
    if problem is not None:  # before loading anything
        raise MessageError(problem)
    method = load_method(model_dir, ctx=RunContext())
    out.mkdir(parents=True, exist_ok=True)
    path, multi = out / MODEL_FILE, bool(method.multi_label)
    backbone = max_length = pad_id = None
    locale = onnx_tfidf.lowercase_locale(ort)
    if manifest.get("format") == "joblib":  # tfidf-logreg: texts in
        onnx.save(onnx_tfidf.tfidf_model(method.pipeline, method=method.name, multi_label=multi,
                                         opset=OPSET, locale=locale), str(path))
        inputs, reference = ["text"], "scikit-learn"
    else:
        backbone, max_length, pad_id = _write_encoder(method, manifest, out, path)
        inputs, reference = ["input_ids", "attention_mask"], "PyTorch"
        if _blended(manifest):  # centroid-blend's n-gram view, blended in the graph
            ngram = onnx_tfidf.tfidf_model(method.ngram, method=method.name, multi_label=False,
                                           opset=OPSET, locale=locale)
            onnx.save(onnx_tfidf.blend(onnx.load(str(path)), ngram, method.ngram.classes_,
                                       len(method.classes), float(method.blend_weight)),
                      str(path))
            inputs.append("text")
        else:
            locale = None
    (out / EXAMPLE_FILE).write_text(_example(inputs, multi), encoding="utf-8")

    def feed(batch: Sequence[str]) -> dict[str, np.ndarray]:
        values = {"text": np.array(list(batch), dtype=object)} if "text" in inputs else {}
        if backbone is not None:
            values.update(_feed(backbone.tokenize(list(batch), max_length), pad_id))
        return values

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    report = OnnxReport(folder=str(out), method=manifest["method"],
                        classes=list(manifest["classes"]), max_length=max_length,
                        pad_id=pad_id, file_bytes=path.stat().st_size, checked_texts=0,
                        max_abs_diff=None, same_prediction=None, inputs=inputs,
                        reference=reference, lowercase_locale=locale, multi_label=multi,
                        thresholds=list(method.thresholds) if multi else None)
    texts = [t for t in texts if isinstance(t, str)]
    if texts:
        onnx_p = _run_batched(session, texts, feed)
        ctx = RunContext()  # no shared backbone: the saved encoder runs, nothing cached
        ref_p = np.asarray(method.predict_proba(texts, ctx=ctx), dtype=np.float64)
        report.checked_texts = len(texts)
        report.max_abs_diff = float(np.abs(onnx_p - ref_p).max())
        if multi:  # the same labels above their thresholds
            cut = np.asarray(method.thresholds, dtype=float)[None, :]
            report.same_prediction = float(((onnx_p >= cut) == (ref_p >= cut)).all(1).mean())
        else:
            report.same_prediction = float((onnx_p.argmax(1) == ref_p.argmax(1)).mean())
        report.latency_ms = _latency(session, feed, lambda t: method.predict_proba(t, ctx=ctx),
                                     texts[:LATENCY_TEXTS], reference)
    (out / INFO_FILE).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False),
                                 encoding="utf-8")
    return report


def _feed(ids: Sequence[Sequence[int]], pad_id: int) -> dict[str, np.ndarray]:
    """onnxruntime's inputs: the runner's own padding (``collate``), as int64 arrays."""
    from metacore.training.batching import collate

    return {k: v.numpy() for k, v in collate(ids, pad_id).items()}


def _run_batched(session: Any, texts: Sequence[str], feed: Any, batch: int = 64
                 ) -> np.ndarray:
    """Probabilities of ``texts``, in batches of similar lengths (little padding)."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = None
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        proba = session.run(["probabilities"], feed([texts[i] for i in idx]))[0]
        if out is None:
            out = np.zeros((len(texts), proba.shape[1]))
        out[idx] = proba
    return out


def _latency(session: Any, feed: Any, reference: Any, texts: Sequence[str], name: str
             ) -> dict[str, float]:
    """Median milliseconds per text, one text per call, tokenising included, on the CPU: the
    ONNX file in onnxruntime against the same model in its own library (``name``: PyTorch,
    or scikit-learn for the TF-IDF pipeline; key ``pytorch`` or ``scikit-learn``)."""
    import torch

    def median_ms(fn) -> float:
        fn(texts[0])  # warm-up: first calls allocate
        times = []
        for text in texts:
            t0 = time.perf_counter()
            fn(text)
            times.append(time.perf_counter() - t0)
        return round(1000 * statistics.median(times), 2)

    onnx_ms = median_ms(lambda t: session.run(["probabilities"], feed([t])))
    ref_ms = median_ms(lambda t: reference([t]))
    return {"onnxruntime": onnx_ms, name.lower(): ref_ms,
            "threads": float(torch.get_num_threads())}


def locate(run: str | Path, store_root: str | Path | None = None) -> tuple[Path, list[str]]:
    """(saved model folder, the run's test texts) of ``run``: a folder that ``metacore run
    --out`` wrote (``model/`` and ``result.json``), a saved model folder itself, or a run id
    of the app's store (``store_root``, default ``$METACORE_HOME``).

    Raises:
        MessageError: nothing there keeps a model.
    """
    from metacore.methods.base import MANIFEST
    from metacore.runs.result import RunResult
    from metacore.runs.store import ARTIFACTS, RESULT_FILE, default_root

    path = Path(run)
    if not path.is_dir() and "/" not in str(run) and "\\" not in str(run):
        path = Path(store_root or default_root()) / ARTIFACTS / str(run)
    if (path / MANIFEST).is_file():
        return path, []
    model = path / "model"
    if not (model / MANIFEST).is_file():
        raise MessageError("onnx.error.no_model", run=str(run))
    texts: list[str] = []
    try:
        result = RunResult.load(path / RESULT_FILE)
        texts = [p["text"] for p in result.predictions if isinstance(p.get("text"), str)]
    except (OSError, ValueError, TypeError):
        pass  # a model without its result: exported, not checked
    return model, texts
