"""Episodes and class-disjoint splits for the unseen-class protocol.

Vocabulary of the field (learn2learn's ``NWays``/``KShots``/``partition_task``): an episode
has ``n_way`` classes, ``k_shot`` labelled *support* examples per class and ``n_query`` *query*
examples per class to predict. Episodes are plain data (class names and row indices into a
``TextSet``), so the same test episodes can be replayed for every method in a comparison.

Class splits put each class in exactly one of ``meta_train`` (base classes to meta-train on),
``meta_val`` (to pick settings and watch training) and ``novel`` (the unseen test classes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metacore.data.dataset import TextSet
from metacore.data.findings import DataError, Finding
from metacore.messages import Message, listing, msg

PARTS = ("meta_train", "meta_val", "novel")
# Values of a split column, mapped onto the three class-disjoint parts.
PART_ALIASES = {
    "meta_train": "meta_train", "train": "meta_train", "base": "meta_train",
    "meta_val": "meta_val", "val": "meta_val", "validation": "meta_val", "dev": "meta_val",
    "meta_test": "novel", "test": "novel", "novel": "novel",
}  # fmt: skip
# The parts a finding can name, as terms; callers that still pass these English words get the
# term, so the finding reads in any language.
_PART_TERMS = {
    "the data": "term.part.data", "the novel classes": "term.part.novel_classes",
    "the novel part": "term.part.novel", "the meta-training part": "term.part.meta_training",
}  # fmt: skip


@dataclass(frozen=True)
class Episode:
    """One N-way K-shot task: class names and row indices into the ``TextSet`` it came from.

    Support and query rows are grouped by class, in the order of ``classes``.
    """

    classes: tuple[str, ...]
    support: tuple[int, ...]
    query: tuple[int, ...]

    @property
    def n_way(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict:
        return {"classes": list(self.classes), "support": list(self.support),
                "query": list(self.query)}


def class_counts(textset: TextSet) -> dict[str, int]:
    return dict(Counter(textset.labels))


def episode_findings(
    textset: TextSet, *, n_way: int, k_shot: int, n_query: int,
    classes: Sequence[str] | None = None, part: Message | str = "the data",
) -> list[Finding]:
    """Why episodes of this shape cannot be drawn from ``textset``, as error findings.

    ``part`` names where the classes come from in the sentence: a term such as
    ``msg("term.part.novel")`` (the English words of one are accepted too).
    """
    if n_way < 2 or k_shot < 1 or n_query < 1:
        shape = {"n_way": n_way, "k_shot": k_shot, "n_query": n_query}
        return [Finding("error", "episode_shape", shape)]
    if isinstance(part, str) and part in _PART_TERMS:
        part = msg(_PART_TERMS[part])
    counts = class_counts(textset)
    pool = list(classes) if classes is not None else sorted(counts)
    need = k_shot + n_query
    small = [c for c in pool if counts.get(c, 0) < need]
    findings = []
    if small:
        params = {"part": part, "n": len(small), "classes": listing(small), "need": need,
                  "k_shot": k_shot, "n_query": n_query,
                  "hint": msg("term.hint.lower_shots_queries")}
        findings.append(Finding("error", "episode_class_too_small", params, count=len(small)))
    usable = len(pool) - len(small)
    if usable < n_way:
        params = {"part": part, "n": usable, "n_way": n_way, "hint": msg("term.hint.lower_ways")}
        findings.append(Finding("error", "episode_too_few_classes", params, count=usable))
    return findings


def sample_episodes(
    textset: TextSet, n_way: int, k_shot: int, n_query: int, n_episodes: int, seed: int,
    classes: Sequence[str] | None = None,
) -> list[Episode]:
    """Draw ``n_episodes`` seeded episodes from ``textset`` (optionally only from ``classes``).

    Raises:
        DataError: the shape cannot be drawn (one sentence naming the problem).
    """
    errors = episode_findings(textset, n_way=n_way, k_shot=k_shot, n_query=n_query,
                              classes=classes)
    if errors:
        raise DataError(errors[0].as_message())
    rows: dict[str, list[int]] = {}
    for i, label in enumerate(textset.labels):
        rows.setdefault(label, []).append(i)
    pool = sorted(classes) if classes is not None else sorted(rows)
    rng = np.random.default_rng(seed)
    episodes = []
    for _ in range(n_episodes):
        chosen = [pool[i] for i in rng.choice(len(pool), size=n_way, replace=False)]
        support: list[int] = []
        query: list[int] = []
        for name in chosen:
            picked = rng.choice(rows[name], size=k_shot + n_query, replace=False)
            support += [int(i) for i in picked[:k_shot]]
            query += [int(i) for i in picked[k_shot:]]
        episodes.append(Episode(tuple(chosen), tuple(support), tuple(query)))
    return episodes


def support_set(textset: TextSet, episode: Episode) -> TextSet:
    return textset.subset(episode.support)


def episode_labels(textset: TextSet, episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    """Label ids (positions in ``episode.classes``) of the support and query rows."""
    lookup = {c: i for i, c in enumerate(episode.classes)}
    return (np.array([lookup[textset.labels[i]] for i in episode.support], dtype=np.int64),
            np.array([lookup[textset.labels[i]] for i in episode.query], dtype=np.int64))


def fitted_shape(textset: TextSet, n_way: int, k_shot: int, n_query: int
                 ) -> tuple[list[str], int, int, int] | None:
    """The episode shape a small training set allows (adapt protocol), or None if none does.

    Classes with fewer than two examples are left out; ``n_way`` shrinks to the classes left,
    and shots and queries to what the smallest of them has (at least one of each).
    """
    counts = class_counts(textset)
    usable = sorted(c for c, n in counts.items() if n >= 2)
    if len(usable) < 2:
        return None
    smallest = min(counts[c] for c in usable)
    shots = max(1, min(k_shot, smallest // 2))
    queries = max(1, min(n_query, smallest - shots))
    return usable, min(n_way, len(usable)), shots, queries


# --- class-disjoint splits --------------------------------------------------------------------
@dataclass(frozen=True)
class ClassSplit:
    """Which classes are meta-trained on, used for validation, and held out as novel."""

    meta_train: tuple[str, ...]
    meta_val: tuple[str, ...]
    novel: tuple[str, ...]
    how: str = "explicit"

    def to_dict(self) -> dict:
        return {"how": self.how, **{p: list(getattr(self, p)) for p in PARTS}}

    def part(self, textset: TextSet, name: str) -> TextSet:
        wanted = set(getattr(self, name))
        return textset.subset([i for i, y in enumerate(textset.labels) if y in wanted])


def check_class_split(split: ClassSplit, known: Sequence[str]) -> None:
    """Raise ``DataError`` when parts overlap, name unknown classes, or leave novel empty."""
    seen: dict[str, str] = {}
    for part in PARTS:
        for name in getattr(split, part):
            if name in seen:
                raise DataError("data.class_in_two_parts", name=name, first=seen[name],
                                second=part)
            seen[name] = part
    unknown = sorted(set(seen) - set(known))
    if unknown:
        raise DataError("data.unknown_classes", classes=listing(unknown))
    if not split.novel:
        raise DataError("data.no_novel_classes")


def parse_class_split(text: str) -> ClassSplit:
    """Parse ``meta_train=a,b;meta_val=c;novel=d,e`` (``meta_test`` also means novel)."""
    parts: dict[str, tuple[str, ...]] = {p: () for p in PARTS}
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        key, sep, names = chunk.partition("=")
        part = PART_ALIASES.get(key.strip().lower())
        if not sep or part is None:
            raise DataError("data.bad_class_split", chunk=chunk)
        parts[part] = tuple(n.strip() for n in names.split(",") if n.strip())
    return ClassSplit(**parts, how="explicit")


def column_class_split(frame: pd.DataFrame) -> ClassSplit:
    """Read the class split from a ``split`` column (meta_train / meta_val / meta_test)."""
    if "split" not in frame.columns:
        raise DataError("data.no_split_column", hint=msg("term.hint.random_split"))
    parts = frame["split"].astype(str).str.strip().str.lower().map(PART_ALIASES)
    if parts.isna().any():
        odd = sorted(set(frame.loc[parts.isna(), "split"].astype(str)))
        raise DataError("data.odd_split_values", values=listing(odd))
    per_class = pd.DataFrame({"label": frame["label"], "part": parts}).drop_duplicates()
    mixed = per_class["label"][per_class["label"].duplicated()].unique().tolist()
    if mixed:
        raise DataError("data.mixed_classes", classes=listing(sorted(mixed)))
    names = {p: tuple(sorted(per_class.loc[per_class["part"] == p, "label"])) for p in PARTS}
    return ClassSplit(**names, how="column")


def random_class_split(classes: Sequence[str], seed: int, *, val_fraction: float = 0.2,
                       novel_fraction: float = 0.3) -> ClassSplit:
    """Shuffle the classes (seeded) and cut them into meta-train, meta-validation and novel."""
    order = [classes[i] for i in np.random.default_rng(seed).permutation(len(classes))]
    n_novel = max(1, round(novel_fraction * len(order)))
    n_val = round(val_fraction * len(order)) if len(order) - n_novel > 2 else 0
    novel, val = order[:n_novel], order[n_novel : n_novel + n_val]
    train = order[n_novel + n_val :]
    return ClassSplit(tuple(sorted(train)), tuple(sorted(val)), tuple(sorted(novel)), "random")


def resolve_class_split(how: str, frame: pd.DataFrame, seed: int) -> ClassSplit:
    """``column``, ``random``, or an explicit ``meta_train=…;meta_val=…;novel=…`` string."""
    key = (how or "column").strip()
    classes = sorted(frame["label"].unique().tolist())
    if key.lower() == "column":
        split = column_class_split(frame)
    elif key.lower() == "random":
        split = random_class_split(classes, seed)
    else:
        split = parse_class_split(key)
    check_class_split(split, classes)
    return split
