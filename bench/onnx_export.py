"""ONNX export of MiniLM models: file size, largest difference from PyTorch, CPU latency.

    python bench/onnx_export.py

Trains full-finetune (2 epochs), nearest-centroid, tfidf-logreg and centroid-blend (its
encoder frozen, its n-gram view as chosen) on the English support-intents sample at K = 8 with
the bundled MiniLM, saves each model, exports it with ``metacore export`` (the CLI), which
checks onnxruntime against the method's own library (PyTorch, scikit-learn) on the run's test
texts and times both one text at a time. Writes bench/results/onnx.json.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import ROOT, machine, write_json

SAMPLE = str(ROOT / "sample_data" / "support_intents_en.csv")
CHINESE = str(ROOT / "sample_data" / "finance_news_zh.csv")
FROZEN = ["--set", "tune_encoder=false"]
# row: (method, data, extra arguments); centroid-blend on the Chinese sample blends in its
# n-gram view (the English backbone reads Chinese poorly), on the English one it does not
RUNS = {"full-finetune": ("full-finetune", SAMPLE, ["--epochs", "2"]),
        "nearest-centroid": ("nearest-centroid", SAMPLE, []),
        "tfidf-logreg": ("tfidf-logreg", SAMPLE, []),
        "centroid-blend": ("centroid-blend", SAMPLE, FROZEN),
        "tfidf-logreg (Chinese sample)": ("tfidf-logreg", CHINESE, []),
        "centroid-blend (Chinese sample)": ("centroid-blend", CHINESE, FROZEN)}


def main() -> None:
    from metacore.cli import main as cli

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row, (method, data, extra) in RUNS.items():
            out = Path(tmp) / row.replace(" ", "_")
            assert cli(["run", "--data", data, "--method", method, "--shots", "8", "--seed",
                        "0", "--device", "cpu", "--save-model", "--out", str(out), "--quiet",
                        *extra]) == 0
            assert cli(["export", str(out), "--format", "onnx", "--check", "1000"]) == 0
            rows[row] = json.loads((out / "onnx" / "onnx.json").read_text())
            rows[row].pop("folder", None)
            model_bytes = sum(f.stat().st_size for f in (out / "model").rglob("*")
                              if f.is_file())
            rows[row]["saved_model_bytes"] = model_bytes
    print("\n| method | inputs | ONNX file | checked texts | largest difference | same class | "
          "ms/text onnxruntime | ms/text reference |")
    for method, r in rows.items():
        lat = r["latency_ms"]
        print(f"| {method} | {', '.join(r['inputs'])} | {r['file_bytes'] / 2**20:.2f} MiB | "
              f"{r['checked_texts']} | {r['max_abs_diff']:.1e} | "
              f"{100 * r['same_prediction']:.1f} % | {lat['onnxruntime']} | "
              f"{lat[r['reference'].lower()]} ({r['reference']}) |")
    print(f"wrote {write_json('onnx.json', {'rows': rows, 'machine': machine()})}")


if __name__ == "__main__":
    main()
