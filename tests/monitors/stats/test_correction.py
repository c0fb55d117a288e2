"""Multiple-testing correction: Bonferroni, Holm, Benjamini-Hochberg."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitors.stats.correction import adjust_p_values

P = [0.01, 0.04, 0.03, 0.2, 0.005]


def test_bonferroni_multiplies_by_the_family_size_capped_at_one() -> None:
    assert adjust_p_values(P, "bonferroni").tolist() == pytest.approx([0.05, 0.2, 0.15, 1.0, 0.025])


def test_holm_steps_down_and_stays_monotone() -> None:
    # sorted: 0.005*5, 0.01*4, 0.03*3, 0.04*2, 0.2*1 -> 0.025, 0.04, 0.09, 0.09 (max), 0.2
    assert adjust_p_values(P, "holm").tolist() == pytest.approx([0.04, 0.09, 0.09, 0.2, 0.025])


def test_benjamini_hochberg_equals_scipys_false_discovery_control() -> None:
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.001, size=5)])
    assert adjust_p_values(p, "bh") == pytest.approx(stats.false_discovery_control(p, method="bh"), rel=1e-12)


def test_no_correction_and_empty_families_pass_through() -> None:
    assert adjust_p_values(P, "none").tolist() == P
    assert adjust_p_values([], "holm").size == 0


def test_holm_is_never_more_conservative_than_bonferroni() -> None:
    p = np.random.default_rng(8).uniform(0, 0.1, size=30)
    assert np.all(adjust_p_values(p, "holm") <= adjust_p_values(p, "bonferroni"))


def test_p_values_outside_zero_one_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values([0.5, 1.5], "holm")
