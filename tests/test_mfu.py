"""bench/mfu.py: the analytic FLOP count, the peak table and a 2-step CPU measurement."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

MFU_PATH = Path(__file__).resolve().parents[1] / "bench" / "mfu.py"


@pytest.fixture(scope="module")
def mfu():
    # bench/ is a folder of scripts, not a package: load the file as a module.
    spec = importlib.util.spec_from_file_location("bench_mfu", MFU_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_flop_count_matches_a_hand_computation(mfu):
    # L=1, H=32, I=64, S=16, B=4, C=3.
    # Per layer: Q,K,V,O 4*(32*32 + 32) = 4224; FFN 32*64 + 64 + 64*32 + 32 = 4192;
    # two LayerNorms 2*(2*32) = 128: P = 8544.
    assert mfu.non_embedding_params(1, 32, 64) == 8544
    dense = 6 * 8544 * 4 * 16  # 3 280 896
    attention = 12 * 1 * 32 * 16**2 * 4  # 393 216
    head = 6 * (32 * 3 + 3) * 4  # 2 376
    flops = mfu.training_flops(layers=1, hidden=32, intermediate=64, seq=16, batch=4, classes=3)
    assert flops == dense + attention + head == 3_676_488


def test_parameter_formula_matches_a_real_bert(mfu):
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64)
    model = BertModel(config, add_pooling_layer=False)
    counted = sum(p.numel() for n, p in model.named_parameters()
                  if not n.startswith("embeddings."))
    assert counted == mfu.non_embedding_params(2, 32, 64)


def test_peak_table(mfu):
    assert mfu.peak_flops("NVIDIA H200") == 989e12
    assert mfu.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert mfu.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert mfu.peak_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert mfu.peak_flops("NVIDIA L4") == 121e12
    assert mfu.peak_flops("NVIDIA L40S") == 362e12
    assert mfu.peak_flops("Some Future GPU") is None


def test_cpu_measurement_fields(mfu):
    r = mfu.measure(batch=2, seq=8, steps=2, warmup=1, device="cpu", layers=1, hidden=32,
                    heads=2, intermediate=64, vocab=100)
    assert r.device == "cpu" and r.mode == "eager" and r.steps == 2
    assert math.isfinite(r.achieved_flops) and r.achieved_flops > 0
    assert r.step_s > 0 and r.tokens_per_s > 0
    assert r.flops_per_step == mfu.training_flops(layers=1, hidden=32, intermediate=64, seq=8,
                                                  batch=2)
    assert r.mfu is None and r.peak_flops is None
    assert mfu.mfu_text(r) == "n/a on CPU"
    assert "n/a on CPU" in mfu.table([r])
