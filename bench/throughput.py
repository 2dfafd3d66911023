"""Training speed of ``full-finetune`` against a plain Hugging Face ``Trainer``.

    python bench/throughput.py --datasets sst5 emotion agnews --examples 512 --repeats 2

Same backbone, same training texts, batch size, max length, learning-rate schedule and one
epoch, in the same process, runs alternating (ours, Trainer, ours, Trainer…). The Trainer is
set up as its documentation recommends: ``AutoModelForSequenceClassification`` and dynamic
padding with ``DataCollatorWithPadding``. Prints seconds per epoch, training examples per
second and the ratio (ours / Trainer); writes bench/results/throughput.json.
Needs ``accelerate`` (a Trainer dependency): pip install accelerate.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch
from common import dataset_path, machine, write_json


def training_texts(name: str, n: int, seed: int = 0):
    from metacore.data import load_dataset

    loaded = load_dataset(dataset_path(name))
    frame = loaded.frame
    if "split" in frame:
        frame = frame[frame["split"].str.lower() == "train"]
    frame = frame.sample(n=min(n, len(frame)), random_state=seed)
    return list(frame["text"]), list(frame["label"])


def time_ours(backbone, texts, labels, args) -> float:
    from metacore.data import TextSet
    from metacore.methods import create
    from metacore.training.context import RunContext

    method = create("full-finetune", {"epochs": 1, "batch_size": args.batch_size,
                                      "max_length": args.max_length, "patience": 0})
    ctx = RunContext(backbone=backbone, device=torch.device(args.device))
    torch.manual_seed(0)
    t0 = time.perf_counter()
    method.fit(TextSet.from_lists(texts, labels), val=None, ctx=ctx)
    return time.perf_counter() - t0


def time_trainer(backbone, texts, labels, args) -> float:
    from transformers import (
        AutoModelForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    classes = sorted(set(labels))
    enc = backbone.tokenizer(texts, truncation=True, max_length=args.max_length)
    rows = [{"input_ids": ids, "attention_mask": m, "labels": classes.index(y)}
            for ids, m, y in zip(enc["input_ids"], enc["attention_mask"], labels)]
    model = AutoModelForSequenceClassification.from_pretrained(
        backbone.source, num_labels=len(classes), local_files_only=True)
    with tempfile.TemporaryDirectory() as out:
        targs = TrainingArguments(
            output_dir=out, per_device_train_batch_size=args.batch_size, num_train_epochs=1,
            learning_rate=5e-5, weight_decay=0.01, warmup_steps=0.1, max_grad_norm=1.0,
            lr_scheduler_type="linear", logging_strategy="no", save_strategy="no",
            report_to=[], disable_tqdm=True, seed=0, use_cpu=args.device == "cpu")
        trainer = Trainer(model=model, args=targs, train_dataset=rows,
                          data_collator=DataCollatorWithPadding(backbone.tokenizer))
        t0 = time.perf_counter()
        trainer.train()
        return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["sst5", "emotion", "agnews"])
    p.add_argument("--examples", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--backbone", default="minilm")
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    from metacore.backbones import load_backbone

    backbone = load_backbone(args.backbone)
    rows = []
    for name in args.datasets:
        texts, labels = training_texts(name, args.examples)
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(time_ours(backbone, texts, labels, args))
            theirs.append(time_trainer(backbone, texts, labels, args))
        o, t = statistics.median(ours), statistics.median(theirs)
        rows.append({"dataset": name, "examples": len(texts), "ours_s": ours, "trainer_s": theirs,
                     "ours_ex_per_s": len(texts) / o, "trainer_ex_per_s": len(texts) / t,
                     "ratio": t / o, "mean_tokens": float(np.mean(
                         [len(x) for x in backbone.tokenize(texts, args.max_length)]))})
        print(f"{name}: ours {o:.1f}s/epoch ({len(texts) / o:.1f} ex/s), Trainer {t:.1f}s/epoch "
              f"({len(texts) / t:.1f} ex/s), ratio {t / o:.2f}x", flush=True)
    write_json("throughput.json", {"args": vars(args), "machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
