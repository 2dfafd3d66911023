"""The bad-file corpus (tests/data/make_bad_files.py), loaded by path for any import mode."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "data" / "make_bad_files.py"


def load():
    name = "make_bad_files"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


corpus = load()
BAD = corpus.BAD_DIR
CASES = corpus.CASES


def case_id(case) -> str:
    return f"{case.name}{sorted(case.load)}" if case.load else case.name


def cli_args(case) -> list[str]:
    """``metacore validate`` arguments for a corpus case."""
    args = ["validate", str(BAD / case.name)]
    if "text_col" in case.load:
        args += ["--text-col", case.load["text_col"]]
    if "label_col" in case.load:
        args += ["--label-col", case.load["label_col"]]
    if case.k_shot:
        args += ["--shots", str(case.k_shot)]
    return args
