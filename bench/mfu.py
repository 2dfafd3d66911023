"""Model FLOP utilisation (MFU) of BERT-base training steps in bf16 autocast.

    python bench/mfu.py                                  # BERT-base, batch 64, seq 128, auto device
    python bench/mfu.py --compile --json bench/results/gpu/mfu.json
    python bench/mfu.py --device cpu --layers 1 --hidden 32 --batch 4 --seq 16 --steps 2

A random-init ``BertModel(BertConfig(...))`` (hidden 768, 12 layers, 12 heads, intermediate
3072, vocab 30522 unless told otherwise; never a download), mean pooling and a linear head,
trained on random token ids at a fixed length (no padding) with cross-entropy and fused AdamW,
under ``torch.autocast(dtype=bfloat16)`` on CUDA (fp32 on the CPU). ``--warmup`` steps run
first; the clock covers ``--steps`` full steps (forward, backward, optimiser step, zeroing the
gradients) with ``torch.cuda.synchronize()`` only just before and just after the timed region.

FLOPs per training step (the usual analytic count, e.g. Kaplan et al. 2020 and PaLM's appendix
B; the achieved figure does not include recomputation, optimiser or element-wise work):

    6 * P * B * S                 matmul weights, forward (2) + backward (4) per token
  + 12 * L * H * S**2 * B         attention scores Q.K^T and A.V, forward + backward
  + 6 * (H * C + C) * B           the linear head, once per sequence

where P = L * (4*H**2 + 2*H*I + 9*H + I) is the encoder's non-embedding parameter count
(attention projections, feed-forward, their biases and the two LayerNorms per layer). The
embedding tables are left out: a lookup is not a matmul (counting them as ``6 * params`` would
overstate BERT-base's MFU by about a quarter). MFU = achieved FLOP/s / the device's peak dense
(no sparsity) bf16 tensor-core FLOP/s, from a small table keyed on
``torch.cuda.get_device_name()``; ``--peak-tflops`` overrides it, and an unknown GPU without it
gets MFU "unknown". On the CPU MFU is "n/a on CPU"; the achieved FLOP/s is still printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FORMULA = ("6*P*B*S + 12*L*H*S^2*B + 6*(H*C+C)*B per step, "
           "P = L*(4H^2 + 2HI + 9H + I) non-embedding parameters")

# Peak dense bf16 tensor-core FLOP/s (vendor data sheets, sparsity off). Matched as lower-case
# substrings of the device name, first match wins: the more specific names come first.
PEAK_BF16 = [
    ("h200 nvl", 835e12),
    ("h200", 989e12),  # also GH200: the same GH100 chip as the H100 SXM
    ("h100 nvl", 835e12),
    ("h100 pcie", 756e12),
    ("h100", 989e12),  # H100 SXM ("NVIDIA H100 80GB HBM3")
    ("a100", 312e12),
    ("l40s", 362e12),
    ("l40", 181e12),
    ("l4", 121e12),
    ("rtx 4090", 165e12),
    ("a10g", 70e12),
]


def non_embedding_params(layers: int, hidden: int, intermediate: int) -> int:
    """Weights and biases of the encoder layers (not the embedding tables): per layer Q, K, V
    and output projections (4H^2 + 4H), the feed-forward pair (2HI + I + H) and two LayerNorms
    (4H)."""
    per_layer = 4 * hidden**2 + 2 * hidden * intermediate + 9 * hidden + intermediate
    return layers * per_layer


def training_flops(*, layers: int, hidden: int, intermediate: int, seq: int, batch: int,
                   classes: int = 2) -> float:
    """Analytic FLOPs of one training step (forward + backward) on ``batch`` sequences of
    ``seq`` tokens; see the module docstring for the formula."""
    params = non_embedding_params(layers, hidden, intermediate)
    dense = 6 * params * batch * seq
    attention = 12 * layers * hidden * seq**2 * batch
    head = 6 * (hidden * classes + classes) * batch
    return float(dense + attention + head)


def peak_flops(device_name: str | None) -> float | None:
    """The table's peak dense bf16 FLOP/s for a CUDA device name, or None when unknown."""
    name = (device_name or "").lower()
    for key, peak in PEAK_BF16:
        if key in name:
            return peak
    return None


@dataclass
class Result:
    mode: str  # "eager" or "compiled"
    device: str
    device_name: str
    batch: int
    seq: int
    steps: int
    step_s: float
    tokens_per_s: float
    flops_per_step: float
    achieved_flops: float  # FLOP/s
    peak_flops: float | None
    mfu: float | None  # None: on the CPU, or an unknown GPU without --peak-tflops
    first_step_s: float  # the first warm-up step (includes compilation when compiled)
    notes: list[str] = field(default_factory=list)


def build(layers: int, hidden: int, heads: int, intermediate: int, vocab: int, seq: int,
          classes: int):
    """A random-init BERT encoder with mean pooling and a linear head (no download)."""
    import torch
    from torch import nn
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate,
                        max_position_embeddings=max(512, seq))

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel(config, add_pooling_layer=False)
            self.head = nn.Linear(hidden, classes)

        def forward(self, input_ids, attention_mask, labels):
            hidden_states = self.encoder(input_ids=input_ids,
                                         attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
            pooled = (hidden_states * mask).sum(1) / mask.sum(1).clamp(min=1)
            return nn.functional.cross_entropy(self.head(pooled).float(), labels)

    torch.manual_seed(0)
    return Classifier()


def measure(*, batch: int = 64, seq: int = 128, steps: int = 30, warmup: int = 5,
            device: str = "auto", layers: int = 12, hidden: int = 768, heads: int | None = None,
            intermediate: int | None = None, vocab: int = 30522, classes: int = 2,
            compile: bool = False, peak_tflops: float | None = None) -> Result:
    """Time ``steps`` training steps after ``warmup`` and return the achieved FLOP/s and MFU.

    Raises whatever ``torch.compile`` raises when ``compile`` is set and it fails.
    """
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    heads = heads or max(1, hidden // 64)
    intermediate = intermediate or 4 * hidden
    model = build(layers, hidden, heads, intermediate, vocab, seq, classes).to(dev).train()
    fused = dev.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, fused=fused)
    step_model = torch.compile(model) if compile else model
    bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
    notes = [] if bf16 or dev.type == "cpu" else ["no bf16 on this GPU: fp32"]

    gen = torch.Generator().manual_seed(0)
    input_ids = torch.randint(0, vocab, (batch, seq), generator=gen).to(dev)
    attention_mask = torch.ones(batch, seq, dtype=torch.long, device=dev)
    labels = torch.randint(0, classes, (batch,), generator=gen).to(dev)

    def step() -> None:
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = step_model(input_ids, attention_mask, labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    t0 = time.perf_counter()
    step()
    sync()
    first_step_s = time.perf_counter() - t0
    for _ in range(max(0, warmup - 1)):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    step_s = (time.perf_counter() - t0) / max(1, steps)

    flops = training_flops(layers=layers, hidden=hidden, intermediate=intermediate, seq=seq,
                           batch=batch, classes=classes)
    achieved = flops / step_s
    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
        peak = peak_tflops * 1e12 if peak_tflops else peak_flops(name)
    else:
        name, peak = f"cpu ({torch.get_num_threads()} threads)", None
    mfu = achieved / peak if peak else None
    return Result(mode="compiled" if compile else "eager", device=dev.type, device_name=name,
                  batch=batch, seq=seq, steps=steps, step_s=step_s,
                  tokens_per_s=batch * seq / step_s, flops_per_step=flops,
                  achieved_flops=achieved, peak_flops=peak, mfu=mfu,
                  first_step_s=first_step_s, notes=notes)


def mfu_text(result: Result) -> str:
    if result.device == "cpu":
        return "n/a on CPU"
    if result.mfu is None or not math.isfinite(result.mfu):
        return "unknown"
    return f"{100 * result.mfu:.1f}%"


def table(results: list[Result]) -> str:
    head = (f"{'mode':9s} {'batch':>5s} {'seq':>4s} {'step ms':>8s} {'tokens/s':>10s} "
            f"{'TFLOP/s':>8s} {'peak':>6s} {'MFU':>10s} {'1st step s':>10s}")
    lines = [head]
    for r in results:
        peak = f"{r.peak_flops / 1e12:.0f}" if r.peak_flops else "-"
        lines.append(f"{r.mode:9s} {r.batch:5d} {r.seq:4d} {1e3 * r.step_s:8.1f} "
                     f"{r.tokens_per_s:10.0f} {r.achieved_flops / 1e12:8.3g} {peak:>6s} "
                     f"{mfu_text(r):>10s} {r.first_step_s:10.1f}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--device", default="auto", help="auto (cuda if available), cuda, cpu")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--heads", type=int, default=None, help="default: hidden / 64 (at least 1)")
    p.add_argument("--intermediate", type=int, default=None, help="default: 4 * hidden")
    p.add_argument("--vocab", type=int, default=30522)
    p.add_argument("--compile", action="store_true",
                   help="also time a torch.compile'd model (eager is always timed)")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="peak dense bf16 TFLOP/s of the GPU (overrides the table)")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    args = p.parse_args()

    import torch

    kwargs = dict(batch=args.batch, seq=args.seq, steps=args.steps, warmup=args.warmup,
                  device=args.device, layers=args.layers, hidden=args.hidden, heads=args.heads,
                  intermediate=args.intermediate, vocab=args.vocab,
                  peak_tflops=args.peak_tflops)
    results, compile_error = [measure(**kwargs)], None

    def save() -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            payload = {"args": {k: (str(v) if isinstance(v, Path) else v)
                                for k, v in vars(args).items()},
                       "formula": FORMULA, "torch": torch.__version__,
                       "results": [asdict(r) for r in results], "compile_error": compile_error}
            args.json.write_text(json.dumps(payload, indent=2))

    r0 = results[0]
    print(f"MFU: BERT {args.layers} layers x {args.hidden} hidden, random init, "
          f"{'bf16 autocast' if r0.device == 'cuda' and not r0.notes else 'fp32'}, "
          f"on {r0.device_name} (torch {torch.__version__})")
    print(f"FLOPs/step {r0.flops_per_step:.3e} = {FORMULA}")
    print(table(results), flush=True)
    save()  # the eager figure survives a compile that hangs past a caller's timeout
    if args.compile:
        try:
            results.append(measure(**kwargs, compile=True))
            print(table(results[1:]).splitlines()[1], flush=True)
        except Exception as exc:  # noqa: BLE001 - inductor fails in many ways
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            compile_error = f"{type(exc).__name__}: {first}"
            print(f"torch.compile failed: {compile_error}", flush=True)
        save()
    for note in r0.notes:
        print(f"note: {note}")
    if r0.device == "cuda" and r0.peak_flops is None:
        print(f"MFU unknown: no peak for {r0.device_name!r} in the table; pass --peak-tflops")


if __name__ == "__main__":
    main()
