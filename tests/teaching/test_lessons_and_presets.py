"""The Learn page's computations, the workshop presets and the interface strings."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from metacore import presets
from metacore.methods import registry
from metacore.teaching import draw_episode, lessons, toy
from tests.conftest import make_texts

ROOT = Path(__file__).resolve().parents[2]


def fake_embed(texts):
    """Deterministic unit vectors from each text's words (a stand-in for the backbone)."""
    out = np.zeros((len(texts), 16))
    for i, text in enumerate(texts):
        for word in text.split():
            out[i, sum(map(ord, word)) % 16] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def lesson():
    return lessons.prepare_lesson(make_texts(4, 12), fake_embed, per_class=10, max_classes=3)


def test_prepare_lesson_caps_and_splits(lesson) -> None:
    assert len(lesson.textset.classes) == 3 and lesson.dropped_classes == 1
    assert len(lesson.textset) == 30 and lesson.embeddings.shape == (30, 16)
    assert not set(lesson.train) & set(lesson.test)
    assert len(lesson.train) + len(lesson.test) == 30


def test_kshot_view_and_head_curve(lesson) -> None:
    view = lessons.lesson_kshot(lesson, 2)
    assert view.labelled.sum() == 6 and 0 <= view.accuracy_k <= 1
    curve = lessons.lesson_head_curve(lesson, 2)
    assert set(curve["part"]) == {"train", "test"} and curve["epoch"].max() == 60
    first, last = (curve[(curve.part == "train") & (curve.epoch == e)].loss.item()
                   for e in (0, 60))
    assert last < first


def test_class_map_and_episode(lesson) -> None:
    cmap = lessons.class_map(lesson.textset, lesson.embeddings)
    assert cmap.xy.shape == (30, 2) and cmap.centre_xy.shape == (3, 2)
    episode = draw_episode(lesson.textset, n_way=3, k_shot=2, n_query=2, seed=0)
    assert lessons.lesson_episode(lesson, episode).distances.shape == (6, 3)


def test_toy_meta_learning_is_deterministic() -> None:
    data = make_texts(4, 12)
    feats = fake_embed(list(data.texts))
    base_rows = [i for i, y in enumerate(data.labels) if y in ("sports", "weather")]
    novel_rows = [i for i in range(len(data)) if i not in base_rows]
    settings = toy.ToySettings(shape=(2, 2, 3), outer_steps=5, eval_episodes=3)
    args = (data.subset(base_rows), feats[base_rows], data.subset(novel_rows),
            feats[novel_rows], settings)
    one, two = toy.toy_meta_learning(*args), toy.toy_meta_learning(*args)
    assert len(one.outer) == 5 and set(one.inner["when"]) == {"before", "after"}
    assert len(one.inner) == 2 * (settings.inner_steps + 1)
    np.testing.assert_allclose(one.inner["query_loss"], two.inner["query_loss"])
    assert lessons.lesson_toy(lessons.prepare_lesson(make_texts(3, 6), fake_embed)) is None


def test_presets_are_complete_and_valid() -> None:
    assert {"sweep-1min", "compare-2min", "meta-5min"} <= set(presets.PRESETS)
    assert {p.machine for p in presets.PRESETS.values()} == {"cpu", "gpu"}
    for name, preset in presets.PRESETS.items():
        assert preset.name == name and preset.methods and preset.seconds > 0
        for method, settings in preset.plan.methods.items():
            registry.create(method, dict(settings))  # valid settings
        assert preset.kind in presets.KINDS and preset.plan.seeds
    sweep = presets.get("sweep-1min")
    assert sweep.plan.shots[-1] is None and sweep.kind == "sweep"
    assert [p.name for p in presets.for_kind("sweep", "cpu")] == ["sweep-1min"]
    with pytest.raises(ValueError, match="Unknown preset"):
        presets.get("nope")


def test_every_interface_string_exists_in_both_languages() -> None:
    from ui.i18n import strings, t

    en, zh = strings("en"), strings("zh")
    assert set(en) == set(zh), sorted(set(en) ^ set(zh))[:10]
    for key in en:  # placeholders agree, so a translation never drops a value
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key
    used = set()
    files = [*ROOT.glob("ui/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "app.py"]
    for path in files:
        used |= set(re.findall(r"""\bt\(\s*f?["']([\w.\-]+)["']""", path.read_text()))
    missing = sorted(k for k in used if k not in en and "{" not in k)
    assert not missing, missing
    assert t("common.seconds", lang="zh", value=3) == zh["common.seconds"].format(value=3)
    assert t("no.such.key") == "no.such.key"
