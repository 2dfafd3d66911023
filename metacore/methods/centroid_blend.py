"""``centroid-blend``: the method the workbench recommends for *adapt to my classes*.

Nearest centroid, made better in three measured ways, each decided on the user's own few
examples (``metacore.methods.blend_core`` has the numerics and the citations):

1. the label names as extra support when the labels are words (weight chosen by leave-one-out
   likelihood);
2. a character n-gram TF-IDF view blended in by cross-validation (it carries scripts the
   backbone reads poorly, and where the run's language check says so it comes first);
3. with ``tune_encoder`` (the default), the prototypes are built with a copy of the encoder
   trained first on episodes drawn from the user's examples (``protonet``'s loop and budget,
   Snell et al. 2017), trained as it is then used (``EncoderTuner``). The loss is SetFit's
   (Tunstall et al. 2022, its ``CosineSimilarityLoss``) on every pair of an episode's texts:
   their cosine similarity, the normalised comparison the finished prototypes make, pulled
   towards 1 for the same class and 0 otherwise; and when the class names join the
   prototypes, each is one more text of its class in the episodes (the label-semantic
   meta-training of Luo et al. 2021). Measured over five seeds on six sets
   (``docs/benchmarks.md``): protonet's own loss on cosine episodes with the names in their
   prototypes (``tune_loss="prototypes"``) was 0.6 points below on average (AG News 1.6);
   protonet's squared distance of the raw embeddings (norms about 6 on MiniLM, which the
   normalised prototypes never see) 1.4 below; the pairs without the names cost Emotion 1.8.
   The two weights above are still chosen on the *frozen* embeddings: after training on the
   support texts, a "held-out" support text is no longer unseen, and choices made on the
   tuned features were measured to be worse (they kept the label names out where they
   help). Where the backbone reads the texts poorly (the language check every run makes) the
   encoder stays frozen: tuning it then cost 7.7 points on the Chinese set. (Keeping it
   frozen whenever the n-gram view is wanted instead was measured too: it cost an Emotion
   seed 5 points.)

The prototypes' temperature is fitted, so the outputs are probabilities. Without tuning a run
costs one forward pass per text (shared with the other frozen-embedding methods) and a few
small logistic regressions, seconds on a laptop CPU; tuning adds the episodic training
(``tune_passes`` passes over the examples, a minute or so on a laptop CPU at K = 8). In the
unseen-class protocol every test episode is a fresh support set and the encoder is not tuned
(one training per episode would take hours).

Measured against SetFit, nearest-centroid and the rest in ``docs/benchmarks.md`` ("The
recommended method").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch

from metacore.backbones import language_fit
from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.messages import Message, msg
from metacore.methods import blend_core as core
from metacore.methods.costs import DataSizes, MemoryProfile, Work
from metacore.methods.episodic_base import EpisodeBatch, adapt_schedule
from metacore.methods.frozen_head import FrozenHeadMethod
from metacore.methods.protonet import ProtoNet, ProtoNetConfig
from metacore.methods.registry import register
from metacore.methods.tfidf import FIXED_S, PER_TEXT_S, TfidfLogreg, TfidfLogregConfig
from metacore.training.batching import collate
from metacore.training.context import RunContext

NGRAM_FILE = "ngram.joblib"


def interpolate_weights(tuned, start, mix: float) -> None:
    """In place: every parameter of ``tuned`` becomes (1 - mix) x ``start``'s + mix x its own
    (weight-space ensembling of a fine-tuned model with the one it started from: WiSE-FT,
    Wortsman et al. 2022, "Robust fine-tuning of zero-shot models")."""
    import torch

    before = dict(start.named_parameters())
    with torch.no_grad():
        for name, param in tuned.named_parameters():
            param.lerp_(before[name].to(param.device, param.dtype), 1.0 - mix)


class EncoderTuner(ProtoNet):
    """``protonet``'s episodic training of the encoder on the user's examples, as
    centroid-blend uses it: the loss is SetFit's cosine-similarity objective on every pair of
    an episode's texts (``loss="pairs"``) or protonet's own (``"prototypes"``), and each
    class's name, embedded by the encoder being trained, takes part with the weight the
    finished prototypes give it (one more text of its class in the pairs; in the episode's
    prototypes with that weight, the label-semantic meta-training of Luo et al. 2021, "Don't
    Miss the Labels"). ``names`` maps a class to its words; with weight 0 and
    ``"prototypes"`` it is ``protonet``."""

    def __init__(self, config: ProtoNetConfig, names: dict[str, str], weight: float,
                 loss: str = "prototypes") -> None:
        super().__init__(config)
        self.names, self.name_weight = names, float(weight)
        self.loss = loss
        self._name_ids: dict[str, list[int]] = {}

    def pair_loss(self, batch: EpisodeBatch) -> torch.Tensor:
        """SetFit's objective (Tunstall et al. 2022, its ``CosineSimilarityLoss``) on every
        pair of the episode's texts at once: the squared error of their cosine similarity
        against 1 (same class) or 0. With names (weight above 0), each class's name is one
        more text of its class."""
        feats = self.features(batch.input_ids, batch.attention_mask)
        y = torch.cat([batch.y_support, batch.y_query])
        names = self._name_feats(batch)
        if names is not None:
            feats = torch.cat([feats, names])
            y = torch.cat([y, torch.arange(batch.n_way, device=y.device)])
        x = torch.nn.functional.normalize(feats, dim=-1)
        sims, same = x @ x.T, (y[:, None] == y[None, :]).to(x.dtype)
        off = ~torch.eye(len(y), dtype=torch.bool, device=y.device)
        return ((sims - same)[off] ** 2).mean()

    def episode_loss(self, batch: EpisodeBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.loss != "pairs":
            return super().episode_loss(batch)
        return self.pair_loss(batch), {}

    def begin_meta_training(self, ctx: RunContext, total: int) -> None:
        super().begin_meta_training(ctx, total)
        classes = list(self.names)
        self._name_ids = dict(zip(classes, self.backbone.tokenize(
            [self.names[c] for c in classes], self.config.max_length), strict=True))

    def _name_feats(self, batch: EpisodeBatch) -> torch.Tensor | None:
        if self.name_weight <= 0 or not batch.classes or not self._name_ids:
            return None
        enc = collate([self._name_ids[c] for c in batch.classes], self.backbone.pad_id(),
                      batch.input_ids.device)
        return self.features(enc["input_ids"], enc["attention_mask"])

    def prototype_extras(self, batch: EpisodeBatch) -> tuple[torch.Tensor | None, float]:
        return self._name_feats(batch), self.name_weight


def explain_choice(choice: Mapping[str, Any]) -> list[Message]:
    """What centroid-blend chose on a run's own examples (its ``centroid_blend`` record), one
    sentence each: the class names' weight, the n-gram view's (and whether it came first),
    whether the encoder was tuned. Empty for a record without choices."""
    out: list[Message] = []
    if "label_weight" in choice:
        weight = float(choice.get("label_weight") or 0.0)
        if not choice.get("label_weight_nll"):
            out.append(msg("method.blend.names_not_words"))
        else:
            out.append(msg("method.blend.names", weight=f"{weight:g}"))
    if "blend_weight" in choice:
        weight = float(choice.get("blend_weight") or 0.0)
        key = ("method.blend.ngram_first" if choice.get("ngram_first") else
               "method.blend.ngram" if weight > 0 else "method.blend.ngram_out")
        out.append(msg(key, weight=f"{weight:g}"))
    tuned = choice.get("tuned")
    if isinstance(tuned, Mapping):
        if tuned.get("skipped") == "language":
            out.append(msg("method.blend.frozen_language"))
        elif tuned.get("episodes"):
            out.append(msg("method.blend.tuned", episodes=int(tuned["episodes"])))
    return out


@dataclass
class CentroidBlendConfig(MethodConfig):
    scope = "centroid-blend"
    label_names: bool = setting(True, "Use the class names as extra examples when they are "
                                "words (their weight is chosen on your examples; codes such "
                                "as 0/1 or label_3 are never used).")
    ngram_view: bool = setting(True, "Blend in a character n-gram model (TF-IDF), weighted by "
                               "cross-validation on your examples: it helps where the "
                               "backbone reads the language poorly, and there it comes "
                               "first (the embeddings must earn their weight).")
    tune_encoder: bool = setting(True, "First train a copy of the encoder on episodes drawn "
                                 "from your examples (prototypical networks), then build the "
                                 "prototypes with it; the label and n-gram weights are still "
                                 "chosen on the untrained embeddings. Off: nothing is trained "
                                 "(seconds instead of about a minute on a laptop CPU).")
    tune_passes: int = setting(10, "When tuning: passes over your examples the episodic "
                               "training may take (the compute of that many fine-tuning "
                               "epochs).", minimum=1, maximum=1000, advanced=True)
    tune_mix: float = setting(1.0, "When tuning: how far the prototypes' encoder moves from "
                              "the backbone towards the tuned copy, in weight space (WiSE-FT, "
                              "Wortsman et al. 2022): 1 = the tuned weights, 0.5 = halfway.",
                              minimum=0.0, maximum=1.0, advanced=True)
    tune_max_length: int = setting(64, "When tuning: longest text in tokens for the tuned "
                                   "encoder, in training and prediction (shorter is faster).",
                                   minimum=8, maximum=512, advanced=True)
    tune_distance: str = setting("cosine", "When tuning with prototypes: how the training "
                                 "episodes compare texts with them: cosine (the normalised "
                                 "comparison the finished prototypes make) or protonet's "
                                 "squared Euclidean distance of the raw embeddings.",
                                 choices=("cosine", "euclidean"), advanced=True)
    tune_names: bool = setting(True, "When tuning with the class names: they take part in "
                               "the training episodes too (one more text of their class, or "
                               "in the prototypes with the weight chosen for the finished "
                               "ones), so the encoder is trained as it is used.",
                               advanced=True)
    tune_loss: str = setting("pairs", "When tuning: what the episodes train. pairs: SetFit's "
                             "objective on every pair of an episode's texts (cosine "
                             "similarity towards 1 for the same class, 0 otherwise); "
                             "prototypes: protonet's, each text's class among the episode's "
                             "prototypes.", choices=("pairs", "prototypes"), advanced=True)
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)


@register("centroid-blend", config=CentroidBlendConfig, family="meta-learning",
          colour="#c2410c",
          description="Class prototypes of an encoder tuned on episodes of your examples, with "
                      "the label names as extra examples and a character n-gram view, each "
                      "weighted on your own examples.")
class CentroidBlend(FrozenHeadMethod):
    """Prototype head (``weight``, ``bias``: the calibrated squared-distance rule on
    normalised embeddings: the shared frozen ones, or those of the tuned copy, which is then
    ``backbone`` and is saved with the head), optionally blended with an n-gram model."""

    config: CentroidBlendConfig
    cost_factor = 1.1  # as the other frozen-embedding methods (bench/estimates.py)
    # Tuned (the default), it embeds the texts again with its own copy: the estimate counts
    # that pass and the training instead of the shared cache's.
    shares_embeddings = False

    def __init__(self, config: CentroidBlendConfig) -> None:
        super().__init__(config)
        self.ngram = None
        self.blend_weight = 0.0
        self.calibrated = False
        self.tuned = False
        self.choice: dict = {}

    @property
    def feature_length(self) -> int:
        """Tokens per text of the features the head reads (the tuned encoder's, or not)."""
        return self.config.tune_max_length if self.tuned else self.config.max_length

    def _features(self, texts: Sequence[str], ctx: RunContext) -> np.ndarray:
        if self.backbone is not None and self.backbone is not ctx.backbone:  # tuned or loaded
            return self.backbone.embed(texts, device=ctx.device,
                                       max_length=self.feature_length)
        return ctx.embed(texts, max_length=self.config.max_length)

    @classmethod
    def work(cls, config: CentroidBlendConfig, sizes: DataSizes) -> Work:
        """The frozen methods' forward pass per text; with ``tune_encoder``, protonet's
        meta-training on the training texts (the adapt protocol only); the n-gram model fitted
        once per fold and once in all (FOLDS + 1 fits of ``tfidf-logreg``'s cost)."""
        base = super().work(config, sizes)
        if config.tune_encoder and sizes.protocol != "episodic":
            tuning = ProtoNet.work(cls._tuning_of(config), sizes)
            base += Work(forward=tuning.forward - sizes.n_test, train=tuning.train,
                         fixed_s=tuning.fixed_s, episodes=tuning.episodes)
        if not config.ngram_view:
            return base
        texts = sizes.support_texts if sizes.protocol == "episodic" else sizes.n_train
        fits = (core.FOLDS + 1) * (FIXED_S + PER_TEXT_S * texts)
        per = sizes.test_episodes if sizes.protocol == "episodic" else 1
        return base + Work(fixed_s=per * fits)

    @classmethod
    def _tuning_of(cls, config: CentroidBlendConfig) -> ProtoNetConfig:
        return ProtoNetConfig(adapt_passes=config.tune_passes,
                              max_length=config.tune_max_length,
                              distance=config.tune_distance)

    @classmethod
    def memory_profile(cls, config: CentroidBlendConfig) -> MemoryProfile:
        if config.tune_encoder:
            return ProtoNet.memory_profile(cls._tuning_of(config))
        return super().memory_profile(config)

    @classmethod
    def trainable_parameters(cls, config, shape, n_classes: int) -> int:
        # prototypes, weights and the n-gram model are computed; tuning trains the encoder
        return shape.params if config.tune_encoder else 0

    def parameter_counts(self) -> dict[str, int]:
        counts = super().parameter_counts()
        body = counts["total"] - counts["trainable"]
        return {"trainable": body if self.tuned else 0, "total": counts["total"]}

    def _ngram_model(self):
        return TfidfLogreg(TfidfLogregConfig())._build()

    def _label_vectors(self, classes: Sequence[str], ctx: RunContext) -> np.ndarray | None:
        if not self.config.label_names:
            return None
        words = [core.label_words(c) for c in classes]
        if not all(words):
            return None
        return self._features(words, ctx)

    def _fit_on(self, train: TextSet, ctx: RunContext, reads_poorly: bool = False) -> dict:
        """The label and n-gram weights, chosen on the frozen features; ``reads_poorly``
        (the backbone reads these texts poorly) turns the n-gram rule round
        (``blend_core.choose_blend``'s ``ngram_first``)."""
        classes = train.classes
        y = np.asarray(train.label_ids(classes))
        feats = self._features(train.texts, ctx)
        labels = self._label_vectors(classes, ctx)
        head, held, record = core.fit_centroid(feats, y, len(classes), labels)
        self.weight, self.bias = head.weight, head.bias
        self.calibrated = head.calibrated
        self.ngram, self.blend_weight = None, 0.0
        if self.config.ngram_view and len(classes) > 1:
            held_ngram = core.cv_ngram_logprobs(self._ngram_model, train.texts, y,
                                                 len(classes), seed=ctx.seed)
            choice = core.choose_blend(held, held_ngram, y, ngram_first=reads_poorly)
            record["blend_weight"], record["blend_nll"] = choice.weight, choice.nll
            record["ngram_first"] = reads_poorly
            if choice.weight > 0:
                self.blend_weight = choice.weight
                self.ngram = self._ngram_model().fit(list(train.texts), y)
        return record

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        self.start_fit(train)
        self.backbone = ctx.require_backbone()
        self.tuned = False
        # Does the backbone read these texts poorly (the run's language check: unknown tokens,
        # or CJK text on an English vocabulary)? Then the n-gram view comes first.
        reads_poorly = language_fit(self.backbone, list(train.texts))[1] is not None
        # the weights, on the frozen embeddings
        self.choice = self._fit_on(train, ctx, reads_poorly)
        if self.config.tune_encoder:
            if reads_poorly:
                # Training the encoder on texts it reads poorly learns little and lost to the
                # frozen rule (ChnSentiCorp on MiniLM: 53.4 against 61.1 % macro-F1, its
                # sharper probabilities drowning the n-gram view).
                self.choice["tuned"] = {"skipped": "language"}
            elif adapt_schedule(self._tuning_of(self.config), train) is not None:
                self._tune(train, ctx)
        ctx.extras["centroid_blend"] = self.choice

    def _tune(self, train: TextSet, ctx: RunContext) -> None:
        """Train a copy of the encoder on episodes of ``train`` (``EncoderTuner``), then
        rebuild the prototypes with it, keeping the label weight chosen on frozen features."""
        frozen = self.backbone
        weight = float(self.choice.get("label_weight") or 0.0)
        names = {c: core.label_words(c) for c in self.classes}
        with_names = self.config.tune_names and weight > 0 and all(names.values())
        trainer = EncoderTuner(self._tuning_of(self.config), names,
                               weight if with_names else 0.0, loss=self.config.tune_loss)
        trainer.fit(train, val=None, ctx=ctx)
        if self.config.tune_mix < 1.0:  # WiSE-FT: (1 - mix) x backbone + mix x tuned
            interpolate_weights(trainer.encoder, frozen.model, self.config.tune_mix)
            trainer._frozen_features.clear()  # embedded by the tuned weights: stale now
        self.backbone = dataclasses.replace(frozen, name=f"{frozen.name} (tuned)",
                                            model=trainer.encoder.eval())
        self.tuned = True
        classes = self.classes
        y = np.asarray(train.label_ids(classes))
        labels = self._label_vectors(classes, ctx) if weight > 0 else None
        # the trainer embedded the training texts with its encoder when it adapted: reused
        head = core.centroid_head(trainer.embed(train.texts, ctx=ctx), y, len(classes), labels,
                                  weight)
        self.weight, self.bias, self.calibrated = head.weight, head.bias, head.calibrated
        self.choice["tuned"] = {"episodes": (ctx.extras.get("meta_training") or {})
                                .get("episodes"), "temperature": 1.0 / head.scale,
                                "names": with_names}

    def scores_are_probabilities(self) -> bool:
        return self.calibrated

    def _log_proba(self, texts: Sequence[str], ctx: RunContext) -> np.ndarray:
        feats = np.asarray(self._features(texts, ctx), dtype=np.float64)
        x = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        logp = core._log_softmax(x @ self.weight.T + self.bias)
        if self.ngram is not None and self.blend_weight > 0:
            proba = np.full((len(texts), len(self.classes)), 1e-6)
            proba[:, self.ngram.classes_] = self.ngram.predict_proba(list(texts))
            logp = core.blend(logp, np.log(proba / proba.sum(1, keepdims=True)),
                              self.blend_weight)
        return logp

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        assert self.weight is not None, "fit() first"
        if len(self.classes) == 1:
            return np.ones((len(texts), 1))
        return np.exp(self._log_proba(texts, ctx))

    def predict_episode(self, support: TextSet, query: Sequence[str], *, ctx: RunContext
                        ) -> tuple[list[str], np.ndarray]:
        # a fresh support set per test episode: the frozen rule (tuning each would take hours)
        learner = CentroidBlend(dataclasses.replace(self.config, tune_encoder=False))
        learner.backbone = self.backbone or ctx.require_backbone()
        learner.fit(support, val=None, ctx=ctx)
        return learner.classes, learner.predict_proba(query, ctx=ctx)

    def extra_results(self) -> dict:
        return {"centroid_blend": self.choice}

    @classmethod
    def explain_result(cls, extra: Mapping[str, Any]) -> list[Message]:
        choice = extra.get("centroid_blend")
        return explain_choice(choice) if isinstance(choice, Mapping) else []

    def manifest_extra(self) -> dict:
        return {"choice": self.choice, "blend_weight": self.blend_weight,
                "calibrated": self.calibrated, "tuned": self.tuned,
                "max_length": self.feature_length}  # what the saved encoder reads

    def restore_extra(self, manifest: dict) -> None:
        self.choice = dict(manifest.get("choice") or {})
        self.blend_weight = float(manifest.get("blend_weight") or 0.0)
        self.calibrated = bool(manifest.get("calibrated"))
        self.tuned = bool(manifest.get("tuned"))

    def save(self, directory: str | Path) -> Path:
        directory = super().save(directory)
        if self.ngram is not None:
            # joblib (pickle) is fine for our own artefacts; never load one from a stranger.
            joblib.dump(self.ngram, directory / NGRAM_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> CentroidBlend:
        method = super().load(directory, ctx=ctx)
        directory = Path(directory)
        ngram = directory / NGRAM_FILE
        method.ngram = joblib.load(ngram) if ngram.exists() else None
        return method
