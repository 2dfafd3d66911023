"""The TF-IDF pipeline (``tfidf-logreg``) as one ONNX graph: texts in, probabilities out.

scikit-learn-onnx (``skl2onnx``) converts ``TfidfVectorizer`` for word tokens only: it refuses
the ``char_wb`` analyzer the method uses, and its word tokens follow RE2's ASCII ``\\w``, so
Chinese words would not match. The graph here is built with ``onnx.helper`` from the same
operators skl2onnx uses, so that onnxruntime computes exactly scikit-learn's features:

- ``StringNormalizer`` lower-cases (in ``C.UTF-8`` where onnxruntime has it: all scripts, as
  Python's ``str.lower``; ``lowercase_locale``);
- ``Tokenizer`` (onnxruntime's ``com.microsoft`` operator, RE2 expressions) splits the text:
  into words ``[\\p{L}\\p{N}_]+`` (Python's Unicode ``\\w+``, the method's token pattern) for
  the word n-grams, and on Python's whitespace (``str.split``) then into characters, each word
  marked with a start (U+0002) and an end (U+0003) token, for ``char_wb``'s n-grams: the space
  scikit-learn pads each word with is the mark, so no n-gram crosses a word;
- ``TfIdfVectorizer`` counts the fitted vocabulary's n-grams (mode ``TF``);
- then, as scikit-learn: ``1 + log(tf)`` (``sublinear_tf``), times ``idf_``, L2-normalised per
  vectorizer, the two joined (``FeatureUnion``), and the logistic regression's linear layer
  with a softmax (a sigmoid for two classes, and per label for one-vs-rest multi-label).

One count needs a correction: the unigram " " counts both pads of every word, and the graph's
padding words (shorter texts in a batch) carry marks too; so it is set to twice the number of
real words. A text holding U+0002 or U+0003 itself would count them as word edges: the check
against scikit-learn on the run's test texts (``metacore.runs.onnx``) reports any difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metacore.messages import MessageError

# Python's str.split() whitespace, as an RE2 class (RE2's \s is ASCII only)
SPACE = (r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}"
         r"\x{2029}\x{202f}\x{205f}\x{3000}")
WORD = r"[\p{L}\p{N}_]+"  # Python's Unicode \w+: letters, numbers and the underscore
TOKEN_PATTERN = r"(?u)\b\w+\b"  # the method's token pattern, the one WORD stands for
START, END, PAD = "\x02", "\x03", "<pad>"
DOMAIN = "com.microsoft"  # onnxruntime's own operators (Tokenizer)


def _check(vec: Any, method: str) -> None:
    """Refuse, in one sentence, a vectorizer whose options the graph does not reproduce."""
    unsupported = (vec.analyzer not in ("word", "char_wb") or not vec.lowercase
                   or vec.preprocessor is not None
                   or vec.tokenizer is not None or vec.strip_accents is not None
                   or vec.stop_words is not None or vec.norm not in ("l2", None)
                   or (vec.analyzer == "word" and vec.token_pattern != TOKEN_PATTERN))
    if unsupported:
        raise MessageError("onnx.error.tfidf_options", method=method)


class _Graph:
    """Nodes and constants of one ONNX graph under construction, with unique names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, value: Any, dtype: Any = np.float32) -> str:
        from onnx import numpy_helper

        name = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, domain: str = "", out: str | None = None,
           **attrs: Any) -> str:
        from onnx import helper

        name = out or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [name], domain=domain,
                                           name=self.name(op_type), **attrs))
        return name


def _pool(grams: dict[tuple[str, ...], int]) -> dict[str, Any]:
    """``TfIdfVectorizer``'s attributes for n-grams (token tuples) and their output columns:
    the pool holds the 1-grams, then the 2-grams, and so on (the operator's order)."""
    longest = max((len(g) for g in grams), default=1)
    pool: list[str] = []
    counts, indexes = [], []
    for n in range(1, longest + 1):
        counts.append(len(pool))
        for gram, column in sorted((g, c) for g, c in grams.items() if len(g) == n):
            pool.extend(gram)
            indexes.append(column)
    return {"min_gram_length": 1, "max_gram_length": longest, "max_skip_count": 0,
            "mode": "TF", "pool_strings": pool, "ngram_counts": counts,
            "ngram_indexes": indexes}


def _word_counts(g: _Graph, text: str, vec: Any) -> str:
    tokens = g.op("Tokenizer", text, domain=DOMAIN, tokenexp=WORD, pad_value=PAD, mark=0,
                  mincharnum=1)
    grams = {tuple(key.split(" ")): int(col) for key, col in vec.vocabulary_.items()}
    return _counts(g, tokens, grams)


def _char_wb_counts(g: _Graph, text: str, batch: str, vec: Any) -> str:
    # a padding word is " ", which no real word holds: its marks count as a word's, and its
    # one character, counted in an extra column, says how many padding words a row has
    words = g.op("Tokenizer", text, domain=DOMAIN, tokenexp=f"[^{SPACE}]+", pad_value=" ",
                 mark=0, mincharnum=1)
    chars = g.op("Tokenizer", words, domain=DOMAIN, tokenexp=".", pad_value=PAD, mark=1,
                 mincharnum=1)  # N x words x (marks and characters)
    rows = g.op("Reshape", chars, g.op("Concat", batch, g.const([-1], np.int64), axis=0))
    width = len(vec.vocabulary_)
    grams, space = {(" ",): width}, None
    for key, col in vec.vocabulary_.items():
        if key == " ":  # the pad of every word, before and after it: corrected below
            space = int(col)
            grams[(START,)] = space
            continue
        chars_of = list(key)
        if chars_of[0] == " ":
            chars_of[0] = START
        if chars_of[-1] == " ":
            chars_of[-1] = END
        grams[tuple(chars_of)] = int(col)
    counts = _counts(g, rows, grams)
    if space is not None:  # " " = 2 x real words = 2 (start marks - padding words)
        start = g.op("Gather", counts, g.const([space], np.int64), axis=1)
        pads = g.op("Gather", counts, g.const([width], np.int64), axis=1)
        fix = g.op("Sub", start, g.op("Mul", pads, g.const(2.0)))  # added to the start marks
        onehot = np.zeros((1, width + 1), np.float32)
        onehot[0, space] = 1.0
        counts = g.op("Add", counts, g.op("Mul", fix, g.const(onehot)))
    return g.op("Slice", counts, g.const([0], np.int64), g.const([width], np.int64),
                g.const([1], np.int64))  # without the padding words' column


def _counts(g: _Graph, tokens: str, grams: dict[tuple[str, ...], int]) -> str:
    """N x columns counts (float) of ``grams`` (n-gram: column) in each row of ``tokens``."""
    return g.op("Cast", g.op("TfIdfVectorizer", tokens, **_pool(grams)), to=1)


def _weight(g: _Graph, counts: str, vec: Any) -> str:
    """scikit-learn's TfidfTransformer on counts: sublinear tf, idf, the norm."""
    tf = counts
    if vec.binary:
        tf = g.op("Min", tf, g.const(1.0))
    if vec.sublinear_tf:  # 1 + log(tf) where tf > 0
        logged = g.op("Add", g.op("Log", g.op("Max", tf, g.const(1.0))), g.const(1.0))
        tf = g.op("Where", g.op("Greater", tf, g.const(0.0)), logged, g.const(0.0))
    if vec.use_idf:
        tf = g.op("Mul", tf, g.const(vec.idf_.astype(np.float32)))
    if vec.norm is None:
        return tf
    norm = g.op("ReduceL2", tf, axes=[1], keepdims=1)
    safe = g.op("Where", g.op("Equal", norm, g.const(0.0)), g.const(1.0), norm)
    return g.op("Div", tf, safe)


def _linear(heads: list[Any], n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Weight (features x outputs) and bias of binary or multinomial logistic regressions;
    a constant head (a label on every training text, or on none) becomes a large bias."""
    weights, biases = [], []
    for head in heads:
        if hasattr(head, "coef_"):
            weights.append(np.asarray(head.coef_, dtype=np.float64))
            biases.append(np.asarray(head.intercept_, dtype=np.float64))
        else:  # OneVsRest's _ConstantPredictor: probability y_ (0 or 1) for every text
            p = float(np.clip(np.ravel(head.y_)[0], 1e-7, 1 - 1e-7))
            weights.append(np.zeros((1, n_features)))
            biases.append(np.array([np.log(p / (1 - p))]))
    return np.concatenate(weights).T.astype(np.float32), np.concatenate(biases).astype(
        np.float32)


LOCALES = ("C.UTF-8", "C.utf8", "en_US.UTF-8", "C")  # the first that onnxruntime has here


def lowercase_locale(ort: Any) -> str:
    """The locale ``StringNormalizer`` lower-cases with: the first of ``LOCALES`` that
    onnxruntime can build on this machine (``C`` lower-cases ASCII only; the file names the
    locale, and a machine without it refuses to load the file, saying so)."""
    from onnx import TensorProto, helper

    for locale in LOCALES:
        node = helper.make_node("StringNormalizer", ["t"], ["o"], case_change_action="LOWER",
                                locale=locale)
        graph = helper.make_graph([node], "probe", [
            helper.make_tensor_value_info("t", TensorProto.STRING, [None])],
            [helper.make_tensor_value_info("o", TensorProto.STRING, [None])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        quiet = ort.SessionOptions()
        quiet.log_severity_level = 4  # a missing locale is an answer here, not an error
        try:
            ort.InferenceSession(model.SerializeToString(), quiet,
                                 providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - onnxruntime's Fail: no such locale here
            continue
        return locale
    return "C"


def tfidf_model(pipeline: Any, *, method: str, multi_label: bool, opset: int,
                locale: str = "C"):
    """The ONNX model of a fitted ``tfidf-logreg`` pipeline (``FeatureUnion`` of word and
    ``char_wb`` TF-IDF, then logistic regression or one-vs-rest): input ``text`` (N strings),
    outputs ``probabilities`` (N x classes) and ``logits``.

    Raises:
        MessageError: an option of the pipeline that the graph does not reproduce.
    """
    from onnx import TensorProto, helper

    union, head = pipeline[0], pipeline[-1]
    if union.transformer_weights is not None:
        raise MessageError("onnx.error.tfidf_options", method=method)
    g = _Graph()
    text = "text"
    low = g.op("StringNormalizer", text, case_change_action="LOWER", locale=locale)
    batch = g.op("Shape", text)
    parts = []
    for _, vec in union.transformer_list:
        _check(vec, method)
        counts = (_word_counts(g, low, vec) if vec.analyzer == "word"
                  else _char_wb_counts(g, low, batch, vec))
        parts.append(_weight(g, counts, vec))
    features = g.op("Concat", *parts, axis=1)
    n_features = sum(len(v.vocabulary_) for _, v in union.transformer_list)
    heads = list(getattr(head, "estimators_", None) or [head]) if multi_label else [head]
    weight, bias = _linear(heads, n_features)
    logits = g.op("Add", g.op("MatMul", features, g.const(weight)), g.const(bias),
                  out="logits")
    if multi_label:  # a sigmoid per label
        g.op("Sigmoid", logits, out="probabilities")
    elif weight.shape[1] == 1:  # two classes: p(second) = sigmoid(z)
        second = g.op("Sigmoid", logits)
        g.op("Concat", g.op("Sub", g.const([[1.0]]), second), second, axis=1,
             out="probabilities")
    else:
        g.op("Softmax", logits, axis=1, out="probabilities")
    graph = helper.make_graph(
        g.nodes, method, [helper.make_tensor_value_info(text, TensorProto.STRING, [None])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, None]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, None])],
        initializer=g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid(DOMAIN, 1)],
                             producer_name="metacore")


def blend(encoder: Any, ngram: Any, ngram_classes: Any, n_classes: int, weight: float):
    """One model from centroid-blend's two views: the encoder graph (token ids and mask in,
    the centroid head's ``logits``) and the n-gram graph (``text`` in, ``probabilities`` over
    ``ngram_classes``), blended as ``blend_core.blend`` does: log-softmax of (1 - weight) x
    the centroid log-probabilities + weight x the n-gram's (a class the n-gram model never saw
    gets 1e-6 before renormalising, as the method does)."""
    from onnx import compose, helper

    enc = compose.add_prefix(encoder, "encoder/", rename_inputs=False)
    tfidf = compose.add_prefix(ngram, "ngram/", rename_inputs=False)
    g = _Graph()  # its names are unprefixed: apart from the two graphs'
    spread = np.zeros((len(ngram_classes), n_classes), np.float32)  # n-gram class -> class
    spread[np.arange(len(ngram_classes)), np.asarray(ngram_classes, dtype=int)] = 1.0
    unseen = np.where(spread.sum(0) > 0, 0.0, 1e-6).astype(np.float32)[None, :]
    proba = g.op("Add", g.op("MatMul", "ngram/probabilities", g.const(spread)),
                 g.const(unseen))
    total = g.op("ReduceSum", proba, g.const([1], np.int64), keepdims=1)
    log_ngram = g.op("Log", g.op("Div", proba, total))
    log_centroid = g.op("LogSoftmax", "encoder/logits", axis=1)
    mixed = g.op("Add", g.op("Mul", log_centroid, g.const(1.0 - weight)),
                 g.op("Mul", log_ngram, g.const(weight)))
    logits = g.op("LogSoftmax", mixed, axis=1, out="logits")
    g.op("Exp", logits, out="probabilities")
    outputs = [helper.make_tensor_value_info(n, 1, [None, None])
               for n in ("probabilities", "logits")]
    graph = helper.make_graph(
        [*enc.graph.node, *tfidf.graph.node, *g.nodes], "centroid-blend",
        [*enc.graph.input, *tfidf.graph.input], outputs,
        initializer=[*enc.graph.initializer, *tfidf.graph.initializer, *g.inits])
    imports = {o.domain: o.version for o in (*encoder.opset_import, *ngram.opset_import)}
    return helper.make_model(graph, producer_name="metacore", opset_imports=[
        helper.make_opsetid(domain, version) for domain, version in imports.items()])
