"""The fast paths of the formats a ranking repeats thousands of times write what Babel writes (issue 11)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from hypothesis import given
from hypothesis import strategies as st

from codev.core.money import XOF_PATTERN, format_xof
from codev.reviews.ranking import TableRow, format_score


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["fr", "en"]))
def test_format_xof_is_babel(amount, locale):
    assert format_xof(amount, locale) == format_currency(amount, "XOF", format=XOF_PATTERN, locale=locale)


def test_format_xof_negative_goes_through_babel():
    assert format_xof(-2500, "fr") == format_currency(-2500, "XOF", format=XOF_PATTERN, locale="fr")


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from(["fr", "en"]))
def test_format_score_is_babel(centi, locale):
    expected = format_decimal(Decimal(centi) / 100, format="0.00", locale=locale) + " / 100"
    assert format_score(centi, locale) == expected


def test_a_table_row_reads_as_a_dict_and_as_attributes():
    row = TableRow({"rank": 3})
    assert row.rank == row["rank"] == 3
    assert not hasattr(row, "missing")
