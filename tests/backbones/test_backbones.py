from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
import torch

from metacore.backbones import (
    BackboneError,
    language_fit,
    load_backbone,
    mean_pool,
    resolve_spec,
)
from metacore.backbones.loading import bundled_path


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert mean_pool(hidden, mask).tolist() == [[2.0, 3.0]]


def test_embeddings_are_normalised_and_independent_of_batching(tiny):
    texts = ["a short one", "a much longer text " * 5, "mid length text here"]
    together = tiny.embed(texts, batch_size=2)
    alone = np.vstack([tiny.embed([t]) for t in texts])
    assert together.shape == (3, tiny.hidden_size)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_specs_resolve():
    assert resolve_spec("minilm") == (bundled_path(), True)
    assert resolve_spec("random-init:minilm") == (bundled_path(), False)
    assert resolve_spec("org/some-model") == ("org/some-model", True)


def test_random_init_has_the_same_shape_but_fresh_weights():
    pretrained = load_backbone("minilm")
    fresh = load_backbone("random-init:minilm")
    assert not fresh.pretrained and fresh.hidden_size == pretrained.hidden_size
    a = dict(pretrained.model.named_parameters())
    b = dict(fresh.model.named_parameters())
    assert a.keys() == b.keys()
    name = "encoder.layer.0.attention.self.query.weight"
    assert not torch.allclose(a[name], b[name])


def test_random_weights_repeat_and_leave_the_callers_random_stream_alone():
    from metacore.backbones.loading import tiny_backbone

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = load_backbone("random-init:minilm")
    assert torch.equal(torch.rand(3), expected)  # loading drew nothing from the caller's stream
    again = load_backbone("random-init:minilm")
    name = "encoder.layer.0.attention.self.query.weight"
    assert torch.equal(dict(first.model.named_parameters())[name],
                       dict(again.model.named_parameters())[name])  # a fair, fixed control
    build = tiny_backbone.__wrapped__  # not the cached one the other tests share
    torch.manual_seed(123)
    tiny = build()
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(next(tiny.model.parameters()), next(build().model.parameters()))


def test_missing_hub_model_fails_fast_with_one_sentence():
    t0 = time.perf_counter()
    with pytest.raises(BackboneError, match="downloads are off"):
        load_backbone("no-such-org/no-such-model-xyz")
    assert time.perf_counter() - t0 < 10


def test_folder_with_only_pickled_weights_is_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(f"{bundled_path()}/{name}", folder / name)
    (folder / "pytorch_model.bin").write_bytes(b"not a pickle you want to open")
    with pytest.raises(BackboneError, match="safetensors"):
        load_backbone(str(folder))


def test_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(BackboneError, match="config.json"):
        load_backbone(str(tmp_path))


def test_english_backbone_warns_on_chinese_text(tiny):
    zh = ["腾讯控股今日股价大涨百分之五，投资者信心增强", "请帮我查询一下我的快递到哪里了"] * 5
    stats, warning = language_fit(tiny, zh)
    assert stats["unknown_token_share"] > 0.3
    assert warning and "multilingual" in str(warning) and "HF_ENDPOINT" in str(warning)
    stats, warning = language_fit(tiny, ["where is my parcel", "refund my order please"])
    assert warning is None and stats["unknown_token_share"] < 0.05


@pytest.mark.integration
def test_minilm_matches_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    backbone = load_backbone("minilm")
    texts = ["The bank froze my card.", "Where is my parcel?"]
    ours = backbone.embed(texts)
    reference = st.SentenceTransformer(bundled_path(), device="cpu").encode(
        texts, normalize_embeddings=True)
    np.testing.assert_allclose(ours, reference, atol=1e-4)
