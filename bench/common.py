"""Helpers shared by the benchmark scripts (not tests): data paths, capped test sets, tables."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.browser.server, the app-starting helper
    sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("METACORE_DATASETS", ROOT.parent / "shared" / "datasets"))
# METACORE_BENCH_RESULTS sends a run's JSON elsewhere (a reproduction that must not overwrite
# the recorded figures: bench/compare.py then compares the two).
RESULTS = Path(os.environ.get("METACORE_BENCH_RESULTS", ROOT / "bench" / "results"))


def wait_if_paused() -> None:
    """Between two runs, wait while the file named by ``METACORE_BENCH_PAUSE`` exists, so a
    timing-sensitive measurement can have the CPU to itself without corrupting a run's time."""
    flag = os.environ.get("METACORE_BENCH_PAUSE")
    while flag and Path(flag).exists():
        time.sleep(2)


def dataset_path(name: str) -> str:
    """A sample file name (``sample_data/…``) or a shared benchmark dataset by short name."""
    if (ROOT / name).exists():
        return str(ROOT / name)
    path = SHARED / f"{name}.csv"
    if not path.exists():
        raise SystemExit(f"{path} not found; set METACORE_DATASETS to the datasets folder.")
    return str(path)


def cap_test(prepared, cap: int | None, seed: int = 0):
    """A stratified, seeded subsample of at most ``cap`` test texts (the same for every method
    and training seed), so a 7 600-row test set does not dominate CPU time."""
    test = prepared.split.test
    if not cap or len(test) <= cap:
        return prepared
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(test)), train_size=cap, random_state=seed,
                              stratify=list(test.labels))
    split = dataclasses.replace(prepared.split, test=test.subset(sorted(idx)))
    return dataclasses.replace(prepared, split=split)


def machine() -> dict:
    import torch

    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "date": time.strftime("%Y-%m-%d")}


def write_json(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return path


def mean_sd(values) -> str:
    arr = np.asarray(values, dtype=float)
    if arr.size == 1:  # one seed: no spread to report
        return f"{100 * arr[0]:.1f}"
    return f"{100 * arr.mean():.1f} ({100 * arr.std(ddof=1):.1f})"
