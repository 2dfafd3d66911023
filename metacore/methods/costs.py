"""The words a method's cost model is written in: data sizes in, encoder passes out.

Each method class says what one run costs (``Method.work``: texts through the encoder, forward
only and forward + backward, plus fixed seconds) and what it keeps in memory
(``Method.memory_profile`` and ``Method.trainable_parameters``), as functions of its settings
and the data. ``metacore.estimate`` turns passes into seconds with the speed it measures on the
device, ``metacore.memory`` turns the profile into bytes; the forms, the teaching pages and
the queue all read those two, so a method's costs live in its own file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataSizes:
    """What a cost model needs to know about the data of one run.

    Attributes:
        n_train: Texts trained on (the K-shot sample; the base classes' texts when episodic).
        n_val: Validation texts (0: none).
        n_test: Texts to predict (adapt) or novel-class texts (episodic).
        n_classes: Classes trained on.
        per_class: Texts of the smallest training class (default: ``n_train // n_classes``).
        protocol: "adapt" or "episodic".
        test_episodes: Episodic only: test episodes, each ``n_way`` classes of ``k_shot``
            support and ``n_query`` query texts.
    """

    n_train: int
    n_val: int = 0
    n_test: int = 0
    n_classes: int = 2
    per_class: int | None = None
    protocol: str = "adapt"
    test_episodes: int = 0
    n_way: int = 0
    k_shot: int = 0
    n_query: int = 0

    @property
    def smallest_class(self) -> int:
        if self.per_class is not None:
            return self.per_class
        return max(1, self.n_train // max(1, self.n_classes))

    @property
    def support_texts(self) -> int:
        """Support texts of one test episode."""
        return self.n_way * self.k_shot

    @property
    def episode_texts(self) -> int:
        return self.n_way * (self.k_shot + self.n_query)


@dataclass(frozen=True)
class Work:
    """Texts through the encoder: forward only, and forward + backward; fixed seconds."""

    forward: float = 0.0
    train: float = 0.0
    fixed_s: float = 0.0
    episodes: int = 0  # meta-training episodes, for methods that have them

    def seconds(self, speed: object | None, factor: float = 1.0) -> float:
        """Seconds at ``speed`` (``metacore.estimate.Speed``: seconds per text forward and
        forward + backward); without a speed only the fixed part is known."""
        if speed is None:
            return self.fixed_s
        return self.fixed_s + factor * (self.forward * speed.forward_s
                                        + self.train * speed.train_s)

    def __add__(self, other: Work) -> Work:
        return Work(self.forward + other.forward, self.train + other.train,
                    self.fixed_s + other.fixed_s, self.episodes + other.episodes)


@dataclass(frozen=True)
class ModelShape:
    """The backbone's size, for memory estimates."""

    params: int
    hidden: int
    layers: int
    heads: int
    float_bytes: int = 4


@dataclass(frozen=True)
class MemoryProfile:
    """What a method keeps while it trains, besides the shared backbone.

    Attributes:
        private_copy: It trains its own copy of the encoder (False: frozen, shared).
        optimizer_states: Floats per trainable parameter in the optimiser (AdamW: 2).
        activation_factor: Activations kept, in forward passes of one batch.
        second_order_factor: How much differentiating through gradients multiplies the
            graph (MAML), for the first-order fallback.
        batch_texts: Texts per step (None: the batch size or the episode's texts).
    """

    private_copy: bool = True
    optimizer_states: int = 2
    activation_factor: float = 1.0
    second_order_factor: float = 1.0
    batch_texts: int | None = None
