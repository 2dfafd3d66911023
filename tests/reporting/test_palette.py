"""Class colours stay distinct for as many classes as the data has (issue 14)."""

from __future__ import annotations

import re

import pytest

from metacore.reporting import palette

HEX = re.compile(r"^#[0-9a-f]{6}$")


@pytest.mark.parametrize("n", [1, 10, 15, 30, 77, 150])
def test_n_classes_get_n_different_colours(n) -> None:
    colours = palette.class_palette(n)
    assert len(colours) == n and len(set(colours)) == n
    assert all(HEX.match(c) for c in colours)


@pytest.mark.parametrize("n", [10, 15, 24, 30])
def test_up_to_30_colours_are_far_apart(n) -> None:
    # 0.08 in OKLab is a plainly visible difference (a just-noticeable one is about 0.02);
    # Plotly's default 10-colour palette repeated (what came before) has distance 0 at 11
    assert palette.min_distance(palette.class_palette(n)) > 0.08


def test_more_colours_stay_apart_and_readable_on_white() -> None:
    colours = palette.class_palette(150)
    assert palette.min_distance(colours) > 0.04
    lightness = palette.oklab(colours)[:, 0]
    assert lightness.min() > 0.3 and lightness.max() < 0.9  # none vanishes on the page


def test_a_class_keeps_its_colour_as_more_classes_arrive() -> None:
    assert palette.class_palette(77)[:15] == palette.class_palette(15)
    assert palette.class_palette(150)[:77] == palette.class_palette(77)


def test_class_colours_follow_sorted_names_and_say_when_colour_is_not_enough() -> None:
    colours = palette.class_colours(["b", "a", "c", "a"])
    assert list(colours) == ["a", "b", "c"]
    assert list(colours.values()) == palette.class_palette(3)
    assert palette.distinct(palette.DISTINCT_LIMIT)
    assert not palette.distinct(palette.DISTINCT_LIMIT + 1)
    assert palette.class_palette(0) == []
