"""Adding a method is one file: a toy method written in ``toy_method.py`` is found, from that
file alone, by the CLI, the Train & compare form, the estimates and the contract suite."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from metacore.methods import registry
from tests.conftest import write_csv

MODULE = "tests.methods.toy_method"
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def toy():
    """Import the file (which registers the method); forget it afterwards, so no other test
    sees a method without translations."""
    sys.modules.pop(MODULE, None)
    module = importlib.import_module(MODULE)
    yield module.NAME
    registry.unregister(module.NAME)
    sys.modules.pop(MODULE, None)


def test_the_registry_has_it_with_what_its_file_declares(toy) -> None:
    spec = registry.get(toy)
    assert (spec.family, spec.colour, spec.uses_backbone) == ("classical", "#0f766e", False)
    [smoothing, lowercase] = spec.config_cls.fields()
    assert (smoothing.label, smoothing.key) == ("smoothing", "setting.toy-bayes.smoothing")
    assert lowercase.advanced and "Refund" in lowercase.help


def test_the_cli_lists_it_and_runs_it(toy, tmp_path, capsys) -> None:
    from metacore import cli

    assert cli.main(["methods", "--verbose"]) == 0
    listed = capsys.readouterr().out
    assert "toy-bayes" in listed and "smoothing=1.0" in listed
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "toy-bayes: smoothing, lowercase" in " ".join(capsys.readouterr().out.split())
    data = write_csv(tmp_path / "d.csv", classes=3, per_class=12)
    out = tmp_path / "out"
    code = cli.main(["run", "--data", data, "--method", toy, "--set", "smoothing=0.5",
                     "--shots", "6", "--out", str(out), "--quiet"])
    assert code == 0
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["method"] == toy and result["status"] == "completed"
    assert result["config"]["method"]["smoothing"] == 0.5
    assert "--set smoothing=0.5" in result["command"]
    assert result["metrics"]["accuracy"] > 0.5  # separable words: well above chance (1/3)


def test_the_estimates_read_its_cost_model(toy) -> None:
    from metacore import estimate, memory
    from metacore.methods.costs import DataSizes

    sizes = DataSizes(n_train=100, n_test=20, n_classes=4)
    assert estimate.estimate_seconds(toy, {}, None, sizes) == pytest.approx(0.002)
    need = memory.estimate_memory(registry.get(toy).method_cls, {}, None, uses_backbone=False)
    assert need["bytes"] == memory.OVERHEAD and need["trainable_params"] == 0


def test_the_form_offers_it_with_its_settings(toy, tmp_path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("METACORE_HOME", str(tmp_path / "home"))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/train.py").run()
    methods = at.multiselect(key="train_methods")
    assert "toy-bayes · classical" in methods.options
    methods.set_value([toy]).run()
    assert not at.exception, [e.value for e in at.exception]
    field = at.number_input(key=f"cfg_{toy}_smoothing")
    assert field.label == "smoothing" and "never seen with a class" in field.help
    assert any("toy method in one file" in c.value for c in at.caption)  # its description
    table = at.dataframe[0].value  # the estimates
    assert table["method"].tolist() == [toy] and table["time per run"][0].startswith("~")


def test_the_contract_suite_runs_on_it(toy, separable, ctx, tmp_path) -> None:
    from tests.methods import test_contract as contract

    trained: dict = {}
    contract.test_probabilities_are_well_formed_and_beat_chance(toy, separable, ctx, trained)
    contract.test_prediction_leaves_weights_unchanged(toy, separable, ctx, trained)
    contract.test_save_load_round_trip(toy, separable, ctx, trained, tmp_path)
    contract.test_parameter_counts(toy, separable, ctx, trained)
