"""Shared machinery of the episodic meta-learners (protonet, MAML, FOMAML, ANIL, Reptile).

Every one of them keeps a private copy of the backbone's encoder, meta-trains it on episodes
through the one loop (``run_loop``; an episode is a batch), and classifies with a *prototype
head*: class prototypes ``p_c`` (mean support embeddings) turned into a linear layer,
``W_c = 2 p_c``, ``b_c = -||p_c||^2`` for squared Euclidean distance (softmax over
``-||f - p_c||^2`` equals softmax over ``2 f.p_c - ||p_c||^2``, since ``||f||^2`` is the same for
every class), or ``W_c = s p_c / ||p_c||``, ``b_c = 0`` over L2-normalised features for cosine
similarity with scale ``s``. A linear head works for any number of ways, so the same trained
model serves N-way test episodes and the user's C classes in the adapt protocol, and saves in
the same ``encoder + head.safetensors`` format as the fine-tuning methods.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from metacore.backbones.base import Backbone
from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.data.episodes import (
    Episode,
    episode_findings,
    episode_labels,
    fitted_shape,
    sample_episodes,
)
from metacore.messages import msg
from metacore.methods.base import Method, softmax
from metacore.methods.costs import DataSizes, ModelShape, Work
from metacore.methods.heads import count_parameters, restore_method, save_encoder_head
from metacore.training.batching import collate
from metacore.training.context import RunContext
from metacore.training.loop import run_loop

DISTANCES = ("euclidean", "cosine")


@dataclass
class EpisodicConfig(MethodConfig):
    """Settings every episodic meta-learner shares (field names follow the field's vocabulary)."""

    scope = "episodic"

    meta_episodes: int = setting(100, "Training episodes (tasks) to meta-train on; 0 skips "
                                 "meta-training.", minimum=0, maximum=100_000)
    n_way: int = setting(5, "Classes per training episode.", minimum=2, maximum=100)
    k_shot: int = setting(5, "Labelled support examples per class in a training episode.",
                          minimum=1, maximum=100)
    n_query: int = setting(5, "Query examples per class that each training episode is scored "
                           "on.", minimum=1, maximum=100)
    lr: float = setting(2e-5, "Outer (meta) learning rate of the encoder.", minimum=0.0,
                        maximum=1.0)
    max_length: int = setting(64, "Longest text in tokens; longer texts are cut (shorter is "
                              "faster).", minimum=8, maximum=512, advanced=True)
    eval_every: int = setting(50, "Episodes between evaluations on validation episodes.",
                              minimum=1, advanced=True)
    val_episodes: int = setting(10, "Validation episodes per evaluation (0 = none).",
                                minimum=0, advanced=True)
    grad_clip: float = setting(1.0, "Largest gradient norm per meta-update (0 = no clipping).",
                               minimum=0.0, advanced=True)
    adapt_passes: int = setting(10, "When adapting to your own classes, meta-train for at most "
                                "this many passes over the training texts (the compute budget "
                                "of 10 fine-tuning epochs), so small data stays fast.",
                                minimum=1, maximum=1000, advanced=True)


@dataclass(frozen=True)
class Schedule:
    """The meta-training a small training set allows in the adapt protocol: the episode shape
    fitted to its classes and the number of episodes within the ``adapt_passes`` budget."""

    classes: tuple[str, ...]
    n_way: int
    k_shot: int
    n_query: int
    episodes: int

    @property
    def texts(self) -> int:
        return self.n_way * (self.k_shot + self.n_query)


def adapt_schedule(config: EpisodicConfig, train: TextSet) -> Schedule | None:
    """What ``EpisodicMethod.fit`` will meta-train on ``train`` (None: too few examples per
    class for any episode). The estimates and the form read this same function."""
    shape = fitted_shape(train, config.n_way, config.k_shot, config.n_query)
    if shape is None:
        return None
    classes, n_way, k, q = shape
    # The same compute budget as fine-tuning: a few passes over the texts, not hundreds.
    budget = -(-config.adapt_passes * len(train) // (n_way * (k + q)))
    episodes = min(config.meta_episodes, max(10, budget)) if config.meta_episodes else 0
    return Schedule(tuple(classes), n_way, k, q, episodes)


def sized_textset(sizes: DataSizes) -> TextSet:
    """A stand-in training set of ``sizes`` (classes of equal size, the smallest one as given)
    for cost models that need class counts before the data is sampled."""
    per = [sizes.smallest_class] + [max(sizes.smallest_class, sizes.n_train // max(
        1, sizes.n_classes))] * (max(1, sizes.n_classes) - 1)
    labels = tuple(f"c{i}" for i, n in enumerate(per) for _ in range(n))
    return TextSet(("",) * len(labels), labels)


@dataclass
class EpisodeBatch:
    """One episode ready for the model: support rows first, then query rows, padded together."""

    input_ids: torch.Tensor  # (S+Q, T)
    attention_mask: torch.Tensor  # (S+Q, T)
    y_support: torch.Tensor  # (S,)
    y_query: torch.Tensor  # (Q,)
    n_way: int
    classes: tuple[str, ...] = ()  # the episode's classes, in the order of the label ids

    @property
    def n_support(self) -> int:
        return int(self.y_support.shape[0])


def make_batch(ids: dict[int, list[int]], textset: TextSet, episode: Episode, pad_id: int,
               device: torch.device) -> EpisodeBatch:
    """Collate support and query together: one forward pass per episode."""
    ys, yq = episode_labels(textset, episode)
    enc = collate([ids[i] for i in (*episode.support, *episode.query)], pad_id, device)
    return EpisodeBatch(enc["input_ids"], enc["attention_mask"],
                        torch.as_tensor(ys, device=device), torch.as_tensor(yq, device=device),
                        episode.n_way, tuple(episode.classes))


def proto_head(feats: torch.Tensor, labels: torch.Tensor, n_classes: int, *,
               distance: str = "euclidean", scale: float = 10.0,
               extra: torch.Tensor | None = None, extra_weight: float = 0.0
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Prototype head (W (C, H), b (C,)) from support features (S, H) and labels (S,);
    ``extra`` (C, H), one more vector per class (its name's embedding), joins each class mean
    with weight ``extra_weight`` (as that many support texts)."""
    onehot = nn.functional.one_hot(labels, n_classes).to(feats.dtype)  # (S, C)
    sums, counts = onehot.T @ feats, onehot.sum(0)
    if extra is not None and extra_weight > 0:
        sums, counts = sums + extra_weight * extra.to(feats.dtype), counts + extra_weight
    protos = sums / counts.clamp(min=1e-6).unsqueeze(1)  # (C, H)
    if distance == "cosine":
        weight = scale * nn.functional.normalize(protos, dim=-1)
        return weight, torch.zeros(n_classes, dtype=feats.dtype, device=feats.device)
    return 2 * protos, -(protos * protos).sum(-1)


def head_logits(feats: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                normalize: bool = False) -> torch.Tensor:
    """(N, C) logits of features (N, H); cosine heads read L2-normalised features."""
    if normalize:
        feats = nn.functional.normalize(feats, dim=-1)
    return feats @ weight.T + bias


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Share of rows whose top logit is the label, as a 0-d tensor on the logits' device (a
    training step returns it unread: ``run_loop`` reads figures without a sync per step)."""
    return (logits.detach().argmax(-1) == labels).float().mean()


def encoder_features(backbone: Backbone, encoder: nn.Module, texts: Sequence[str], *,
                     max_length: int, device: torch.device) -> torch.Tensor:
    """Mean-pooled, unnormalised features (N, H) of ``texts``, without gradients."""
    vecs = backbone.embed(list(texts), device=device, max_length=max_length, model=encoder,
                          normalize=False)
    return torch.as_tensor(vecs, device=device)


class EpisodicMethod(Method):
    """Base of the trained meta-learners: meta-training plumbing, prediction, persistence.

    Subclasses implement ``begin_meta_training`` (build the optimiser), ``train_step`` (one
    episode -> metrics) and ``adapt`` (support set -> encoder parameters and head).
    """

    config: EpisodicConfig

    # --- what it costs (metacore.methods.costs) ---------------------------------------------
    @classmethod
    def work(cls, config: EpisodicConfig, sizes: DataSizes) -> Work:
        """Meta-training episodes, validation episodes, then adapting and predicting: in the
        adapt protocol the episodes are those of ``adapt_schedule``; in the unseen-class
        protocol ``meta_episodes`` of the configured shape, then the test episodes."""
        if sizes.protocol == "episodic":
            texts = config.n_way * (config.k_shot + config.n_query)
            episodes = config.meta_episodes
            test = Work(forward=min(sizes.n_test, sizes.test_episodes * sizes.episode_texts))
            test += cls.test_episode_work(config, sizes)
        else:
            plan = adapt_schedule(config, sized_textset(sizes))
            texts, episodes = (plan.texts, plan.episodes) if plan else (0, 0)
            test = Work(forward=sizes.n_train + sizes.n_test)
            test += cls.adapt_work(config, sizes.n_train)
        train, forward = cls.meta_passes(config, episodes, texts)
        evals = (episodes // max(1, config.eval_every)) * config.val_episodes
        inner = int(getattr(config, "inner_steps", 0) or 0)
        forward += evals * texts * (1 + inner) * (1 if sizes.n_val else 0)
        return Work(forward=forward, train=train, fixed_s=1.0, episodes=episodes) + test

    @classmethod
    def meta_passes(cls, config: EpisodicConfig, episodes: int, texts: int
                    ) -> tuple[float, float]:
        """(texts trained, texts only forwarded) of ``episodes`` meta-training episodes."""
        return episodes * texts, 0.0

    @classmethod
    def adapt_work(cls, config: EpisodicConfig, n_support: int) -> Work:
        """Adapting to a support set before predicting (prototypes: nothing to train)."""
        return Work()

    @classmethod
    def test_episode_work(cls, config: EpisodicConfig, sizes: DataSizes) -> Work:
        """What adapting to every test episode's support set costs (prototypes: nothing)."""
        return Work()

    @classmethod
    def adjustments(cls, config: EpisodicConfig, sizes: DataSizes) -> list:
        """In the adapt protocol: fewer episodes than ``meta_episodes`` (the budget of
        ``adapt_passes`` passes over small data) or a smaller episode shape than set."""
        if sizes.protocol == "episodic" or not config.meta_episodes:
            return []
        plan = adapt_schedule(config, sized_textset(sizes))
        if plan is None:
            return [msg("adjust.no_episodes", per_class=sizes.smallest_class,
                        field="meta_episodes")]
        notes = []
        if (plan.n_way, plan.k_shot, plan.n_query) != (config.n_way, config.k_shot,
                                                        config.n_query):
            notes.append(msg("adjust.shape", n_way=plan.n_way, k_shot=plan.k_shot,
                             n_query=plan.n_query, per_class=sizes.smallest_class,
                             n_classes=sizes.n_classes, field="n_query"))
        if plan.episodes != config.meta_episodes:
            notes.append(msg("adjust.episodes", episodes=plan.episodes,
                             asked=config.meta_episodes, passes=config.adapt_passes,
                             texts=sizes.n_train, field="meta_episodes"))
        return notes

    @classmethod
    def trainable_parameters(cls, config, shape: ModelShape, n_classes: int) -> int:
        return shape.params  # the whole encoder; the prototype head is computed, not learned

    def __init__(self, config: EpisodicConfig) -> None:
        super().__init__(config)
        self.normalize = False  # True for cosine heads, which read L2-normalised features
        self.backbone: Backbone | None = None
        self.encoder: nn.Module | None = None  # the meta-learned encoder (private copy)
        self.predictor: nn.Module | None = None  # encoder adapted to ``classes``
        self.head: nn.Linear | None = None
        self.device = torch.device("cpu")
        # Features of the frozen meta-learned encoder, by text: test episodes re-draw the same
        # novel-class texts hundreds of times. Cleared whenever the encoder's weights change.
        self._frozen_features: dict[str, torch.Tensor] = {}
        self._meta_training = False

    # --- set-up ------------------------------------------------------------------------------
    def _ensure_encoder(self, ctx: RunContext) -> None:
        if self.encoder is None:
            self.backbone = ctx.require_backbone()
            self.encoder = self.prepare_encoder(self.backbone.copy_model())  # never the shared
        self.device = ctx.device
        self.encoder.to(ctx.device)

    def prepare_encoder(self, encoder: nn.Module) -> nn.Module:
        return encoder

    # --- the unseen-class protocol -----------------------------------------------------------
    def meta_train(self, base: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        c = self.config
        self._ensure_encoder(ctx)
        if c.meta_episodes == 0:
            return
        self._meta_train(base, val, ctx, (c.n_way, c.k_shot, c.n_query), c.meta_episodes)

    def _meta_train(self, base: TextSet, val: TextSet | None, ctx: RunContext,
                    shape: tuple[int, int, int], n_episodes: int) -> None:
        self.clear_caches()
        self._meta_training = True
        try:
            self._meta_train_loop(base, val, ctx, shape, n_episodes)
        finally:
            self._meta_training = False
            self.clear_caches()

    def clear_caches(self) -> None:
        """Forget what was computed with the encoder's weights (they are about to change)."""
        self._frozen_features.clear()

    def _meta_train_loop(self, base: TextSet, val: TextSet | None, ctx: RunContext,
                         shape: tuple[int, int, int], n_episodes: int) -> None:
        c = self.config
        episodes = sample_episodes(base, *shape, n_episodes, seed=ctx.stream_seed("meta_episodes"))
        val_eps = self._val_episodes(val, shape, ctx)
        ids = self._token_ids(base, episodes)
        val_ids = self._token_ids(val, val_eps) if val_eps else {}
        self.begin_meta_training(ctx, len(episodes))
        ctx.phase("meta_training", episodes=len(episodes), n_way=shape[0], k_shot=shape[1],
                  n_query=shape[2])
        pad = self.backbone.pad_id()

        def batches() -> Iterator[tuple[int, EpisodeBatch]]:
            for ep in episodes:
                yield 1, make_batch(ids, base, ep, pad, ctx.device)

        # The shape of the validation episodes goes with their scores: an N-way K-shot accuracy
        # on the few validation texts is not the accuracy the finished model gets on the test
        # set (its prototypes come from every training text), and the chart says which it is.
        val_shape = ({"val_way": float(val_eps[0].n_way),
                      "val_shot": float(len(val_eps[0].support) // val_eps[0].n_way)}
                     if val_eps else {})

        def evaluate() -> dict[str, float]:
            scores = [self.eval_episode(make_batch(val_ids, val, ep, pad, ctx.device), ctx)
                      for ep in val_eps]
            return {"val_loss": float(np.mean([s[0] for s in scores])),
                    "val_accuracy": float(np.mean([s[1] for s in scores])), **val_shape}

        result = run_loop(ctx=ctx, batches=batches(), total_steps=len(episodes),
                          step=lambda b: self.train_step(b, ctx),
                          evaluate=evaluate if val_eps else None, eval_every=c.eval_every)
        ctx.extras["meta_training"] = {"episodes": result.steps, "stopped": result.stopped,
                                       "seconds": round(result.seconds, 3)}

    def _val_episodes(self, val: TextSet | None, shape: tuple[int, int, int],
                      ctx: RunContext) -> list[Episode]:
        if val is None or not len(val) or self.config.val_episodes == 0:
            return []
        n_way, k, q = shape
        n_way = min(n_way, len(val.classes))
        if episode_findings(val, n_way=n_way, k_shot=k, n_query=q):
            fitted = fitted_shape(val, n_way, k, q)
            if fitted is None:
                return []
            classes, n_way, k, q = fitted
            return sample_episodes(val, n_way, k, q, self.config.val_episodes,
                                   seed=ctx.stream_seed("validation_episodes"),
                                   classes=classes)
        return sample_episodes(val, n_way, k, q, self.config.val_episodes,
                               seed=ctx.stream_seed("validation_episodes"))

    def _token_ids(self, textset: TextSet, episodes: list[Episode]) -> dict[int, list[int]]:
        """Tokenise only the rows the episodes use, once."""
        rows = sorted({i for ep in episodes for i in (*ep.support, *ep.query)})
        ids = self.backbone.tokenize([textset.texts[i] for i in rows], self.config.max_length)
        return dict(zip(rows, ids, strict=True))

    def begin_meta_training(self, ctx: RunContext, total: int) -> None:
        raise NotImplementedError

    def train_step(self, batch: EpisodeBatch, ctx: RunContext) -> dict[str, Any]:
        raise NotImplementedError

    def eval_episode(self, batch: EpisodeBatch, ctx: RunContext) -> tuple[float, float]:
        """(query loss, query accuracy) after adapting to the episode's support rows."""
        raise NotImplementedError

    # --- the adapt-to-my-classes protocol ----------------------------------------------------
    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        """Meta-train on episodes drawn from ``train`` (shape fitted to it), then adapt to it."""
        self.start_fit(train)
        c = self.config
        self._ensure_encoder(ctx)
        plan = adapt_schedule(c, train)
        if c.meta_episodes and plan is None:
            ctx.warn(msg("run.warning.no_episodes"))
        elif c.meta_episodes:
            keep = set(plan.classes)
            self._meta_train(train.subset([i for i, y in enumerate(train.labels) if y in keep]),
                             val, ctx, (plan.n_way, plan.k_shot, plan.n_query), plan.episodes)
        self.keep_adapted(train, ctx)

    def keep_adapted(self, support: TextSet, ctx: RunContext) -> None:
        """Adapt the (meta-trained) weights to ``support``'s classes and keep the result as
        the model that ``predict_proba`` and ``save`` use; the meta-trained weights stay."""
        self._ensure_encoder(ctx)
        self.classes = support.classes
        ctx.phase("adapting", texts=len(support), classes=len(self.classes))
        predictor, weight, bias = self.adapt(support, ctx)
        self.predictor = predictor
        self.head = nn.Linear(weight.shape[1], weight.shape[0]).to(ctx.device)
        with torch.no_grad():
            self.head.weight.copy_(weight)
            self.head.bias.copy_(bias)

    def adapt(self, support: TextSet, ctx: RunContext, query: TextSet | None = None
              ) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
        """(encoder to predict with, head weight, head bias) for ``support.classes``.

        ``query`` (with labels) only feeds the inner-loop record of gradient-based methods.
        """
        raise NotImplementedError

    def _features(self, encoder: nn.Module, texts: Sequence[str], ctx: RunContext
                  ) -> torch.Tensor:
        if encoder is not self.encoder or self._meta_training or not len(texts):
            return encoder_features(self.backbone, encoder, texts,
                                    max_length=self.config.max_length, device=ctx.device)
        cache = self._frozen_features
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            if len(cache) + len(missing) > 50_000:  # bound memory on huge test sets
                cache.clear()
            feats = encoder_features(self.backbone, encoder, missing,
                                     max_length=self.config.max_length, device=ctx.device)
            cache.update(zip(missing, feats.cpu()))
        return torch.stack([cache[t] for t in texts]).to(ctx.device)

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        assert self.predictor is not None and self.head is not None, "fit() first"
        feats = self._features(self.predictor, texts, ctx)
        with torch.no_grad():
            logits = head_logits(feats, self.head.weight, self.head.bias, self.normalize)
        return softmax(logits.float().cpu().numpy())

    def predict_episode(self, support: TextSet, query: Sequence[str], *, ctx: RunContext,
                        query_labels: Sequence[str] | None = None
                        ) -> tuple[list[str], np.ndarray]:
        """Adapt to ``support`` (functionally: stored weights stay) and predict ``query``."""
        self._ensure_encoder(ctx)
        labelled = None if query_labels is None else TextSet(tuple(query), tuple(query_labels))
        encoder, weight, bias = self.adapt(support, ctx, query=labelled)
        feats = self._features(encoder, query, ctx)
        with torch.no_grad():
            logits = head_logits(feats, weight, bias, self.normalize)
        return support.classes, softmax(logits.float().cpu().numpy())

    def embed(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray | None:
        encoder = self.predictor or self.encoder
        if encoder is None:
            return None
        return self._features(encoder, texts, ctx).float().cpu().numpy()

    def parameter_counts(self) -> dict[str, int]:
        if self.encoder is None:
            return super().parameter_counts()
        counts = count_parameters(self.encoder)
        head = 0 if self.head is None else self.head.weight.numel() + self.head.bias.numel()
        return {"trainable": counts["trainable"] + head, "total": counts["total"] + head}

    # --- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """The adapted encoder and prototype head, in the fine-tuning methods' format."""
        assert self.predictor is not None and self.head is not None, "fit() first"
        directory = Path(directory)
        save_encoder_head(directory, self.predictor, self.head, self.backbone, self.classes)
        self._write_manifest(directory, format="hf-encoder+head", pooling="mean",
                             normalize=self.normalize, max_length=self.config.max_length,
                             **self.manifest_extra())
        return directory

    def manifest_extra(self) -> dict:
        """Method-specific manifest entries (for example learned inner learning rates)."""
        return {}

    def restore_extra(self, manifest: dict) -> None:
        """Read back what ``manifest_extra`` wrote."""

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> EpisodicMethod:
        method, head, manifest = restore_method(cls, directory)
        encoder = method.backbone.model
        method.encoder = method.prepare_encoder(copy.deepcopy(encoder)).to(ctx.device)
        method.predictor = encoder.to(ctx.device)
        method.head = head.to(ctx.device)
        method.device = ctx.device
        method.restore_extra(manifest)
        return method
