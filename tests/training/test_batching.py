from __future__ import annotations

import numpy as np

from metacore.training.batching import collate, length_grouped_batches


def test_collate_pads_to_a_multiple_of_eight():
    batch = collate([[1, 2, 3], [4] * 9], pad_id=0)
    assert batch["input_ids"].shape == (2, 16)
    assert batch["attention_mask"].sum().item() == 12
    assert batch["input_ids"][0, 3:].eq(0).all()


def test_length_grouping_covers_everything_once_and_groups_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=1000)
    batches = length_grouped_batches(lengths, 16, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    random_spread = np.mean([lengths[b].max() - lengths[b].min()
                             for b in np.array_split(rng.permutation(1000), 63)])
    assert spread < random_spread / 5  # far less padding than random batches


def test_length_grouping_is_seeded():
    a = length_grouped_batches(list(range(50)), 8, np.random.default_rng(3))
    b = length_grouped_batches(list(range(50)), 8, np.random.default_rng(3))
    assert all((x == y).all() for x, y in zip(a, b))
