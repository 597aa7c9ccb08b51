"""Bounds of the whole numbers in criteria models (levels, star counts, tenure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wuxing_cli.models.criteria import Tenure


@pytest.mark.parametrize("level", [0, -1, 1001])
def test_tenure_level_is_a_real_level(level: int) -> None:
    with pytest.raises(ValidationError):
        Tenure(level=level, periods=1)


def test_tenure_level_one_to_a_thousand_is_accepted() -> None:
    assert Tenure(level=1, periods=2).level == 1
    assert Tenure(level=1000, periods=60).level == 1000
