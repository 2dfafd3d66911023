"""The K-shot sweep (progress, summary, intervals, its estimate) and adding a class live."""

from __future__ import annotations

import numpy as np
import pytest

from metacore.data import Split
from metacore.estimate import Speed, sweep_seconds
from metacore.metrics import mean_ci95
from metacore.teaching import SweepPoint, add_class, k_shot_sweep, summarise_sweep, sweep_plan
from metacore.teaching.add_class import new_class_set
from metacore.teaching.sweep import crossover
from tests.conftest import make_texts


def test_sweep_yields_progress_and_points(ctx) -> None:
    train, test = make_texts(3, 10, seed=1), make_texts(3, 4, seed=2)
    plan = sweep_plan(["nearest-centroid", "tfidf-logreg"], shots=(1, 2, None), seeds=(0, 1))
    steps = list(k_shot_sweep(plan, (train, test), ctx=ctx))
    points = [s.point for s in steps if s.point is not None]
    assert len(points) == len(plan.runs()) == 12
    assert steps[0].phase == "embedding" and steps[-1].done == 12
    assert {p.n_train for p in points if p.shots == 1} == {3}
    assert {p.n_train for p in points if p.shots is None} == {30}
    again = [s.point for s in k_shot_sweep(plan, (train, test), ctx=ctx) if s.point]
    assert [p.accuracy for p in again] == [p.accuracy for p in points]  # seeded


def test_sweep_runs_each_point_through_the_runner_with_the_validation_part(ctx) -> None:
    """A split with a validation part: each point is the runner's run at that K (its
    K-shot validation sample included), scored on the same test texts."""
    from metacore.run import run
    from metacore.run.adapt import prepared_from_split

    split = Split(train=make_texts(3, 10, seed=1), val=make_texts(3, 3, seed=3),
                  test=make_texts(3, 4, seed=2), strategy="given")
    plan = sweep_plan(["linear-probe"], shots=(2, None), seeds=(0,))
    points = [s.point for s in k_shot_sweep(plan, split, ctx=ctx) if s.point is not None]
    for point, one in zip(points, plan.runs(), strict=True):
        alone = run(plan, one, prepared=prepared_from_split(split, one), backbone=ctx.backbone,
                    project=False)
        assert alone.data["n_val"] == (6 if one.shots == 2 else 9)
        assert point.accuracy == alone.metrics["accuracy"]


def test_sweep_stops_between_fits(ctx) -> None:
    ctx.control.stop()
    plan = sweep_plan(["nearest-centroid"], shots=(1, 2), seeds=(0,))
    steps = list(k_shot_sweep(plan, (make_texts(3, 5), make_texts(3, 2, seed=4)), ctx=ctx))
    assert not [s for s in steps if s.point is not None]


def test_sweep_rejects_unknown_methods() -> None:
    with pytest.raises(ValueError, match="Unknown method"):
        sweep_plan(["nope"])


def test_sweep_estimate_grows_with_data_and_seeds() -> None:
    """The page's estimate: each method's cost model at a measured speed; a text embedded
    once for every frozen-backbone run, none for TF-IDF."""
    split = Split(train=make_texts(3, 40), val=None, test=make_texts(3, 5, seed=1),
                  strategy="given")
    speed = Speed(forward_s=0.01, train_s=0.03, device="cpu", tokens=16)
    methods = ["protonet", "nearest-centroid"]
    small = sweep_seconds(sweep_plan(methods, (2, 4), (0,)), split, speed)
    large = sweep_seconds(sweep_plan(methods, (2, 4, None), (0, 1, 2)), split, speed)
    assert large["protonet"] > small["protonet"] > large["nearest-centroid"] > 0
    warm = sweep_seconds(sweep_plan(methods, (2, 4), (0,)), split, speed, embedded=True)
    assert warm["protonet"] < small["protonet"]  # the first backbone method embeds
    tfidf = sweep_seconds(sweep_plan(["tfidf-logreg"], (2, None), (0,)), split, None)
    assert 0 < tfidf["tfidf-logreg"] < 5


def _point(method: str, shots: int | None, seed: int, acc: float) -> SweepPoint:
    return SweepPoint(method, shots, seed, acc, acc - 0.1, 0.01, 10)


def test_summary_means_and_intervals_over_seeds() -> None:
    accs = [0.5, 0.6, 0.7]
    points = [_point("a", 1, s, x) for s, x in enumerate(accs)]
    points += [_point("a", None, 0, 0.9), _point("b", 1, 0, 0.8)]
    summary = summarise_sweep(points)
    row = summary[(summary["method"] == "a") & (summary["shots"] == "1")].iloc[0]
    mean, ci = mean_ci95(accs)
    assert row["accuracy_mean"] == pytest.approx(mean) and row["accuracy_ci95"] == pytest.approx(ci)
    assert row["macro_f1_mean"] == pytest.approx(mean - 0.1) and row["n"] == 3
    assert summary[summary["method"] == "a"]["shots"].tolist() == ["1", "all"]
    single = summary[(summary["method"] == "a") & (summary["shots"] == "all")].iloc[0]
    assert single["accuracy_ci95"] == 0.0  # one seed: no interval


def test_crossover_finds_where_the_slow_method_catches_up() -> None:
    points = [_point("proto", 1, 0, 0.7), _point("proto", 4, 0, 0.8), _point("proto", 16, 0, 0.85),
              _point("ft", 1, 0, 0.4), _point("ft", 4, 0, 0.7), _point("ft", 16, 0, 0.9)]
    summary = summarise_sweep(points)
    assert crossover(summary, "proto", "ft") == "16"
    assert crossover(summary, "ft", "proto") == "1"


def test_new_class_set_cleans_and_checks() -> None:
    new = new_class_set(" points ", ["a", " ", "b", "a"])
    assert new.texts == ("a", "b") and new.labels == ("points", "points")
    with pytest.raises(ValueError):
        new_class_set("", ["a"])
    with pytest.raises(ValueError):
        new_class_set("x", ["  "])


def test_add_class_rows_and_picture(ctx) -> None:
    train, test = make_texts(3, 4, seed=5), make_texts(3, 3, seed=6)
    new = new_class_set("food", make_texts(4, 4, seed=7).subset(range(12, 16)).texts)
    report = add_class(train, test, new, ctx=ctx, tried=["pizza pasta chef", "goal match"],
                       finetune_seconds=12.0)
    rows = {r.method: r for r in report.rows}
    assert list(rows) == ["nearest-centroid", "anil", "linear-probe", "full-finetune"]
    assert rows["nearest-centroid"].gradient_steps == 0 and rows["anil"].gradient_steps > 0
    assert rows["full-finetune"].estimated and rows["full-finetune"].seconds == 12.0
    for row in report.rows[:-1]:
        assert 0.0 <= row.old_accuracy <= 1.0 and 0.0 <= row.new_accuracy <= 1.0
        assert len(row.tried) == 2 and row.seconds >= 0
    pic = report.picture
    assert (pic["kind"] == "new prototype").sum() == 1 and (pic["kind"] == "tried").sum() == 2
    new_xy = pic[pic["kind"] == "new example"][["x", "y"]].to_numpy().mean(0)
    proto_xy = pic[pic["kind"] == "new prototype"][["x", "y"]].to_numpy()[0]
    np.testing.assert_allclose(new_xy, proto_xy, atol=1e-9)  # the prototype is their mean
    assert list(report.tried.columns) == ["text", "nearest-centroid", "anil", "linear-probe"]


def test_add_class_refits_the_probe_with_the_runner(ctx, monkeypatch) -> None:
    """The linear probe's row comes from the one runner (once on everything, then once per
    left-out example), with the predictions of fitting the method directly."""
    import metacore.run
    from metacore.data import TextSet
    from metacore.methods import registry
    from metacore.teaching.common import fresh_context

    plans, real = [], metacore.run.run
    monkeypatch.setattr(metacore.run, "run", lambda plan, *a, **k: plans.append(plan) or
                        real(plan, *a, **k))
    train, test = make_texts(3, 4, seed=5), make_texts(3, 3, seed=6)
    new = new_class_set("food", make_texts(4, 4, seed=7).subset(range(12, 16)).texts)
    tried = ["pizza pasta chef", "goal match"]
    report = add_class(train, test, new, ctx=ctx, tried=tried)
    assert len(plans) == 1 + len(new) and set(plans[0].methods) == {"linear-probe"}
    direct = registry.create("linear-probe")
    run_ctx = fresh_context(ctx, ctx.seed)
    direct.fit(TextSet(train.texts + new.texts, train.labels + new.labels), val=None,
               ctx=run_ctx)
    row = next(r for r in report.rows if r.method == "linear-probe")
    assert list(row.tried) == direct.predict(tried, ctx=run_ctx)
    old = np.mean([p == y for p, y in zip(direct.predict(list(test.texts), ctx=run_ctx),
                                          test.labels)])
    assert row.old_accuracy == pytest.approx(old)
