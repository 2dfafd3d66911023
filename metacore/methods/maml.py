"""Model-agnostic meta-learning (Finn, Abbeel & Levine 2017, "Model-Agnostic Meta-Learning for
Fast Adaptation of Deep Networks") and its first-order form, FOMAML (same paper, section 5.2).

The inner loop adapts a chosen part of the network to an episode's support set with a few SGD
steps; the outer loop updates the initialisation so that the *adapted* network does well on
the episode's query set. The inner loop is written with ``torch.func`` (``functional_call`` +
``grad``): parameters are plain tensors, so MAML differentiates through the inner updates
(second order) and FOMAML treats the inner gradients as constants (first order).

Choices made here:
    * Head: Proto-MAML (Triantafillou et al. 2020, "Meta-Dataset"): each episode's linear head
      starts from its support prototypes (W = 2p, b = -||p||^2), so it works for any number of
      ways, including the user's C classes in the adapt protocol; the outer gradient reaches
      the encoder through the prototypes too.
    * What adapts in the inner loop is a setting: the head only, the head and the top k
      transformer layers, or everything.
    * Optionally learnable inner learning rates, one per inner step and parameter tensor
      (Meta-SGD, Li et al. 2017, learns them per element; per tensor and step, as in MAML++,
      Antoniou et al. 2019, keeps the count small).
    * When only the top k layers (and the head) adapt, the layers below run once per episode
      in meta-training and, at prediction, once per text for all test episodes (their
      outputs cached): the inner steps and the queries run the adapted layers alone
      (``layer_split.TopLayers``; checked against a full pass on the model first, full passes
      otherwise). Same numbers; with MiniLM and ``top_layers=1`` meta-training episodes run
      1.8-3.0x and test episodes 3.2-3.7x faster (``bench/episodic.py``).
    * Dropout is off inside inner loops (the encoder runs in eval mode), so support and query
      see the same network; second-order runs switch the private copy to eager attention,
      since fused attention kernels have no second derivative.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad

from metacore.backbones.base import mean_pool
from metacore.config import setting
from metacore.data import TextSet
from metacore.messages import Message, msg
from metacore.methods.base import softmax
from metacore.methods.costs import DataSizes, MemoryProfile, Work
from metacore.methods.episodic_base import (
    EpisodeBatch,
    EpisodicConfig,
    EpisodicMethod,
    accuracy,
    head_logits,
    proto_head,
)
from metacore.methods.layer_split import TopLayers, adapted_layers
from metacore.methods.registry import register
from metacore.training.batching import collate
from metacore.training.context import RunContext
from metacore.training.device import adamw, autocast

Params = dict[str, torch.Tensor]
HEAD = ("head.weight", "head.bias")
ADAPT_PARTS = ("head", "top", "all")
TRACE_KEYS = ("support_loss", "support_accuracy", "query_loss", "query_accuracy")


def inner_loop(
    loss_fn: Callable[[Params, int], torch.Tensor], start: Params, *, steps: int,
    lrs: dict[str, torch.Tensor], second_order: bool,
) -> list[Params]:
    """SGD on ``start`` for ``steps`` steps; returns the trajectory [theta_0, ..., theta_steps].

    Args:
        loss_fn: ``loss_fn(params, step)``, the support loss of the adapted parameters.
        start: The parameters the inner loop adapts (others are closed over by ``loss_fn``).
        lrs: Per parameter name, a (steps,) tensor of inner learning rates.
        second_order: Keep the inner gradients in the graph (MAML); otherwise they are
            constants (FOMAML), so the meta-gradient is the query gradient at the adapted point.
    """
    trajectory = [start]
    fast = start
    for step in range(steps):
        grads = grad(loss_fn)(fast, step)
        if not second_order:
            grads = {k: g.detach() for k, g in grads.items()}
        fast = {k: fast[k] - lrs[k][step] * grads[k] for k in fast}
        trajectory.append(fast)
    return trajectory


def layer_names(encoder: nn.Module, part: str, top_layers: int) -> list[str]:
    """Encoder parameter names adapted in the inner loop for ``part``."""
    names = [n for n, p in encoder.named_parameters() if p.requires_grad]
    if part == "head":
        return []
    if part == "all":
        return names
    index = {n: int(m.group(1)) for n in names if (m := re.search(r"\blayers?\.(\d+)\.", n))}
    if not index:
        return []
    first = max(index.values()) - top_layers + 1
    return [n for n in names if index.get(n, -1) >= first]


def functional_features(encoder: nn.Module, params: Params, input_ids: torch.Tensor,
                        mask: torch.Tensor) -> torch.Tensor:
    """Mean-pooled features (B, H) with ``params`` overriding the encoder's own weights."""
    enc = {k: v for k, v in params.items() if k not in HEAD}
    with autocast(input_ids.device):
        out = functional_call(encoder, enc, args=(),
                              kwargs={"input_ids": input_ids, "attention_mask": mask})
    return mean_pool(out.last_hidden_state.float(), mask)


def step_stats(support: tuple[torch.Tensor, torch.Tensor], query: tuple[torch.Tensor, ...] | None,
               params: Params) -> dict[str, float]:
    """Loss and accuracy of support (features, labels) and query under head ``params``."""
    out = {}
    for name, pair in (("support", support), ("query", query)):
        if pair is None:
            continue
        logits = head_logits(pair[0], params["head.weight"], params["head.bias"])
        out[f"{name}_loss"] = float(nn.functional.cross_entropy(logits, pair[1]))
        out[f"{name}_accuracy"] = float(accuracy(logits, pair[1]))
    return out


def average_trace(traces: list[list[dict[str, float]]]) -> list[dict[str, float]]:
    """Per inner step, the mean of each recorded figure over episodes."""
    if not traces:
        return []
    rows = []
    for step in range(min(len(t) for t in traces)):
        keys = [k for k in TRACE_KEYS if all(k in t[step] for t in traces)]
        rows.append({"step": step, **{k: float(np.mean([t[step][k] for t in traces]))
                                      for k in keys}})
    return rows


@dataclass
class GradientConfig(EpisodicConfig):
    """Settings of the gradient-based meta-learners."""

    scope = "gradient"

    meta_episodes: int = setting(60, "Training episodes (tasks) to meta-train on; 0 skips "
                                 "meta-training.", minimum=0, maximum=100_000)
    inner_steps: int = setting(2, "Gradient steps on each support set (inner loop), in "
                               "training and at prediction.", minimum=1, maximum=50)
    inner_lr: float = setting(0.01, "Learning rate of the inner-loop steps.", minimum=0.0,
                              maximum=10.0)
    weight_decay: float = setting(0.0, "Weight decay of the outer optimiser.", minimum=0.0,
                                  maximum=1.0, advanced=True)
    adapt_batch: int = setting(64, "At prediction, support sets larger than this are "
                               "adapted on minibatches of this size.", minimum=2,
                               advanced=True)
    trace_episodes: int = setting(20, "Episodes whose inner-loop losses are recorded for the "
                                  "inner-loop chart.", minimum=0, advanced=True)


@dataclass
class AnilConfig(GradientConfig):
    learn_inner_lr: bool = setting(False, "Learn one inner learning rate per step and "
                                   "parameter tensor (Meta-SGD style).", advanced=True)


@dataclass
class MamlConfig(AnilConfig):
    adapt: str = setting("top", "What the inner loop adapts: the head only, the head and the "
                         "top layers, or the whole network.", choices=ADAPT_PARTS)
    top_layers: int = setting(1, "With adapt=top: how many of the last transformer layers "
                              "adapt.", minimum=1, maximum=48)
    first_order: bool = setting(False, "Ignore second derivatives (FOMAML): less memory and "
                                "time, usually a little less accurate.")


@dataclass
class FomamlConfig(MamlConfig):
    first_order: bool = setting(True, "Ignore second derivatives (FOMAML): less memory and "
                                "time, usually a little less accurate.")


INNER_LR_LR = 1e-3  # outer learning rate of learnable inner learning rates (Meta-SGD)


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


class GradientMethod(EpisodicMethod):
    """Shared by MAML, FOMAML, ANIL and Reptile: a Proto-MAML head plus an inner loop."""

    config: GradientConfig

    # --- knobs subclasses turn (class-level: the cost and memory models read them too) ----
    @classmethod
    def inner_part(cls, config: GradientConfig) -> str:
        """What the inner loop adapts: "head", "top" or "all"."""
        return getattr(config, "adapt", "all")

    @classmethod
    def second_order(cls, config: GradientConfig) -> bool:
        return not getattr(config, "first_order", True)

    def adapt_part(self) -> tuple[str, int]:
        return self.inner_part(self.config), getattr(self.config, "top_layers", 0)

    def wants_second_order(self) -> bool:
        return self.second_order(self.config)

    def learns_inner_lr(self) -> bool:
        return bool(getattr(self.config, "learn_inner_lr", False))

    # --- what it costs -----------------------------------------------------------------------
    @classmethod
    def test_episode_work(cls, config: GradientConfig, sizes: DataSizes) -> Work:
        return Work(train=sizes.test_episodes * config.inner_steps * sizes.support_texts)

    @classmethod
    def memory_profile(cls, config: GradientConfig) -> MemoryProfile:
        """Second-order MAML keeps the graph of every inner step (and differentiating through
        the gradients about doubles it); first order keeps one step's at a time."""
        second = cls.second_order(config)
        if cls.inner_part(config) != "head":
            if second:
                return MemoryProfile(activation_factor=(config.inner_steps + 1) * 2.0,
                                     second_order_factor=2.0)
            return MemoryProfile(activation_factor=1.5)
        return MemoryProfile(second_order_factor=2.0 if second else 1.0)

    def __init__(self, config: GradientConfig) -> None:
        super().__init__(config)
        self.inner_lrs: nn.ParameterDict | None = None
        self._names: list[str] = []
        self._opt: torch.optim.Optimizer | None = None
        self._second_order = self.wants_second_order()
        self._train_traces: list[list[dict[str, float]]] = []
        self._test_traces: list[list[dict[str, float]]] = []
        self._seen = self._total = 0
        self._top: TopLayers | None = None  # runs only the adapted layers (adapt=top)
        self._top_ok: bool | None = None  # None: not checked on this model yet

    # --- set-up ------------------------------------------------------------------------------
    def prepare_encoder(self, encoder: nn.Module) -> nn.Module:
        part, top = self.adapt_part()
        if self.wants_second_order() and part != "head":
            try:  # fused attention kernels have no second derivative
                encoder.set_attn_implementation("eager")
            except Exception:  # noqa: BLE001 - older transformers or other architectures
                pass
        self._names = layer_names(encoder, part, top)
        steps, lr = self.config.inner_steps, self.config.inner_lr
        self.inner_lrs = nn.ParameterDict({
            _key(n): nn.Parameter(torch.full((steps,), lr), requires_grad=self.learns_inner_lr())
            for n in (*self._names, *HEAD)})
        return encoder

    def _ensure_encoder(self, ctx: RunContext) -> None:
        super()._ensure_encoder(ctx)
        self.inner_lrs.to(ctx.device)

    def lrs(self) -> dict[str, torch.Tensor]:
        return {n: self.inner_lrs[_key(n)] for n in (*self._names, *HEAD)}

    def begin_meta_training(self, ctx: RunContext, total: int) -> None:
        c = self.config
        groups = [{"params": list(self.encoder.parameters()), "lr": c.lr}]
        if self.learns_inner_lr():
            groups.append({"params": list(self.inner_lrs.parameters()), "lr": INNER_LR_LR,
                           "weight_decay": 0.0})
        self._opt = adamw(groups, lr=c.lr, weight_decay=c.weight_decay, device=ctx.device)
        self._seen, self._total, self._train_traces = 0, total, []
        if self._second_order:
            self._check_memory(ctx)

    def _check_memory(self, ctx: RunContext) -> None:
        """Fall back to first order, with a warning, when second order would not fit."""
        from metacore.memory import available_memory, estimate_memory

        c = self.config
        need = estimate_memory(type(self), c, self.backbone,
                               batch_texts=c.n_way * (c.k_shot + c.n_query),
                               seq_len=c.max_length)["bytes"]
        have = available_memory(ctx.device)
        if have is not None and need > 0.9 * have:
            self._fall_back(ctx, msg("run.why.memory", need=round(need / 2**30, 1),
                                     have=round(have / 2**30, 1)))

    def _fall_back(self, ctx: RunContext, why: Message) -> None:
        self._second_order = False
        ctx.warn(msg("run.warning.first_order", method=self.name, why=why))
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # --- meta-training -----------------------------------------------------------------------
    def train_step(self, batch: EpisodeBatch, ctx: RunContext) -> dict[str, float]:
        self.encoder.eval()  # no dropout in inner loops: support and query see one network
        self._seen += 1
        record = self._seen > self._total - self.config.trace_episodes
        try:
            loss, logits, trace = self.episode_loss(batch, self._second_order, record)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:
            if not (self._second_order and _is_oom(exc)):
                raise
            self._opt.zero_grad(set_to_none=True)
            self._fall_back(ctx, msg("run.why.out_of_memory"))
            loss, logits, trace = self.episode_loss(batch, False, record)
        self._opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.encoder.parameters(), self.config.grad_clip)
        self._opt.step()
        with torch.no_grad():  # a negative learning rate would climb the support loss
            for lr in self.inner_lrs.values():
                lr.clamp_(min=0.0)
        if trace:
            self._train_traces.append(trace)
        return {"loss": loss.detach(), "accuracy": accuracy(logits, batch.y_query)}

    def episode_loss(self, batch: EpisodeBatch, second_order: bool, record: bool
                     ) -> tuple[torch.Tensor, torch.Tensor, list[dict[str, float]] | None]:
        """Query loss after the inner loop, the query logits and (optionally) the trace."""
        enc, s = self.encoder, batch.n_support
        ids, mask = batch.input_ids, batch.attention_mask
        check = _rows(ids[:4], mask[:4]) if self._top_ok is None else None  # once, not per step
        top = self._top_layers(batch.input_ids.device, ids=check, cached=False)
        if top is not None:  # the layers below the adapted ones run once, not every step
            inputs = (top.inputs(ids[:s], mask[:s]), top.inputs(ids[s:], mask[s:]))

            def features(p: Params, part: int) -> torch.Tensor:
                return top.run(p, inputs[part])
        else:
            joint: list[torch.Tensor] = []

            def features(p: Params, part: int) -> torch.Tensor:
                rows = slice(None, s) if part == 0 else slice(s, None)
                if not p:  # the encoder's own weights: support and queries in one pass
                    joint[:] = joint or [functional_features(enc, {}, ids, mask)]
                    return joint[0][rows]
                return functional_features(enc, p, ids[rows], mask[rows])

        fs = features({}, 0)
        weight, bias = proto_head(fs, batch.y_support, batch.n_way)
        own = dict(enc.named_parameters())
        start = {**{n: own[n] for n in self._names}, "head.weight": weight, "head.bias": bias}

        def loss_fn(p: Params, step: int) -> torch.Tensor:
            f = features(p, 0) if self._names else fs
            return nn.functional.cross_entropy(
                head_logits(f, p["head.weight"], p["head.bias"]), batch.y_support)

        traj = inner_loop(loss_fn, start, steps=self.config.inner_steps, lrs=self.lrs(),
                          second_order=second_order)
        final = traj[-1]
        fq = features(final if self._names else {}, 1)
        logits = head_logits(fq, final["head.weight"], final["head.bias"])
        loss = nn.functional.cross_entropy(logits, batch.y_query)
        trace = self._batch_trace(batch, traj, fs, features) if record else None
        return loss, logits, trace

    @torch.no_grad()
    def _batch_trace(self, batch: EpisodeBatch, traj: list[Params], fs: torch.Tensor,
                     features: Callable[[Params, int], torch.Tensor]
                     ) -> list[dict[str, float]]:
        rows, fq = [], None
        for params in traj:
            params = {k: v.detach() for k, v in params.items()}
            if self._names or fq is None:
                fs_now = features(params, 0) if self._names else fs
                fq = features(params if self._names else {}, 1)
            rows.append(step_stats((fs_now.detach(), batch.y_support),
                                   (fq.detach(), batch.y_query), params))
        return rows

    def eval_episode(self, batch: EpisodeBatch, ctx: RunContext) -> tuple[float, float]:
        self.encoder.eval()
        loss, logits, _ = self.episode_loss(batch, False, False)
        return float(loss.detach()), float(accuracy(logits, batch.y_query))

    # --- adaptation for prediction -----------------------------------------------------------
    def adapt(self, support: TextSet, ctx: RunContext, query: TextSet | None = None
              ) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
        """First-order inner loop from the meta-learned weights; stored weights stay as they
        are (the adapted encoder is a private copy, made only when encoder layers adapt)."""
        final = self._inner_adapt(support, ctx, query)
        predictor = self.encoder
        if self._names:
            predictor = copy.deepcopy(self.encoder)
            with torch.no_grad():
                for name, value in final.items():
                    if name not in HEAD:
                        predictor.get_parameter(name).copy_(value)
        return predictor, final["head.weight"].detach(), final["head.bias"].detach()

    def predict_episode(self, support: TextSet, query, *, ctx: RunContext,
                        query_labels=None) -> tuple[list[str], np.ndarray]:
        """As the base class, but when only the top layers adapt, the queries run through
        those layers alone over the frozen layers' cached outputs (no copy of the encoder)."""
        self._ensure_encoder(ctx)
        top = self._top_layers(ctx.device, texts=support.texts)
        if top is None:
            return super().predict_episode(support, query, ctx=ctx, query_labels=query_labels)
        labelled = None if query_labels is None else TextSet(tuple(query), tuple(query_labels))
        final = self._inner_adapt(support, ctx, labelled)
        feats = self._param_features({k: v.detach() for k, v in final.items()}, query, ctx)
        with torch.no_grad():
            logits = head_logits(feats, final["head.weight"], final["head.bias"], self.normalize)
        return support.classes, softmax(logits.float().cpu().numpy())

    def _inner_adapt(self, support: TextSet, ctx: RunContext, query: TextSet | None
                     ) -> Params:
        """The adapted parameters (encoder layers that adapt, and the head) for ``support``."""
        enc, classes = self.encoder, support.classes
        enc.eval()
        y = torch.as_tensor(support.label_ids(classes), device=ctx.device)
        fs = self._features(enc, support.texts, ctx)  # (S, H), no gradient
        weight, bias = proto_head(fs, y, len(classes))
        start = {**{n: p.detach() for n, p in enc.named_parameters() if n in self._names},
                 "head.weight": weight, "head.bias": bias}
        loss_fn = self._support_loss(support, y, fs, ctx)
        lrs = {k: v.detach() for k, v in self.lrs().items()}
        traj = inner_loop(loss_fn, start, steps=self.config.inner_steps, lrs=lrs,
                          second_order=False)
        if query is not None and len(self._test_traces) < self.config.trace_episodes:
            self._test_traces.append(self._text_trace(support, y, query, traj, ctx))
        return traj[-1]

    def _top_layers(self, device: torch.device, *, texts=None, ids=None, cached: bool = True
                    ) -> TopLayers | None:
        """The top-layers runner when only whole top layers adapt and it reproduces a full
        pass on this model (checked once, on a few ``texts`` or token ``ids`` and a shortened
        copy of the first); None otherwise. ``cached``: the caller will use the cache of the
        frozen layers' outputs, which is not allowed while meta-training changes them."""
        if (cached and self._meta_training) or self._top_ok is False or not self._names:
            return None
        if self._top is None:
            found = adapted_layers(self._names)
            try:
                self._top = found and TopLayers(self.encoder, *found, self.backbone.pad_id())
            except ValueError:
                self._top = None
            if not self._top:
                self._top_ok = False
                return None
        if self._top_ok is None:
            if ids is None:
                ids = self.backbone.tokenize(list(texts[:4]), self.config.max_length)
            ids = [list(x) for x in ids[:4]]
            ids.append(ids[0][: max(2, len(ids[0]) // 2)])  # one padded row at least
            self._top_ok = self._top.check(ids, device)
            if not self._top_ok:
                return None
        return self._top

    def clear_caches(self) -> None:
        super().clear_caches()
        if self._top is not None:
            self._top.clear()

    def _support_loss(self, support: TextSet, y: torch.Tensor, fs: torch.Tensor,
                      ctx: RunContext) -> Callable[[Params, int], torch.Tensor]:
        """The inner-loop loss; large support sets use a different minibatch each step."""
        if not self._names:
            return lambda p, step: nn.functional.cross_entropy(
                head_logits(fs, p["head.weight"], p["head.bias"]), y)
        ids = self.backbone.tokenize(support.texts, self.config.max_length)
        size = self.config.adapt_batch
        order = ctx.rng("support_order").permutation(len(ids))
        pad = self.backbone.pad_id()
        top = self._top_layers(ctx.device, texts=support.texts)

        def loss_fn(p: Params, step: int) -> torch.Tensor:
            start = (step * size) % len(ids)
            idx = order[start : start + size] if len(ids) > size else order
            if top is not None:
                f = top.features(p, [ids[i] for i in idx], ctx.device)
            else:
                enc = collate([ids[i] for i in idx], pad, ctx.device)
                f = functional_features(self.encoder, p, enc["input_ids"],
                                        enc["attention_mask"])
            return nn.functional.cross_entropy(
                head_logits(f, p["head.weight"], p["head.bias"]), y[idx])

        return loss_fn

    @torch.no_grad()
    def _text_trace(self, support: TextSet, y: torch.Tensor, query: TextSet,
                    traj: list[Params], ctx: RunContext) -> list[dict[str, float]]:
        yq = torch.as_tensor(query.label_ids(support.classes), device=ctx.device)
        keep = yq >= 0  # a query class missing from the support set cannot be scored
        rows = []
        for params in traj:
            fs, fq = (self._param_features(params, texts, ctx)
                      for texts in (support.texts, query.texts))
            rows.append(step_stats((fs, y), (fq[keep], yq[keep]), params))
        return rows

    def _param_features(self, params: Params, texts, ctx: RunContext) -> torch.Tensor:
        if not self._names:
            return self._features(self.encoder, texts, ctx)
        ids = self.backbone.tokenize(texts, self.config.max_length)
        pad, out = self.backbone.pad_id(), []
        top = self._top_layers(ctx.device, texts=texts)
        with torch.no_grad():
            for start in range(0, len(ids), 64):
                chunk = ids[start : start + 64]
                if top is not None:
                    out.append(top.features(params, chunk, ctx.device))
                    continue
                enc = collate(chunk, pad, ctx.device)
                out.append(functional_features(self.encoder, params, enc["input_ids"],
                                               enc["attention_mask"]))
        return torch.cat(out)

    def extra_results(self) -> dict:
        """The inner loop averaged over recorded test episodes (else last training ones)."""
        return {"inner_loop": average_trace(self._test_traces or self._train_traces)}

    def manifest_extra(self) -> dict:
        return {"inner_lrs": {k: v.detach().cpu().tolist() for k, v in self.inner_lrs.items()}}

    def restore_extra(self, manifest: dict) -> None:
        with torch.no_grad():
            for key, values in manifest.get("inner_lrs", {}).items():
                if key in self.inner_lrs:
                    self.inner_lrs[key].copy_(torch.as_tensor(values))


def _rows(input_ids: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
    """Token id lists of padded rows, padding removed."""
    return [row[: int(m.sum())].tolist() for row, m in zip(input_ids, mask, strict=True)]


def _key(name: str) -> str:
    return name.replace(".", "__")  # ParameterDict keys cannot contain dots


@register("maml", config=MamlConfig, family="meta-learning", episodic=True, colour="#e11d48",
          description="MAML with second-order meta-gradients and a prototype-initialised "
                      "head (Finn et al. 2017; Proto-MAML head).")
class Maml(GradientMethod):
    """Second-order MAML (see module docstring)."""

    config: MamlConfig
    cost_factor = 2.4  # refitted with the top-layer shortcut (bench/estimates.py)


@register("fomaml", config=FomamlConfig, family="meta-learning", episodic=True,
          colour="#f43f5e",
          description="First-order MAML: the same inner loop, meta-gradients without second "
                      "derivatives (cheaper in memory and time).")
class Fomaml(GradientMethod):
    """First-order MAML (Finn et al. 2017, section 5.2)."""

    config: FomamlConfig
    cost_factor = 2.0  # refitted with the top-layer shortcut (bench/estimates.py)
