"""The method the workbench recommends for *adapt to my classes*, and why, in one place.

The app preselects it and labels it, the CLI uses it when ``--method`` is left out, and the
sentence that says why quotes the measured figures below. They come from
``bench/fewshot.py`` (``docs/benchmarks.md``, "The recommended method"): update both together.
"""

from __future__ import annotations

RECOMMENDED = "centroid-blend"

# bench/fewshot.py (K = 8, bundled MiniLM, test sets capped at 1 500 texts; docs/benchmarks.md,
# "The recommended method"): mean macro-F1 % over the six sets (SST-5, Emotion, CR, AG News,
# SNIPS, ChnSentiCorp), every method on seeds 0-4; training seconds like for like (seed 0 of
# each set, both methods in one process: the -timing-h run, whose tuning does the same work).
EVIDENCE = {"sets": 6, "seeds": 5, "shots": 8, "f1": 62.2, "setfit_f1": 59.9, "nc_f1": 57.0,
            "train_s": 143.7, "setfit_train_s": 836.3}


def is_recommended(name: str) -> bool:
    return name == RECOMMENDED


def reason(lang: str = "en") -> str:
    """One sentence: which method is recommended and the figures that make it so."""
    from metacore.messages import Message

    e = EVIDENCE
    faster = e["setfit_train_s"] / e["train_s"] if e["train_s"] else 0.0
    return Message("method.recommended_reason", {
        "name": RECOMMENDED, "sets": e["sets"], "seeds": e["seeds"], "shots": e["shots"],
        "f1": f"{e['f1']:.1f}", "setfit_f1": f"{e['setfit_f1']:.1f}",
        "nc_f1": f"{e['nc_f1']:.1f}", "faster": f"{faster:.0f}"}).text(lang)
