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
from codev.core.numbers import NumberError, parse_id, parse_percent, parse_whole


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


# One rule for every number typed (issue 8): the same inputs, the same answer from every parser.
PARSERS = {"parse_xof": (parse_xof, 1), "parse_minor": (parse_minor, 100), "parse_rate": (parse_rate, 1_000_000),
           "parse_whole": (parse_whole, 1), "parse_percent": (parse_percent, 100)}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(("typed", "kind"), [
    ("１２３", "digits"), ("١٢٣", "digits"), ("²", "digits"), ("۱۲۳", "digits"), ("1２3", "digits"), ("Ⅻ", "digits"),
    ("9" * 40, "range"), ("1" + "0" * 5000, "range"), ("-1", "negative"), ("\u22121", "negative"),
    ("1e5", "format"), ("0x10", "format"), ("NaN", "format"), ("inf", "format"), ("+5", "format"), ("", "empty"),
])
def test_every_parser_refuses_the_same_inputs_for_the_same_reason(app, parser, typed, kind):
    parse, _scale = PARSERS[parser]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(NumberError) as refused:
            parse(typed)
    assert refused.value.kind == kind
    if kind == "digits":
        assert str(refused.value).startswith("Type the digits 0 to 9")


@pytest.mark.parametrize("parser", PARSERS)
def test_spaces_between_groups_are_only_spaces_for_every_parser(app, parser):
    parse, scale = PARSERS[parser]
    with app.test_request_context():
        try:
            outcome = parse(" 1 000 ")
        except NumberError as exc:
            outcome = exc.kind
        try:
            plain = parse("1000")
        except NumberError as exc:
            plain = exc.kind
    assert outcome == plain and plain in (1000 * scale, "range")


def test_the_digits_message_is_french_by_default(app):
    with app.test_request_context(), pytest.raises(NumberError) as refused:
        parse_xof("１２３")
    assert str(refused.value).startswith("Tapez les chiffres de 0 à 9")


def test_whole_numbers_and_ids_stay_within_their_columns(app):
    with app.test_request_context():
        assert parse_whole("2 147 483 647") == 2**31 - 1
        with pytest.raises(NumberError):
            parse_whole(str(2**31))
        assert parse_percent("33,5") == 3350 and parse_percent("70 %") == 7000
    assert parse_id("12") == 12 and parse_id(str(2**63 - 1)) == 2**63 - 1
    assert [parse_id(v) for v in ("１２", "²", "-1", "0", str(2**63), "1e3", None, "", True)] == [None] * 9
