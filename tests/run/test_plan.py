"""``ExperimentPlan``: one type for what to run, checked when made, converted to and from a dict,
JSON and the ``metacore`` command line, and read back from results written before plans."""

from __future__ import annotations

import itertools
import json

import pytest

from metacore.plan import (
    DataSource,
    EpisodeShape,
    ExperimentPlan,
    PlannedRun,
    from_legacy,
    legacy_dict,
    plan_of_result,
)
from metacore.plan.command import from_command, to_command

# What the removed ``RunSpec.to_dict()`` / ``EpisodicSpec.to_dict()`` wrote into results'
# ``config.run``, and the commands their ``to_command()`` gave (produced by that code).
OLD_ADAPT = {"data": "my data.csv", "method": "full-finetune", "backbone": "tiny",
             "method_config": {"epochs": 3, "batch_size": 8, "lr": 0.0001}, "test": "t.csv",
             "text_col": "body", "label_col": "tag", "shots": 8, "seed": 3, "device": "cpu",
             "allow_download": True, "test_size": 0.3, "val_size": 0.15,
             "use_split_column": False, "save_model": True, "out": "out dir"}
OLD_ADAPT_COMMAND = (
    "metacore run --data 'my data.csv' --method full-finetune --backbone tiny --shots 8 "
    "--seed 3 --test-size 0.3 --val-size 0.15 --ignore-split-column --test t.csv --text-col "
    "body --label-col tag --out 'out dir' --device cpu --allow-download --save-model --set "
    "batch_size=8 --set epochs=3 --set lr=0.0001")
OLD_DEFAULTS = {"data": "d.csv", "method": "tfidf-logreg", "backbone": "minilm",
                "method_config": {}, "test": None, "text_col": None, "label_col": None,
                "shots": None, "seed": 0, "device": "auto", "allow_download": False,
                "test_size": 0.2, "val_size": 0.1, "use_split_column": True,
                "save_model": False, "out": None}
OLD_DEFAULTS_COMMAND = ("metacore run --data d.csv --method tfidf-logreg --backbone minilm "
                        "--shots all --seed 0")
OLD_EPISODIC = {"data": "r.csv", "method": "protonet", "backbone": "tiny",
                "method_config": {"val_episodes": 1}, "text_col": None, "label_col": None,
                "n_way": 3, "k_shot": 2, "n_query": 4, "meta_train_episodes": 7,
                "test_episodes": 20, "seed": 2, "classes_split": "random", "device": "cpu",
                "allow_download": False, "out": None, "save_model": True}
OLD_EPISODIC_COMMAND = (
    "metacore episodic --data r.csv --method protonet --backbone tiny --ways 3 --shots 2 "
    "--queries 4 --test-episodes 20 --seed 2 --classes-split random --meta-train-episodes 7 "
    "--device cpu --save-model --set val_episodes=1")


def adapt(**kw) -> ExperimentPlan:
    values = {"methods": {"full-finetune": {"epochs": 3, "batch_size": 8}},
              "data": DataSource(path="data.csv"), "backbone": "tiny", "shots": (8,),
              "device": "cpu", **kw}
    return ExperimentPlan(**values)


PLANS = {
    "adapt": adapt(),
    "adapt, every choice": adapt(
        data=DataSource(path="my data.csv", test_path="test file.csv", text_col="body",
                        label_col="tag", test_size=0.25, val_size=0.15,
                        use_split_column=False),
        allow_download=True, save_model=True, out="out dir", seeds=(3,)),
    "sweep": adapt(methods={"tfidf-logreg": {}, "linear-probe": {}}, shots=(1, 2, 4, None),
                   seeds=(0, 1, 2, 3)),
    "several methods, per-method settings": adapt(methods={
        "full-finetune": {"epochs": 2, "lr": 1e-4},
        "lora": {"epochs": 4, "rank": 4},
        "maml": {"adapt": "head", "first_order": True}}, seeds=(0, 2)),
    "unseen": ExperimentPlan(
        methods={"protonet": {"val_episodes": 1}, "nearest-centroid": {}}, protocol="unseen",
        data=DataSource(path="reuters.csv", classes_split="meta_train=a,b;meta_val=c;novel=d,e"),
        backbone="tiny", episodes=EpisodeShape(n_way=3, k_shot=2, n_query=4, test_episodes=20,
                                               meta_episodes=7), seeds=(1,), device="cpu"),
    "init seeds": adapt(seeds=(0,), init_seeds=(1, 2, 3)),
    "split seed": adapt(data=DataSource(path="data.csv", split_seed=7), seeds=(0, 1, 5)),
}


@pytest.mark.parametrize("name", list(PLANS))
def test_round_trips_through_dict_json_and_the_command_line(name: str) -> None:
    plan = PLANS[name]
    assert ExperimentPlan.from_dict(plan.to_dict()) == plan
    assert ExperimentPlan.from_json(plan.to_json()) == plan
    assert json.loads(plan.to_json())["version"] == 1
    command = to_command(plan)
    assert from_command(command) == plan, command
    assert to_command(from_command(command)) == command
    assert plan.key() == from_command(command).key()


def test_the_command_line_says_each_choice() -> None:
    sweep = to_command(PLANS["sweep"])
    assert sweep.startswith("metacore run ") and "--shots 1,2,4,all" in sweep
    assert "--seed 0-3" in sweep and "--method tfidf-logreg,linear-probe" in sweep
    several = to_command(PLANS["several methods, per-method settings"])
    for item in ("full-finetune.epochs=2", "full-finetune.lr=0.0001", "lora.rank=4",
                 "maml.adapt=head", "maml.first_order=True"):
        assert f"--set {item}" in several
    assert "--seed 0,2" in several
    unseen = to_command(PLANS["unseen"])
    assert unseen.startswith("metacore episodic ") and "--ways 3 --shots 2 --queries 4" in unseen
    assert "--meta-train-episodes 7" in unseen
    assert "--init-seed 1-3" in to_command(PLANS["init seeds"])
    assert "--split-seed 7" in to_command(PLANS["split seed"])
    assert "--init-seed" not in to_command(adapt())
    assert "--split-seed" not in to_command(adapt())


def test_the_unseen_protocol_has_its_own_shots_and_alias() -> None:
    plan = PLANS["unseen"]
    assert plan.protocol == "episodic" and plan.kind == "episodic"
    assert plan.shots == (None,)  # episodes have their own K
    settings = plan.method_settings(plan.runs()[0])
    assert settings == {"n_way": 3, "k_shot": 2, "n_query": 4, "meta_episodes": 7,
                        "val_episodes": 1}
    # a method's own setting wins over the plan's episode shape; methods without one get none
    own = ExperimentPlan(methods={"protonet": {"n_way": 4}}, protocol="episodic",
                         episodes=EpisodeShape(n_way=3))
    assert own.method_settings(own.runs()[0])["n_way"] == 4
    assert plan.method_settings(plan.runs()[1]) == {}  # nearest-centroid: no episode settings


def test_a_per_method_set_reaches_only_that_method() -> None:
    plan = from_command("metacore run --data d.csv --method full-finetune,lora --backbone tiny "
                        "--set lora.rank=4 --set epochs=2 --lr 0.001")
    assert plan.methods == {"full-finetune": {"epochs": 2, "lr": 0.001},
                            "lora": {"rank": 4, "epochs": 2, "lr": 0.001}}
    with pytest.raises(ValueError, match="names a method that is not in this run"):
        from_command("metacore run --data d.csv --method lora --set maml.adapt=head")
    with pytest.raises(ValueError, match="does not apply to"):
        from_command("metacore run --data d.csv --method tfidf-logreg --epochs 3")


BAD = {
    "unknown method": (lambda: adapt(methods={"nope": {}}), "Unknown method 'nope'"),
    "bad setting": (lambda: adapt(methods={"full-finetune": {"epochs": 0}}),
                    "epochs must be at least"),
    "unknown setting": (lambda: adapt(methods={"tfidf-logreg": {"epochs": 3}}),
                        "Unknown setting"),
    "negative seed": (lambda: adapt(seeds=(0, -1)), "Seeds are whole numbers from 0, not -1"),
    "negative init seed": (lambda: adapt(init_seeds=(-2,)), "not -2"),
    "negative split seed": (lambda: adapt(data=DataSource(path="d.csv", split_seed=-1)),
                            "not -1"),
    "bad device": (lambda: adapt(device="tpu"), "The device must be one of"),
    "bad cuda index": (lambda: adapt(device="cpu:1"), "The device must be one of"),
    "zero shots": (lambda: adapt(shots=(0,)), "K must be between 1"),
    "shots text": (lambda: adapt(shots=("eight",)), "--shots must be a positive number"),
    "no shots": (lambda: adapt(shots=()), "Give at least one K"),
    "no seeds": (lambda: adapt(seeds=()), "Give at least one seed"),
    "bad protocol": (lambda: adapt(protocol="transductive"), "The protocol must be one of"),
    "bad test share": (lambda: adapt(data=DataSource(path="d.csv", test_size=1.5)),
                       "The test share must be between 0 and 1"),
    "bad episode": (lambda: adapt(episodes=EpisodeShape(n_way=1)), "n_way must be at least 2"),
    "unknown key": (lambda: ExperimentPlan.from_dict({"methods": {"tfidf-logreg": {}},
                                                      "epochs": 3}),
                    "A plan has no settings called 'epochs'"),
    "bad seeds text": (lambda: from_command("metacore run --data d.csv --method tfidf-logreg "
                                            "--seed 0-x"), "Seeds are whole numbers like"),
    "not a command": (lambda: from_command("metacore validate d.csv"),
                      "Not a metacore run or episodic command"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_plan_raises_one_clear_value_error(name: str) -> None:
    make, words = BAD[name]
    with pytest.raises(ValueError) as caught:
        make()
    text = str(caught.value)
    assert words in text
    assert "\n" not in text and "Traceback" not in text
    assert text.rstrip().endswith((".", ")")), text  # a sentence


def test_runs_go_by_k_then_seed_then_init_seed_then_method() -> None:
    plan = adapt(methods={"tfidf-logreg": {}, "nearest-centroid": {}}, shots=(2, None),
                 seeds=(0, 1), init_seeds=(5, 6))
    expected = [(k, seed, init, method) for k, seed, init, method in itertools.product(
        (2, None), (0, 1), (5, 6), ("tfidf-logreg", "nearest-centroid"))]
    assert [(r.shots, r.seed, r.init_seed, r.method) for r in plan.runs()] == expected
    assert len(plan.runs()) == 16 and plan.kind == "sweep"
    # without init seeds each run's init seed is its data seed
    assert [(r.seed, r.init_seed) for r in adapt(seeds=(0, 1)).runs()] == [(0, 0), (1, 1)]
    assert adapt().kind == "compare"


def test_only_gives_the_plan_of_one_run() -> None:
    plan = adapt(methods={"tfidf-logreg": {}, "full-finetune": {"epochs": 2}}, shots=(2, 4),
                 seeds=(0, 1), init_seeds=(0, 3))
    run = plan.runs()[-1]
    assert run == PlannedRun("full-finetune", {"epochs": 2}, 4, 1, 3)
    assert run.key == "full-finetune-k4-s1-i3"
    single = plan.only(run)
    assert single.runs() == [run]
    assert (single.shots, single.seeds, single.init_seeds) == ((4,), (1,), (3,))
    same = plan.only(PlannedRun("tfidf-logreg", {}, None, 2, 2))
    assert same.init_seeds is None and same.runs()[0].key == "tfidf-logreg-kall-s2"


@pytest.mark.parametrize("plan", [
    adapt(seeds=(3,)),
    adapt(data=DataSource(path="d.csv", test_path="t.csv", text_col="x", label_col="y",
                          test_size=0.3, val_size=0.0, use_split_column=False, split_seed=4),
          shots=(None,), init_seeds=(9,), allow_download=True, save_model=True, out="o"),
    ExperimentPlan(methods={"protonet": {"val_episodes": 1}}, protocol="episodic",
                   data=DataSource(path="r.csv", classes_split="random"), backbone="tiny",
                   episodes=EpisodeShape(3, 2, 4, 20, 7), seeds=(2,), init_seeds=(5,)),
], ids=["adapt", "adapt, every choice", "episodic"])
def test_legacy_dict_round_trip(plan: ExperimentPlan) -> None:
    flat = legacy_dict(plan)
    assert flat["method"] == next(iter(plan.methods)) and flat["seed"] == plan.seeds[0]
    assert from_legacy(flat, plan.protocol) == plan
    assert from_legacy(json.loads(json.dumps(flat)), plan.protocol) == plan


@pytest.mark.parametrize(("old", "protocol", "command"), [
    (OLD_ADAPT, "adapt", OLD_ADAPT_COMMAND),
    (OLD_DEFAULTS, "adapt", OLD_DEFAULTS_COMMAND),
    (OLD_EPISODIC, "episodic", OLD_EPISODIC_COMMAND),
], ids=["adapt", "defaults", "episodic"])
def test_an_old_result_without_a_plan_gives_the_command_it_always_had(old, protocol,
                                                                      command) -> None:
    plan = plan_of_result({"method": {}, "run": old}, protocol)
    assert plan is not None and plan.protocol == protocol
    assert to_command(plan) == command
    # its flat dict says the same as before (the keys it had, and the init seed it implied)
    flat = legacy_dict(plan)
    assert {k: flat[k] for k in old} == old
    assert flat["init_seed"] == old["seed"]
    # the plan stored with newer results wins over the flat dict
    newer = {"run": old, "plan": adapt(seeds=(9,)).to_dict()}
    assert "--seed 9" in to_command(plan_of_result(newer, protocol))


def test_an_unreadable_old_result_gives_no_plan() -> None:
    assert plan_of_result({}) is None
    assert plan_of_result({"run": {"data": "d.csv", "method": "no-such-method"}}) is None
    assert plan_of_result({"plan": {"methods": [{"name": "tfidf-logreg"}], "seeds": [-1]}}) \
        is None
