"""SetFit as a comparison row: the ``setfit`` library on the run's backbone, reporting like any
method, stopping on request, saved and loaded to the same answers; without the optional package
the method is listed, not offered, and running it says how to install it in one sentence."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from metacore.methods import create, load_method, registry
from metacore.training.context import EmbeddingCache, RunContext
from tests.conftest import make_texts, write_csv

needs_setfit = pytest.mark.skipif(importlib.util.find_spec("setfit") is None,
                                  reason="the optional extra metacore[setfit] is not installed")


@needs_setfit
def test_setfit_trains_reports_and_round_trips(tiny, tmp_path):
    train, test = make_texts(3, 4, seed=1), make_texts(3, 3, seed=2)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("setfit", {"max_steps": 3})
    method.fit(train, val=None, ctx=ctx)
    assert [s["step"] for s in ctx.steps] == [1, 2, 3]  # each step is the run's event
    assert ctx.extras["total_steps"] == 3
    proba = method.predict_proba(test.texts, ctx=ctx)
    assert proba.shape == (len(test), 3) and np.allclose(proba.sum(1), 1.0)
    counts = method.parameter_counts()
    assert counts["trainable"] > sum(p.numel() for p in tiny.model.parameters())  # body + head
    assert method.embed(test.texts, ctx=ctx).shape[0] == len(test)
    assert method.extra_results()["setfit"]["steps"] == 3
    method.save(tmp_path / "m")
    loaded = load_method(tmp_path / "m", ctx=ctx)
    assert loaded.classes == method.classes
    assert np.allclose(loaded.predict_proba(test.texts, ctx=ctx), proba, atol=1e-5)
    assert not (tmp_path / "checkpoints").exists()  # its checkpoints went to a scratch folder


@needs_setfit
def test_setfit_stops_within_a_step(tiny):
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    ctx.control.stop()
    method = create("setfit", {"max_steps": 50})
    method.fit(make_texts(3, 4, seed=1), val=None, ctx=ctx)
    assert len(ctx.steps) == 1


def test_setfit_work_counts_its_sentence_pairs():
    from metacore.methods.costs import DataSizes
    from metacore.methods.setfit_method import pair_count

    assert pair_count(40, 5) == 2 * (40 * 39 // 2 - 5 * 28)  # more negative pairs: 1 280
    assert pair_count(16, 2) == 2 * 64  # 56 positive, 64 negative
    spec = registry.get("setfit")
    work = spec.method_cls.work(spec.config_cls(), DataSizes(n_train=40, n_classes=5, n_test=10))
    assert work.train == 2 * 1280 and work.forward == 50
    capped = spec.method_cls.work(spec.config_cls(max_steps=10),
                                  DataSizes(n_train=40, n_classes=5, n_test=10))
    assert capped.train == 2 * 160


@pytest.fixture
def without_setfit(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "setfit" else real(name, *a))


def test_without_the_extra_setfit_is_listed_but_not_offered(without_setfit, tmp_path, capsys):
    from metacore.cli import main

    assert "setfit" in [s.name for s in registry.available()]
    assert "setfit" not in [s.name for s in registry.installed()]
    assert [s.name for s in registry.missing()] == ["setfit"]
    data = write_csv(tmp_path / "d.csv")
    code = main(["run", "--data", data, "--method", "setfit", "--backbone", "tiny",
                 "--shots", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'metacore[setfit]'" in err and "Traceback" not in err
    assert main(["methods"]) == 0
    assert "not installed: pip install 'metacore[setfit]'" in capsys.readouterr().out
