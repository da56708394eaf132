"""The studio's one way of writing strokes and numbers (studio/numbers.py)."""
from __future__ import annotations

import pytest

from sketchstudio.studio.numbers import (
    format_probability,
    format_score,
    format_value,
    score_unit,
    stroke_name,
    verdict,
)


def test_strokes_are_named_as_users_count():
    assert [stroke_name(k) for k in range(3)] == ["stroke 1", "stroke 2", "stroke 3"]


@pytest.mark.parametrize("value, text", [(0.5123, "+0.512"), (-1.234, "-1.23"), (0.0, "0"),
                                         (-0.0, "0"), (0.000421, "+0.000421"), (12.0, "+12"),
                                         (-3.2e-7, "-3.2e-07"), (float("nan"), "nan")])
def test_attribution_values_are_signed_with_three_significant_digits(value, text):
    assert format_value(value) == text


def test_scores_and_probabilities():
    assert format_score(3.14159) == "3.14" and format_score(-0.5) == "-0.5"
    assert [format_probability(p) for p in (0.0, 0.001, 0.04, 0.5, 0.996, 1.0)] == [
        "0%", "<1%", "4%", "50%", ">99%", "100%"]


def test_verdicts_and_units():
    assert [verdict(v) for v in (0.1, -0.1, 0.0)] == ["helps", "hurts", "neutral"]
    assert score_unit("cosine") == "cosine similarity"
    assert score_unit("logit") == "logit" and score_unit(None) == "score"
    assert score_unit("something-new") == "something-new"
