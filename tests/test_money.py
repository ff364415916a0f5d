"""core/money: parsing what people type, formatting, words, conversions — integers all the way."""

from __future__ import annotations

import pytest

from codev.core.money import (
    EUR_RATE_MILLIONTHS,
    MoneyError,
    Ratio,
    convert_to_xof,
    format_bps,
    format_xof,
    parse_minor,
    parse_rate,
    parse_xof,
    share_bps,
    xof_in_words,
)


@pytest.mark.parametrize("typed", ["2 500 000", "2500000", "2.500.000", "2\u202f500\u202f000", " 2500000 F CFA"])
def test_amounts_typed_with_or_without_spaces(app, typed):
    with app.test_request_context():
        assert parse_xof(typed) == 2_500_000


@pytest.mark.parametrize("typed", ["-5", "0", "2500,5", "deux", "1" * 17, "", "1e6"])
def test_bad_amounts_are_refused_with_a_message(app, typed):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(MoneyError) as refused:
            parse_xof(typed)
    assert str(refused.value)


def test_conversions_are_exact_to_the_franc():
    assert convert_to_xof(100_000, EUR_RATE_MILLIONTHS) == 655_957  # 1 000,00 EUR
    assert convert_to_xof(123_456, EUR_RATE_MILLIONTHS) == 809_818  # 1 234,56 EUR = 809 818,27
    assert convert_to_xof(50, 1_000_000) == 1  # half a franc rounds up
    assert convert_to_xof(10**17, EUR_RATE_MILLIONTHS) == 655_957 * 10**12  # 10^15 EUR: exact
    assert isinstance(convert_to_xof(1, EUR_RATE_MILLIONTHS), int)


def test_foreign_amounts_and_rates():
    assert parse_minor("1 250,50") == 125_050
    assert parse_minor("1250.5") == 125_050
    assert parse_rate("655,957") == EUR_RATE_MILLIONTHS
    with pytest.raises(MoneyError):
        parse_minor("12.345")


def test_formats_in_both_languages():
    assert format_xof(2_500_000, "fr") == "2\u202f500\u202f000\u00a0F\u202fCFA"
    assert format_xof(4_000_000, "en") == "4,000,000\u00a0F\u202fCFA"
    assert format_bps(7000, "fr") == "70\u00a0%" and format_bps(3333, "en") == "33.33%"
    assert share_bps(1, 3) == 3333 and share_bps(2, 3) == 6667


@pytest.mark.parametrize(
    "amount, locale, words",
    [
        (2_500_000, "fr", "deux millions cinq cent mille francs CFA"),
        (4_000_000, "fr", "quatre millions de francs CFA"),
        (1_000_000_000, "fr", "un milliard de francs CFA"),
        (80, "fr", "quatre-vingts francs CFA"),
        (1, "fr", "un franc CFA"),
        (2_500_000, "en", "two million five hundred thousand CFA francs"),
    ],
)
def test_amounts_in_words(amount, locale, words):
    assert xof_in_words(amount, locale) == words


def test_match_ratio_rounds_down_for_the_state():
    assert Ratio(1, 1).apply(4_000_000) == 4_000_000
    assert Ratio(2, 1).apply(3) == 6
    assert Ratio(1, 2).apply(3) == 1
