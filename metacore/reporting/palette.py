"""Class colours that stay apart for as many classes as the data has.

The first colours are hand-made qualitative palettes (Tableau 10, then the distinct members of
Plotly's ``Dark24``, ``Alphabet`` and ``Light24``), kept in an order where each next colour is
as far as possible from those before it. Past them, colours are generated: each next one is the
candidate, from a grid of sRGB colours that read on a white page (not too light, not grey), the
farthest in OKLab (a perceptually even colour space) from every colour already chosen. So the
palette of ``n`` classes has ``n`` different colours for any ``n``, and its first ones are
the most different.

People tell about 20 to 25 colours apart in a scatter plot; ``DISTINCT_LIMIT`` is where a
figure or page says so and offers to highlight one class instead.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from plotly.colors import qualitative

DISTINCT_LIMIT = 24  # beyond this many classes, colours alone no longer tell them apart
GREY = "#d1d5db"     # the other classes while one is highlighted

# Tableau 10 (what the teaching pages used), then Plotly's larger qualitative palettes.
_SEEDS = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
          "#9c755f", "#ff9da7", "#5f6b7a", *qualitative.Dark24, *qualitative.Alphabet,
          *qualitative.Light24]
_CURATED = 30          # how many of the seed colours are kept, at most
_MIN_SEED_DISTANCE = 0.09  # a seed closer than this (OKLab) to an earlier one is skipped


def _srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` (…, 3) in [0, 1] to OKLab (Björn Ottosson's transform)."""
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                   [0.2119034982, 0.6806995451, 0.1073969566],
                   [0.0883024619, 0.2817188376, 0.6299787005]])
    m2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                   [1.9779984951, -2.4285922050, 0.4505937099],
                   [0.0259040371, 0.7827717662, -0.8086757660]])
    lms = np.cbrt(lin @ m1.T)
    return lms @ m2.T


def _hex_to_rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4)])


def oklab(colours: list[str]) -> np.ndarray:
    """The OKLab coordinates of ``#rrggbb`` colours, one row each."""
    return _srgb_to_oklab(np.array([_hex_to_rgb(c) for c in colours]).reshape(-1, 3))


def min_distance(colours: list[str]) -> float:
    """The smallest OKLab distance between two of ``colours`` (inf for fewer than two)."""
    if len(colours) < 2:
        return float("inf")
    lab = oklab(colours)
    d = np.linalg.norm(lab[:, None, :] - lab[None, :, :], axis=-1)
    return float(d[np.triu_indices(len(colours), 1)].min())


def _readable(colour: str) -> bool:
    """Shows on a white page as a colour: not too light, not too dark, not grey."""
    lab = oklab([colour])[0]
    return 0.35 < lab[0] < 0.85 and float(np.hypot(lab[1], lab[2])) > 0.06


@lru_cache(maxsize=1)
def _candidates() -> tuple[list[str], np.ndarray]:
    """sRGB colours that show on white: OKLab lightness 0.35-0.82 and some colour."""
    steps = np.linspace(0, 1, 18)
    rgb = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(-1, 3)
    lab = _srgb_to_oklab(rgb)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    keep = (lab[:, 0] > 0.35) & (lab[:, 0] < 0.82) & (chroma > 0.06)
    hexes = ["#" + "".join(f"{round(v * 255):02x}" for v in row) for row in rgb[keep]]
    return hexes, lab[keep]


@lru_cache(maxsize=4)
def _palette(n: int) -> tuple[str, ...]:
    chosen: list[str] = []
    for colour in _SEEDS:  # the curated ones, skipping near-repeats
        colour = colour.lower()
        if len(chosen) >= min(n, _CURATED):
            break
        if (colour not in chosen and _readable(colour)
                and min_distance([*chosen, colour]) >= _MIN_SEED_DISTANCE):
            chosen.append(colour)
    if len(chosen) >= n:
        return tuple(chosen[:n])
    hexes, lab = _candidates()
    nearest = np.full(len(hexes), np.inf)
    for colour in chosen:
        nearest = np.minimum(nearest, np.linalg.norm(lab - oklab([colour])[0], axis=1))
    while len(chosen) < n:  # farthest-point: the candidate farthest from all chosen so far
        pick = int(np.argmax(nearest))
        chosen.append(hexes[pick])
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[pick], axis=1))
        nearest[pick] = -1.0  # never the same colour twice
    return tuple(chosen)


def class_palette(n: int) -> list[str]:
    """``n`` different colours (``#rrggbb``), the most different first."""
    if n <= 0:
        return []
    size = max(n, 32)  # one cached palette serves every smaller n: a class keeps its colour
    if size > 32:
        size = 1 << (size - 1).bit_length()
    return list(_palette(size)[:n])


def class_colours(classes: list[str] | tuple[str, ...] | object) -> dict[str, str]:
    """One colour per class, in sorted order (the same class, the same colour on every
    figure that shows the same classes)."""
    names = sorted({str(c) for c in classes})  # type: ignore[union-attr]
    return dict(zip(names, class_palette(len(names)), strict=True))


def distinct(n: int) -> bool:
    """Whether ``n`` classes can be told apart by colour alone."""
    return n <= DISTINCT_LIMIT
