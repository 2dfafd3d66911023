"""``centroid-blend``, the recommended method: each of its three choices is made on the user's
examples and goes the right way on data built to need it (or not), and the method keeps the
contract (calibrated, deterministic, saved and loaded to the same answers, nothing trained)."""

from __future__ import annotations

import numpy as np
import pytest

from metacore.data import TextSet
from metacore.methods import blend_core as core
from metacore.methods import create, load_method
from metacore.methods.tfidf import TfidfLogreg, TfidfLogregConfig
from metacore.training.context import EmbeddingCache, RunContext
from tests.conftest import make_texts


@pytest.mark.parametrize(("label", "words"), [
    ("balance_not_updated_after_cheque_or_cash_deposit",
     "balance not updated after cheque or cash deposit"),
    ("PlayMusic", "play music"), ("Sci/Tech", "sci or tech"), ("very negative", "very negative"),
    ("体育", "体育"), ("joy", "joy"),
    ("0", None), ("1", None), ("-1", None), ("3.5", None), ("label_3", None), ("LABEL_0", None),
    ("c12", None), ("A", None), ("", None),
])
def test_label_words_reads_words_and_refuses_codes(label, words):
    assert core.label_words(label) == words


def _clusters(rng, n_classes=4, per=3, dim=24, noise=1.2):
    centres = np.linalg.qr(rng.normal(size=(dim, dim)))[0][:n_classes] * 3
    def draw(n):
        y = np.repeat(np.arange(n_classes), n)
        return centres[y] + noise * rng.normal(size=(len(y), dim)) + 2.0, y  # shared offset
    return centres + 2.0, draw


def test_label_names_help_when_informative_and_cost_next_to_nothing_when_not():
    rng = np.random.default_rng(0)
    centres, draw = _clusters(rng)
    gains, harm = [], []
    for _ in range(8):
        x, y = draw(8)  # K = 8, the workbench's default
        q, yq = draw(50)
        with_names, _, rec = core.fit_centroid(x, y, 4, centres)  # names = the true centres
        without, _, _ = core.fit_centroid(x, y, 4, None)
        def acc(head, q=q, yq=yq):
            return (head.logits(q).argmax(1) == yq).mean()

        gains.append(acc(with_names) - acc(without))
        assert rec["label_weight"] in core.LABEL_WEIGHTS
        noise_names = rng.normal(size=centres.shape) * 3
        with_noise, _, _ = core.fit_centroid(x, y, 4, noise_names)
        harm.append(acc(without) - acc(with_noise))
    assert np.mean(gains) > 0.05  # informative names help on average
    assert np.mean(harm) < 0.03  # names unrelated to the classes cost next to nothing


def test_without_weights_it_is_nearest_centroid_calibrated(tiny):
    from metacore.methods import create

    rng = np.random.default_rng(1)
    centres, draw = _clusters(rng, noise=0.6)
    x, y = draw(4)
    head, held, rec = core.fit_centroid(x, y, 4)
    assert rec["label_weight"] == 0.0
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    means = np.stack([unit[y == c].mean(0) for c in range(4)])
    q = draw(10)[0]
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    nearest = ((qn[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (head.logits(q).argmax(1) == nearest).all()  # the nearest class mean, as before
    assert np.allclose(head.logits(3 * q), head.logits(q))  # texts are normalised first
    train, test = make_texts(3, 6, seed=1), make_texts(3, 4, seed=2)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    plain = create("centroid-blend", {"label_names": False, "ngram_view": False,
                                      "tune_encoder": False})
    plain.fit(train, val=None, ctx=ctx)
    centroid = create("nearest-centroid", {})
    centroid.fit(train, val=None, ctx=ctx)
    assert np.allclose(plain.predict_proba(test.texts, ctx=ctx),
                       centroid.predict_proba(test.texts, ctx=ctx), atol=1e-6)
    assert held is not None and held.shape == (len(y), 4)
    assert np.allclose(np.exp(held).sum(1), 1.0)
    assert head.calibrated and rec["temperature"] > 0


def _word_texts(seed, per):
    """Classes told apart by their words only; embeddings that carry nothing."""
    return make_texts(3, per, seed=seed)


def build():
    return TfidfLogreg(TfidfLogregConfig())._build()


def test_the_ngram_view_is_blended_in_where_the_embeddings_carry_nothing():
    train = _word_texts(1, 8)
    y = np.asarray(train.label_ids(train.classes))
    rng = np.random.default_rng(2)
    noise = rng.normal(size=(len(y), 16))  # embeddings that know nothing of the classes
    _, held_c, _ = core.fit_centroid(noise, y, 3)
    held_n = core.cv_ngram_logprobs(build, train.texts, y, 3, seed=0)
    assert held_n is not None and held_n.shape == (len(y), 3)
    assert core.choose_blend(held_c, held_n, y).weight >= 0.6


def test_the_ngram_view_stays_out_where_the_embeddings_are_right():
    rng = np.random.default_rng(3)
    texts = [" ".join(rng.choice(list("abcdefgh"), 5)) for _ in range(24)]  # word salad
    y = np.repeat(np.arange(3), 8)
    feats = np.eye(3)[y] * 5 + 0.3 * rng.normal(size=(24, 3))  # embeddings that are right
    _, held_c, _ = core.fit_centroid(feats, y, 3)
    held_n = core.cv_ngram_logprobs(build, texts, y, 3, seed=0)
    assert core.choose_blend(held_c, held_n, y).weight <= 0.2


def test_the_one_standard_error_rule_keeps_the_smallest_or_the_largest_within_reach():
    # means 0.97, 0.9, 0.95, 1.3; the best's (0.9) standard error is 0.163 / 2 = 0.082:
    # 0, 0.4 and 0.8 are within reach of it, 1 is not
    losses = {0.0: np.full(4, 0.97), 0.4: np.array([0.7, 0.9, 0.9, 1.1]),
              0.8: np.full(4, 0.95), 1.0: np.full(4, 1.3)}
    assert core.one_se_choice(list(losses), losses) == 0.0
    assert core.one_se_choice(list(losses), losses, largest=True) == 0.8


def test_where_the_backbone_reads_poorly_the_ngram_view_comes_first():
    # Chinese on an English model: the embeddings' held-out probabilities are near uniform,
    # the n-grams' a little better but within one standard error: the plain rule keeps the
    # n-grams out, the turned-round one keeps them alone.
    y = np.repeat(np.arange(2), 8)
    held_c = np.log(np.full((16, 2), 0.5))
    held_n = np.log(np.where(np.eye(2)[y] > 0, 0.7, 0.3))
    held_n[::3] = held_n[::3, ::-1]  # six of sixteen wrong
    assert core.choose_blend(held_c, held_n, y).weight == 0.0
    turned = core.choose_blend(held_c, held_n, y, ngram_first=True)
    assert turned.weight == 1.0 and set(turned.nll) == {"0", "0.2", "0.4", "0.6", "0.8", "1"}


def test_the_turned_round_rule_still_keeps_ngrams_out_where_the_embeddings_are_right():
    rng = np.random.default_rng(3)
    texts = [" ".join(rng.choice(list("abcdefgh"), 5)) for _ in range(24)]  # word salad
    y = np.repeat(np.arange(3), 8)
    feats = np.eye(3)[y] * 5 + 0.3 * rng.normal(size=(24, 3))
    _, held_c, _ = core.fit_centroid(feats, y, 3)
    held_n = core.cv_ngram_logprobs(build, texts, y, 3, seed=0)
    assert core.choose_blend(held_c, held_n, y, ngram_first=True).weight <= 0.2


def test_one_text_per_class_has_no_cross_validation():
    assert core.cv_ngram_logprobs(build, ["a b", "c d"], np.array([0, 1]), 2, seed=0) is None
    assert core.choose_blend(None, np.zeros((2, 2)), np.array([0, 1])).weight == 0.0


@pytest.mark.parametrize("forced_blend,tune", [(None, True), (0.6, True), (None, False)])
def test_the_method_end_to_end_saves_and_loads_to_the_same_answers(tiny, tmp_path,
                                                                   monkeypatch, forced_blend,
                                                                   tune):
    import torch

    if forced_blend is not None:  # a model that uses the n-gram view, whatever CV says
        monkeypatch.setattr(core, "choose_blend",
                            lambda *a, **k: core.BlendChoice(forced_blend))
    train, test = make_texts(3, 8, seed=1), make_texts(3, 5, seed=2)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    method = create("centroid-blend", {"tune_encoder": tune})
    torch.manual_seed(0)  # the runner seeds each run; dropout while tuning draws from torch
    method.fit(train, val=None, ctx=ctx)
    proba = method.predict_proba(test.texts, ctx=ctx)
    assert proba.shape == (len(test), 3) and np.allclose(proba.sum(1), 1.0)
    truth = np.array(test.label_ids(method.classes))
    assert (proba.argmax(1) == truth).mean() >= 0.8  # separable words
    choice = ctx.extras["centroid_blend"]
    assert choice["blend_weight"] == (forced_blend or choice["blend_weight"])
    assert choice["blend_weight"] in core.BLEND_WEIGHTS + (0.6,)
    assert choice["label_weight"] in core.LABEL_WEIGHTS
    assert (method.ngram is not None) == (choice["blend_weight"] > 0)
    assert method.tuned == tune  # K = 8 is enough for training episodes
    counts = method.parameter_counts()
    head = 3 * tiny.hidden_size + 3  # the computed prototypes
    assert counts["trainable"] == (counts["total"] - head if method.tuned else 0)
    if method.tuned:  # the tuned copy reads texts differently from the shared, frozen encoder
        frozen = create("centroid-blend", {"tune_encoder": False})
        frozen.fit(train, val=None, ctx=RunContext(backbone=tiny, seed=0,
                                                   cache=EmbeddingCache()))
        assert not np.allclose(frozen.predict_proba(test.texts, ctx=ctx), proba, atol=1e-3)
        assert ctx.extras["centroid_blend"]["tuned"]["episodes"] > 0
        assert method.backbone is not tiny and tiny.model.training is False
    assert method.scores_are_probabilities()
    method.save(tmp_path / "m")
    loaded = load_method(tmp_path / "m", ctx=ctx)
    assert np.allclose(loaded.predict_proba(test.texts, ctx=ctx), proba, atol=1e-5)
    again = create("centroid-blend", {"tune_encoder": tune})
    torch.manual_seed(0)
    again.fit(train, val=None, ctx=RunContext(backbone=tiny, seed=0, cache=EmbeddingCache()))
    assert np.array_equal(again.predict_proba(test.texts, ctx=ctx), proba)  # deterministic


def test_settings_turn_each_view_off_and_tiny_data_still_works(tiny):
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    plain = create("centroid-blend", {"label_names": False, "ngram_view": False})
    plain.fit(make_texts(3, 4, seed=1), val=None, ctx=ctx)
    assert plain.ngram is None and ctx.extras["centroid_blend"]["label_weight"] == 0.0
    one_shot = create("centroid-blend", {})
    one_shot.fit(make_texts(3, 1, seed=1), val=None, ctx=ctx)  # nothing to hold out
    assert one_shot.ngram is None and not one_shot.scores_are_probabilities()
    assert one_shot.predict_proba(["x y"], ctx=ctx).shape == (1, 3)
    single = create("centroid-blend", {})
    single.fit(TextSet.from_lists(["a b", "c d"], ["only", "only"]), val=None, ctx=ctx)
    assert single.predict_proba(["a"], ctx=ctx).tolist() == [[1.0]]


def test_the_encoder_stays_frozen_where_the_backbone_reads_the_texts_poorly(tiny):
    import torch

    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    chinese = TextSet.from_lists(
        [t for t in ("股票市场今天上涨", "银行利润增长", "投资者买入股票", "债券收益下降",
                     "球队赢得比赛", "足球比赛进球", "教练选择球员", "裁判吹哨比赛结束",
                     "今天下雨很冷", "明天有暴风雪", "天气预报说晴天", "气温升高很热")
         for _ in range(2)],
        [c for c in ("finance", "sports", "weather") for _ in range(8)])
    method = create("centroid-blend", {})
    torch.manual_seed(0)
    method.fit(chinese, val=None, ctx=ctx)  # the English tokenizer's [UNK]s: not tuned
    assert not method.tuned and method.backbone is tiny
    assert ctx.extras["centroid_blend"]["tuned"] == {"skipped": "language"}
    assert ctx.extras["centroid_blend"]["ngram_first"] is True  # the n-gram rule turned round
    assert "1" in ctx.extras["centroid_blend"]["blend_nll"]
    assert method.parameter_counts()["trainable"] == 0
    english = create("centroid-blend", {})
    english.fit(make_texts(3, 8, seed=1), val=None, ctx=ctx)
    assert english.tuned and ctx.extras["centroid_blend"]["ngram_first"] is False


def test_the_choices_are_explained_in_one_sentence_each():
    from metacore.methods.centroid_blend import explain_choice

    chinese = {"label_weight": 0.0, "label_weight_nll": {"0": 2.1, "1": 2.2},
               "blend_weight": 1.0, "ngram_first": True, "tuned": {"skipped": "language"}}
    said = [str(m) for m in explain_choice(chinese)]
    assert len(said) == 3
    assert "weight 0 " in said[0] and "came first: weight 1 " in said[1]
    assert "not tuned" in said[2]
    english = {"label_weight": 4.0, "label_weight_nll": {"0": 1.0, "4": 0.9},
               "blend_weight": 0.0, "ngram_first": False, "tuned": {"episodes": 12}}
    said = [str(m) for m in explain_choice(english)]
    assert "weight 4 " in said[0] and "left out" in said[1] and "12 episodes" in said[2]
    codes = [str(m) for m in explain_choice({"label_weight": 0.0, "label_weight_nll": {}})]
    assert codes == ["The class names are codes, not words, so they were not used."]
    assert explain_choice({}) == []
    from metacore.methods import registry  # the hook the Results page calls, for any method

    blend = registry.get("centroid-blend").method_cls
    assert blend.explain_result({"centroid_blend": chinese}) == explain_choice(chinese)
    assert registry.get("linear-probe").method_cls.explain_result({"centroid_blend": chinese}) == []
    for m in explain_choice(chinese) + explain_choice(english):  # every sentence in Chinese
        assert m.text("zh") != m.text("en") and "{" not in m.text("zh")


def test_tune_mix_moves_the_encoder_from_the_backbone_to_the_tuned_copy(tiny):
    """WiSE-FT's interpolation: at 0 the prototypes are the frozen backbone's (the untuned
    method's probabilities), at 0.5 every weight lies halfway to the tuned copy's."""
    import torch

    train, test = make_texts(3, 8, seed=1), make_texts(3, 5, seed=2)

    def fitted(config):
        ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
        method = create("centroid-blend", {"ngram_view": False, **config})
        torch.manual_seed(0)
        method.fit(train, val=None, ctx=ctx)
        return method, method.predict_proba(test.texts, ctx=ctx)

    _, frozen = fitted({"tune_encoder": False})
    _, at_zero = fitted({"tune_mix": 0.0})
    tuned, tuned_p = fitted({})
    half, half_p = fitted({"tune_mix": 0.5})
    assert np.allclose(at_zero, frozen, atol=1e-5)
    assert not np.allclose(half_p, tuned_p, atol=1e-4)
    start = dict(tiny.model.named_parameters())
    ends = dict(tuned.backbone.model.named_parameters())
    moved = [n for n in ends if not torch.allclose(ends[n], start[n])]
    assert moved  # the tuning changed weights, and the mix put each halfway
    for name, param in half.backbone.model.named_parameters():
        assert torch.allclose(param, (start[name] + ends[name]) / 2, atol=1e-6), name


def test_tuning_with_the_class_names_puts_them_in_every_episodes_prototypes(tiny):
    """``tune_names``: the training episodes' prototypes hold each class's name with the weight
    chosen for the finished prototypes (the logits are those of ``proto_head`` with the names'
    embeddings as extra support); at weight 0 the trainer is plain protonet."""
    import torch

    from metacore.backbones.base import encode
    from metacore.data.episodes import sample_episodes
    from metacore.methods.centroid_blend import EncoderTuner
    from metacore.methods.episodic_base import head_logits, make_batch, proto_head
    from metacore.methods.protonet import ProtoNet, ProtoNetConfig
    from metacore.training.batching import collate

    train = make_texts(3, 8, seed=1)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    names = {c: core.label_words(c) for c in train.classes}
    config = ProtoNetConfig(distance="cosine")
    for weight in (0.0, 2.0):
        labelled = EncoderTuner(config, names, weight, loss="prototypes")
        plain = ProtoNet(config)
        for m in (labelled, plain):
            m._ensure_encoder(ctx)
            m.begin_meta_training(ctx, 1)
            m.encoder.eval()
        plain.encoder.load_state_dict(labelled.encoder.state_dict())
        episode = sample_episodes(train, 3, 4, 4, 1, seed=0)[0]
        ids = labelled._token_ids(train, [episode])
        batch = make_batch(ids, train, episode, tiny.pad_id(), ctx.device)
        assert batch.classes == tuple(episode.classes)
        with torch.no_grad():
            got = labelled.episode_logits(batch)
            if weight == 0:
                torch.testing.assert_close(got, plain.episode_logits(batch))
                continue
            enc = collate(tiny.tokenize([names[c] for c in batch.classes], config.max_length),
                          tiny.pad_id(), ctx.device)
            name_feats = encode(labelled.encoder, enc["input_ids"], enc["attention_mask"])
            feats = encode(labelled.encoder, batch.input_ids, batch.attention_mask)
            w, b = proto_head(feats[: batch.n_support], batch.y_support, 3, distance="cosine",
                              extra=name_feats, extra_weight=weight)
            torch.testing.assert_close(got, head_logits(feats[batch.n_support:], w, b, True))
            assert not torch.allclose(got, plain.episode_logits(batch))

    method = create("centroid-blend", {"tune_loss": "prototypes", "ngram_view": False})
    torch.manual_seed(0)
    method.fit(train, val=None, ctx=ctx)
    record = ctx.extras["centroid_blend"]
    assert method.tuned and record["tuned"]["names"] == (record["label_weight"] > 0)


def test_the_pair_objective_is_setfits_on_every_pair_with_the_names_as_texts(tiny):
    """``tune_loss="pairs"`` (the default): the mean squared error of every pair's cosine
    similarity against 1 (same class) or 0, the class names one more text of their class; a
    training step on it moves the encoder, and the method is then tuned and deterministic."""
    import torch

    from metacore.backbones.base import encode
    from metacore.data.episodes import sample_episodes
    from metacore.methods.centroid_blend import EncoderTuner
    from metacore.methods.episodic_base import make_batch
    from metacore.methods.protonet import ProtoNetConfig
    from metacore.training.batching import collate

    train = make_texts(3, 8, seed=1)
    ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
    names = {c: core.label_words(c) for c in train.classes}
    for weight in (0.0, 2.0):
        tuner = EncoderTuner(ProtoNetConfig(), names, weight, loss="pairs")
        tuner._ensure_encoder(ctx)
        tuner.begin_meta_training(ctx, 1)
        tuner.encoder.eval()
        episode = sample_episodes(train, 3, 4, 4, 1, seed=0)[0]
        batch = make_batch(tuner._token_ids(train, [episode]), train, episode, tiny.pad_id(),
                           ctx.device)
        with torch.no_grad():
            got = tuner.pair_loss(batch)
            feats = encode(tuner.encoder, batch.input_ids, batch.attention_mask)
            y = torch.cat([batch.y_support, batch.y_query]).tolist()
            if weight:
                enc = collate(tiny.tokenize([names[c] for c in batch.classes], 64),
                              tiny.pad_id(), ctx.device)
                feats = torch.cat([feats, encode(tuner.encoder, enc["input_ids"],
                                                 enc["attention_mask"])])
                y += list(range(3))
            x = torch.nn.functional.normalize(feats, dim=-1)
            errors = [(float(x[i] @ x[j]) - float(y[i] == y[j])) ** 2
                      for i in range(len(y)) for j in range(len(y)) if i != j]
        assert abs(float(got) - sum(errors) / len(errors)) < 1e-5
        before = [p.detach().clone() for p in tuner.encoder.parameters()]
        tuner.train_step(batch, ctx)
        assert any(not torch.equal(a, b) for a, b in zip(before, tuner.encoder.parameters(),
                                                         strict=True))

    def fitted():
        run_ctx = RunContext(backbone=tiny, seed=0, cache=EmbeddingCache())
        method = create("centroid-blend", {"ngram_view": False})
        torch.manual_seed(0)
        method.fit(train, val=None, ctx=run_ctx)
        return method, method.predict_proba(train.texts[:5], ctx=run_ctx)

    (method, first), (_, again) = fitted(), fitted()
    assert method.tuned and method.config.tune_loss == "pairs"
    assert np.array_equal(first, again)
