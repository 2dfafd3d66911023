"""ONNX export of MiniLM models: file size, largest difference from PyTorch, CPU latency.

    python bench/onnx_export.py

Trains full-finetune (2 epochs) and nearest-centroid on the English support-intents sample at
K = 8 with the bundled MiniLM, saves each model, exports it with ``metacore export`` (the
CLI), which checks onnxruntime against PyTorch on the run's test texts and times both one text
at a time. Writes bench/results/onnx.json.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import ROOT, machine, write_json

SAMPLE = str(ROOT / "sample_data" / "support_intents_en.csv")
RUNS = {"full-finetune": ["--epochs", "2"], "nearest-centroid": []}


def main() -> None:
    from metacore.cli import main as cli

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method, extra in RUNS.items():
            out = Path(tmp) / method
            assert cli(["run", "--data", SAMPLE, "--method", method, "--shots", "8", "--seed",
                        "0", "--device", "cpu", "--save-model", "--out", str(out), "--quiet",
                        *extra]) == 0
            assert cli(["export", str(out), "--format", "onnx", "--check", "1000"]) == 0
            rows[method] = json.loads((out / "onnx" / "onnx.json").read_text())
            rows[method].pop("folder", None)
            model_bytes = sum(f.stat().st_size for f in (out / "model").rglob("*")
                              if f.is_file())
            rows[method]["saved_model_bytes"] = model_bytes
    print("\n| method | ONNX file | checked texts | largest difference | same class | "
          "ms/text onnxruntime | ms/text PyTorch |")
    for method, r in rows.items():
        lat = r["latency_ms"]
        print(f"| {method} | {r['file_bytes'] / 2**20:.1f} MiB | {r['checked_texts']} | "
              f"{r['max_abs_diff']:.1e} | {100 * r['same_prediction']:.1f} % | "
              f"{lat['onnxruntime']} | {lat['pytorch']} |")
    print(f"wrote {write_json('onnx.json', {'rows': rows, 'machine': machine()})}")


if __name__ == "__main__":
    main()
