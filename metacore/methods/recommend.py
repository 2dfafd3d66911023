"""The method the workbench recommends for *adapt to my classes*, and why, in one place.

The app preselects it and labels it, the CLI uses it when ``--method`` is left out, and the
sentence that says why quotes the measured figures below. They come from
``bench/fewshot.py`` (``docs/benchmarks.md``, "The recommended method"): update both together.
"""

from __future__ import annotations

RECOMMENDED = "centroid-blend"

# bench/fewshot.py --datasets sst5 emotion cr agnews snips chnsenticorp --seeds 0 1 2 3 4
# (K = 8, bundled MiniLM, test sets capped at 1 500 texts): mean macro-F1 % over the six sets
# and training seconds summed over the 30 runs of each method.
EVIDENCE = {"sets": 6, "seeds": 5, "shots": 8, "f1": 0.0, "setfit_f1": 0.0, "nc_f1": 0.0,
            "train_s": 0.0, "setfit_train_s": 0.0}


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
