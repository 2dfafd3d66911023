"""Does the backbone read this language? Measured, not guessed.

Two signals on a sample of the texts: the share of tokens the tokenizer maps to its unknown
token, and, for CJK text, how many CJK entries the vocabulary has at all (an English vocabulary
may know a few hundred common characters but was never trained on Chinese sentences).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from metacore.backbones.base import Backbone
from metacore.backbones.loading import MULTILINGUAL_HINT
from metacore.messages import Message, msg

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_LETTER = re.compile(r"\w")


def language_stats(backbone: Backbone, texts: Sequence[str], sample: int = 300) -> dict:
    """Unknown-token share, CJK character share of the texts, and CJK entries in the vocabulary."""
    texts = [t for t in texts[:sample] if t]
    tok = backbone.tokenizer
    unk = getattr(tok, "unk_token_id", None)
    ids = backbone.tokenize(texts) if texts else []
    special = set(getattr(tok, "all_special_ids", []) or [])
    counted = [i for seq in ids for i in seq if i not in special or i == unk]
    unk_share = sum(1 for i in counted if i == unk) / max(1, len(counted))
    joined = "".join(texts)
    letters = len(_LETTER.findall(joined))
    cjk_share = len(_CJK.findall(joined)) / max(1, letters)
    vocab = tok.get_vocab() if hasattr(tok, "get_vocab") else {}
    cjk_vocab = sum(1 for k in vocab if _CJK.search(k))
    return {"unknown_token_share": unk_share, "cjk_share": cjk_share, "cjk_vocab": cjk_vocab}


def language_fit(backbone: Backbone, texts: Sequence[str]) -> tuple[dict, Message | None]:
    """The measured stats and, when the backbone reads the texts poorly, a warning."""
    stats = language_stats(backbone, texts)
    if stats["unknown_token_share"] > 0.10:
        pct = round(100 * stats["unknown_token_share"])
        return stats, msg("backbone.unknown_tokens", pct=pct, name=backbone.name,
                          hint=MULTILINGUAL_HINT)
    if stats["cjk_share"] > 0.3 and stats["cjk_vocab"] < 3000:
        return stats, msg("backbone.english_only", name=backbone.name, hint=MULTILINGUAL_HINT)
    return stats, None
