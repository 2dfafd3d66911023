"""Which seed drives what: the data seed and the initialisation seed, and their named streams.

A run has two seeds (``metacore.plan``):

* the **data seed** draws the train / validation / test split (unless the plan fixes the split
  with its own ``split_seed``), the K examples per class, the unseen-class protocol's class
  split and its test episodes, and the 2-D projection's sample of test texts;
* the **init seed** drives everything a method draws while it trains: ``torch``'s weight
  initialisation and dropout (``seed_everything``), the order of training batches, the
  meta-training and validation episodes, the order of support texts in an inner loop.

By default the init seed equals the data seed (one ``--seed``, as before), so holding the data
fixed while repeating training is ``--seed 0 --init-seed 1``, ``2``, ...

Each random stream is its seed plus a fixed offset, named here. The offsets are the ones the
methods used before they were gathered here, so every earlier command still reproduces its
numbers; that is also why two streams can coincide (``validation_cut`` of the data seed and
``batch_order`` of the init seed, both +1, when the two seeds are equal), which they always did.
"""

from __future__ import annotations

import numpy as np

# streams of the data seed
VALIDATION_CUT = 1  # carving the validation part out of the training split
TEST_EPISODES = 7919  # the unseen-class protocol's test episodes
# streams of the init seed
BATCH_ORDER = 1  # shuffling training batches (fine-tuning, LoRA)
META_EPISODES = 101  # meta-training episodes
VALIDATION_EPISODES = 202  # meta-validation episodes
SUPPORT_ORDER = 303  # minibatch order of a large support set in an inner loop

STREAMS = {"validation_cut": VALIDATION_CUT, "test_episodes": TEST_EPISODES,
           "batch_order": BATCH_ORDER, "meta_episodes": META_EPISODES,
           "validation_episodes": VALIDATION_EPISODES, "support_order": SUPPORT_ORDER}


def derive(seed: int, stream: str) -> int:
    """The seed of a named stream (``STREAMS``) of ``seed``."""
    return int(seed) + STREAMS[stream]


def rng(seed: int, stream: str) -> np.random.Generator:
    """A numpy generator for a named stream of ``seed``."""
    return np.random.default_rng(derive(seed, stream))
