"""Shared fixtures: a tiny random BERT built in memory and small separable text sets."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import random  # noqa: E402

import pytest  # noqa: E402

VOCAB = {
    "sports": "football goal match team coach league score player stadium referee",
    "weather": "rain sunny cloud storm forecast wind snow temperature humid thunder",
    "finance": "stock market bank profit shares investor dividend bond loan inflation",
    "food": "pizza pasta recipe kitchen bake salad soup spicy dessert chef",
}


def make_texts(classes: int = 3, per_class: int = 12, seed: int = 0, words: int = 6):
    """Texts whose words come from a vocabulary per class: separable by any sane method."""
    from metacore.data import TextSet

    rng = random.Random(seed)
    texts, labels = [], []
    for label in list(VOCAB)[:classes]:
        vocab = VOCAB[label].split()
        for _ in range(per_class):
            texts.append(" ".join(rng.choice(vocab) for _ in range(words)))
            labels.append(label)
    return TextSet.from_lists(texts, labels)


def write_csv(path, classes: int = 3, per_class: int = 12, seed: int = 0) -> str:
    """``make_texts`` written to ``path`` as a ``text,label`` CSV; returns the path."""
    data = make_texts(classes, per_class, seed=seed)
    lines = ["text,label"] + [f"{t},{y}" for t, y in zip(data.texts, data.labels, strict=True)]
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def tiny():
    from metacore.backbones import tiny_backbone

    return tiny_backbone()


@pytest.fixture
def ctx(tiny):
    import torch

    from metacore.training.context import EmbeddingCache, RunContext

    torch.manual_seed(0)
    return RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())


@pytest.fixture(scope="session")
def separable():
    """(train, test) with 3 classes."""
    return make_texts(3, 10, seed=1), make_texts(3, 6, seed=2)


@pytest.fixture(scope="session")
def minilm():
    from metacore.backbones import load_backbone

    return load_backbone("minilm")
