"""Every registered method on the bundled sample data with the bundled MiniLM: each must beat
chance by a clear margin. These are the slow tests (tens of seconds per method)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metacore.api import RunSpec, prepare_data, run_experiment
from metacore.methods import available

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EN = str(ROOT / "sample_data" / "support_intents_en.csv")
ZH = str(ROOT / "sample_data" / "finance_news_zh.csv")


@pytest.fixture(scope="module")
def prepared_en():
    return prepare_data(RunSpec(data=EN, method="tfidf-logreg", shots=8, seed=0))


@pytest.mark.parametrize("name", [s.name for s in available()])
def test_method_beats_chance_on_english_intents(name, prepared_en, minilm):
    spec = RunSpec(data=EN, method=name, shots=8, seed=0, device="cpu")
    result = run_experiment(spec, prepared=prepared_en, backbone=minilm)
    assert result.status == "completed", result.error
    chance = 1 / len(prepared_en.classes)  # 9 classes: 0.11
    assert result.metrics["accuracy"] >= 3 * chance, result.metrics
    assert result.metrics["macro_f1"] >= 2.5 * chance, result.metrics
    assert result.parameters["trainable"] > 0


def test_chinese_text_works_and_the_english_backbone_says_so(minilm):
    tfidf = run_experiment(RunSpec(data=ZH, method="tfidf-logreg", shots=16, seed=0))
    assert tfidf.metrics["accuracy"] > 0.5  # 3 classes: chance 0.33
    probe = run_experiment(RunSpec(data=ZH, method="linear-probe", shots=16, seed=0),
                           backbone=minilm)
    assert any("multilingual" in w for w in probe.warnings)
    assert probe.extra["language"]["unknown_token_share"] > 0.2
