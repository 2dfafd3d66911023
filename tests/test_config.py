from __future__ import annotations

from dataclasses import dataclass

import pytest

from metacore.config import MethodConfig, setting
from metacore.methods import available


@dataclass
class DemoConfig(MethodConfig):
    lr: float = setting(0.1, "Step size.", minimum=0.0, maximum=1.0)
    steps: int = setting(3, "How many.", minimum=1)
    mode: str = setting("a", "Which.", choices=("a", "b"), advanced=True)
    flag: bool = setting(False, "Whether.")


def test_round_trip_and_coercion_from_cli_strings():
    cfg = DemoConfig.from_dict({"lr": "0.5", "steps": "7", "mode": "b", "flag": "yes"})
    assert (cfg.lr, cfg.steps, cfg.mode, cfg.flag) == (0.5, 7, "b", True)
    assert DemoConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "values, message",
    [({"lr": 2.0}, "at most"), ({"steps": 0}, "at least"), ({"mode": "z"}, "one of"),
     ({"nope": 1}, "Unknown setting"), ({"steps": "many"}, "must be a int")],
)
def test_bad_values_give_one_clear_sentence(values, message):
    with pytest.raises(ValueError, match=message):
        DemoConfig.from_dict(values)


def test_fields_carry_help_and_ui_hints():
    info = {f.name: f for f in DemoConfig.fields()}
    assert info["mode"].choices == ("a", "b") and info["mode"].advanced
    assert info["lr"].help == "Step size." and info["lr"].maximum == 1.0


@pytest.mark.parametrize("spec", available(), ids=lambda s: s.name)
def test_every_registered_setting_has_help(spec):
    assert spec.description
    for f in spec.config_cls.fields():
        assert f.help.strip(), f"{spec.name}.{f.name} has no help text"
    default = spec.config_cls()
    assert spec.config_cls.from_dict(default.to_dict()) == default
