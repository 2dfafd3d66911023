"""SetFit (Tunstall et al. 2022, "Efficient Few-Shot Learning Without Prompts"), as a comparison
row: the method most people with a few labelled examples per class would otherwise use.

It runs the ``setfit`` library itself (the optional extra ``pip install 'metacore[setfit]'``,
pinned to 1.2.0), with its own defaults (``setfit.TrainingArguments()``: one epoch of
contrastive pairs drawn by oversampling, batch 16, cosine-similarity loss, then a
scikit-learn logistic-regression head), on the run's backbone, so the comparison is the method
and not the model. Using the library rather than re-implementing it is the point of a
comparison row: the figures are SetFit's, not ours. The only arguments set are the ones that
are not the method: where its checkpoints go (a temporary folder), no logging integrations,
the run's seed, and a callback that reports progress and stops on request.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metacore.config import MethodConfig, setting
from metacore.data import TextSet
from metacore.methods.base import Method
from metacore.methods.costs import DataSizes, MemoryProfile, ModelShape, Work
from metacore.methods.registry import register
from metacore.training.context import RunContext
from metacore.training.events import StepEnded

REQUIRES = "setfit"
HEAD_FILE = "model_head.pkl"  # SetFit's name for its saved head


@contextlib.contextmanager
def quiet():
    """SetFit's and its libraries' console output off while it trains (the run's events are
    the progress): their loggers, the datasets progress bars and warnings."""
    import datasets

    loggers = [logging.getLogger(n) for n in ("setfit", "sentence_transformers", "datasets",
                                              "transformers")]
    levels = [lg.level for lg in loggers]
    bars = datasets.is_progress_bar_enabled()
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        datasets.disable_progress_bars()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        if bars:
            datasets.enable_progress_bars()


def pair_count(n_train: int, n_classes: int) -> int:
    """Sentence pairs of SetFit's default sampling ("oversampling"): every unique pair of the
    more frequent kind (positive or negative), the other kind drawn up to the same number."""
    per = max(1, n_train // max(1, n_classes))
    positive = n_classes * per * (per - 1) // 2
    negative = n_train * (n_train - 1) // 2 - positive
    return 2 * max(positive, negative)


@dataclass
class SetFitConfig(MethodConfig):
    scope = "setfit"
    max_length: int = setting(128, "Longest text in tokens; longer texts are cut.", minimum=8,
                              maximum=512, advanced=True)
    max_steps: int = setting(0, "Contrastive steps at most (0: SetFit's own default, one "
                             "epoch over its sentence pairs).", minimum=0, maximum=100_000,
                             advanced=True)


@register("setfit", config=SetFitConfig, family="fine-tuning", colour="#be185d",
          requires=REQUIRES,
          description="SetFit with its own defaults (Tunstall et al. 2022): contrastive "
                      "fine-tuning on sentence pairs, then a logistic-regression head.")
class SetFit(Method):
    """The ``setfit`` library's ``Trainer`` on the run's backbone (a comparison row)."""

    config: SetFitConfig
    cost_factor = 1.0  # not measured yet (bench/estimates.py)

    def __init__(self, config: SetFitConfig) -> None:
        super().__init__(config)
        self.model: Any = None
        self.steps_done = 0

    @classmethod
    def work(cls, config: SetFitConfig, sizes: DataSizes) -> Work:
        """One epoch over its sentence pairs (two texts forward and backward per pair), then
        the head on the embeddings of the training texts and the test texts' embeddings."""
        episodic = sizes.protocol == "episodic"  # a fresh SetFit on every test episode
        texts = sizes.support_texts if episodic else sizes.n_train
        pairs = pair_count(texts, sizes.n_way if episodic else sizes.n_classes)
        if config.max_steps:
            pairs = min(pairs, 16 * config.max_steps)  # batch 16 pairs a step
        if episodic:
            return Work(train=sizes.test_episodes * 2 * pairs, forward=sizes.n_test,
                        fixed_s=sizes.test_episodes * 1.0)
        return Work(train=2 * pairs, forward=sizes.n_train + sizes.n_test, fixed_s=1.0)

    @classmethod
    def trainable_parameters(cls, config: SetFitConfig, shape: ModelShape,
                             n_classes: int) -> int:
        return shape.params + (shape.hidden + 1) * n_classes

    @classmethod
    def memory_profile(cls, config: SetFitConfig) -> MemoryProfile:
        return MemoryProfile(private_copy=True, optimizer_states=2)

    def _body_folder(self, ctx: RunContext, scratch: Path) -> str:
        """A sentence-transformers folder of the run's backbone: its own folder when it is a
        pretrained one on disk, else (random-init, a hub id) the loaded weights written out."""
        backbone = ctx.require_backbone()
        source = Path(str(backbone.source))
        if backbone.pretrained and source.is_dir():
            return str(source)
        folder = scratch / "body"
        backbone.model.save_pretrained(folder, safe_serialization=True)
        backbone.tokenizer.save_pretrained(folder)
        return str(folder)

    def fit(self, train: TextSet, *, val: TextSet | None, ctx: RunContext) -> None:
        from metacore.methods import registry

        registry.require_installed(self.name)  # one sentence on how to install it, if absent
        from datasets import Dataset
        from setfit import Trainer, TrainingArguments
        from transformers import TrainerCallback
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        self.start_fit(train)
        run_ctx, method = ctx, self

        class Progress(TrainerCallback):
            """Each step's logged loss as the run's event; Stop honoured within one step."""

            def on_log(self, args, state, control, logs=None, **kwargs):
                if not logs or "embedding_loss" not in logs:
                    return control  # the summary at the end of training
                method.steps_done = int(state.global_step)
                run_ctx.emit(StepEnded(step=int(state.global_step),
                                       total_steps=int(state.max_steps or 0),
                                       epoch=int(state.epoch or 0),
                                       loss=float(logs["embedding_loss"])))
                return control

            def on_step_end(self, args, state, control, **kwargs):
                if run_ctx.control.should_stop:
                    control.should_training_stop = True
                return control

        with tempfile.TemporaryDirectory(prefix="metacore-setfit-") as scratch, quiet():
            body = self._body_folder(ctx, Path(scratch))
            self.model = _setfit_model(body, str(ctx.device))
            self.model.model_body.max_seq_length = self.config.max_length
            args = TrainingArguments(output_dir=str(Path(scratch) / "checkpoints"),
                                     report_to="none", seed=ctx.seed,
                                     show_progress_bar=False,
                                     max_steps=self.config.max_steps or -1,
                                     logging_steps=1)  # every step's loss for the curves
            data = Dataset.from_dict({"text": list(train.texts),
                                      "label": train.label_ids(self.classes)})
            trainer = Trainer(model=self.model, args=args, train_dataset=data,
                              callbacks=[Progress()])
            for printer in (PrinterCallback, ProgressCallback):  # metacore reports progress
                trainer.st_trainer.remove_callback(printer)
            if len(self.classes) == 1:  # nothing to contrast: the one class is the answer
                return
            trainer.train()

    def predict_proba(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray:
        assert self.model is not None, "fit() first"
        if len(self.classes) == 1:
            return np.ones((len(texts), 1))
        proba = self.model.predict_proba(list(texts), as_numpy=True)
        return np.asarray(proba, dtype=np.float64)

    def embed(self, texts: Sequence[str], *, ctx: RunContext) -> np.ndarray | None:
        if self.model is None:
            return None
        vectors = self.model.encode(list(texts))
        if hasattr(vectors, "detach"):
            vectors = vectors.detach().cpu().numpy()
        return np.asarray(vectors, dtype=np.float32)

    def parameter_counts(self) -> dict[str, int]:
        if self.model is None:
            return {"trainable": 0, "total": 0}
        # the pooler, which transformers adds when it loads the body, is unused by mean
        # pooling and never gets a gradient
        body = sum(p.numel() for n, p in self.model.model_body.named_parameters()
                   if ".pooler." not in f".{n}")
        head = self.model.model_head
        n = int(getattr(head, "coef_", np.zeros(0)).size + getattr(head, "intercept_",
                                                                    np.zeros(0)).size)
        return {"trainable": int(body) + n, "total": int(body) + n}

    def extra_results(self) -> dict[str, Any]:
        import setfit

        return {"setfit": {"version": setfit.__version__, "steps": self.steps_done}}

    def save(self, directory: str | Path) -> Path:
        """SetFit's own format (a sentence-transformers body and ``model_head.pkl``, a
        scikit-learn pickle: fine for our own artefacts, never load one from a stranger)."""
        assert self.model is not None, "fit() first"
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(directory))
        self._write_manifest(directory, format="setfit")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, ctx: RunContext) -> SetFit:
        import joblib

        method, _ = cls._from_manifest(directory)
        # our own artefact: the head is SetFit's scikit-learn pickle, the body safetensors
        head = joblib.load(Path(directory) / HEAD_FILE)
        method.model = _setfit_model(str(directory), str(ctx.device), head=head)
        return method


def _setfit_model(folder: str, device: str, head: Any = None) -> Any:
    """``SetFitModel.from_pretrained`` as SetFit builds it (a sentence-transformers body and,
    when none is given, a default ``LogisticRegression`` head), but with the body's weights
    read from safetensors only and never from the hub."""
    from sentence_transformers import SentenceTransformer
    from setfit import SetFitModel
    from sklearn.linear_model import LogisticRegression

    body = SentenceTransformer(folder, device=device, local_files_only=True,
                               trust_remote_code=False,
                               model_kwargs={"use_safetensors": True})
    return SetFitModel(model_body=body, model_head=LogisticRegression() if head is None
                       else head)
