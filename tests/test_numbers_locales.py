"""Numbers as each language writes them (issue 13): one parser, the reader's language for the ambiguous case.

English writes "1,200" and "4,000.50"; French writes "1 200" (with any space, U+00A0 and U+202F
included), "1.200" and "4 000,50". A figure that only one reading fits is read so in both languages; a
figure the reader's language reads as decimals where the field takes fewer is refused with a message
saying how to write it there, never read as another number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codev.core.money import parse_minor, parse_rate, parse_xof
from codev.core.numbers import (
    NumberError,
    Wording,
    parse_number,
    parse_percent,
    parse_whole,
    split_figure,
    typed_number,
)

NNBSP, NBSP = "\u202f", "\u00a0"

# (parser, locale, typed) → the integer stored (francs, counts, cents, basis points, millionths)
READ = [
    (parse_whole, "en", "1,200", 1200), (parse_whole, "en", "1 200", 1200),
    (parse_whole, "en", "1,200,000", 1_200_000),
    (parse_whole, "fr", "1 200", 1200), (parse_whole, "fr", f"1{NNBSP}200", 1200),
    (parse_whole, "fr", f"1{NBSP}200", 1200),
    (parse_whole, "fr", "1.200", 1200), (parse_whole, "fr", "1.200.000", 1_200_000),
    (parse_xof, "en", "3,000,000", 3_000_000), (parse_xof, "en", "5,000,000 F CFA", 5_000_000),
    (parse_xof, "fr", f"5{NNBSP}000{NNBSP}000{NBSP}F{NNBSP}CFA", 5_000_000),
    (parse_xof, "fr", "1.500.000 FCFA", 1_500_000),
    (parse_xof, "fr", "3,000,000", 3_000_000),  # twice the same mark: thousands in any language
    (parse_minor, "en", "4,000", 400_000), (parse_minor, "en", "4,000.50", 400_050),
    (parse_minor, "en", "4000.5", 400_050),
    (parse_minor, "fr", "4 000,50", 400_050), (parse_minor, "fr", "4.000,50", 400_050),
    (parse_minor, "fr", "4 000", 400_000),
    (parse_minor, "fr", "4000.50", 400_050),  # a point followed by two digits can only be decimals
    (parse_minor, "en", "4.000,50", 400_050),  # the last mark of two is the decimal one
    (parse_rate, "en", "655.957", 655_957_000), (parse_rate, "fr", "655,957", 655_957_000),
    (parse_rate, "en", "1,234.5", 1_234_500_000), (parse_rate, "fr", "1 234,5", 1_234_500_000),
    (parse_percent, "en", "33.5", 3350), (parse_percent, "fr", "33,5 %", 3350),
]


@pytest.mark.parametrize(("parse", "locale", "typed", "stored"), READ,
                         ids=[f"{p.__name__}-{loc}-{t!r}" for p, loc, t, _s in READ])
def test_each_language_is_read_as_it_writes(app, parse, locale, typed, stored):
    with app.test_request_context(headers={"Accept-Language": locale}):
        assert parse(typed) == stored  # the reader's language, from the request
    assert parse(typed, locale=locale) == stored


REFUSED = [  # (parser, locale, typed, the words the refusal must hold)
    (parse_whole, "fr", "1,200", "Séparez les milliers par une espace ou un point"),
    (parse_whole, "en", "1.200", "Write thousands with a comma or a space, for example 1,200"),
    (parse_xof, "fr", "2,500", "Séparez les milliers par une espace ou un point"),
    (parse_xof, "en", "2.500", "Write thousands with a comma or a space"),
    (parse_minor, "fr", "4,000", "les décimales par une virgule, par exemple 1 200,50"),
    (parse_minor, "fr", "1.200", "les décimales par une virgule"),  # thousands or decimals? Not guessed.
    (parse_minor, "en", "4.000", "decimals with a point, for example 1,200.50"),
    (parse_rate, "fr", "655.957", "les décimales par une virgule"), (parse_percent, "fr", "12,500", "1 200,50"),
    (parse_xof, "en", "2,500.5", "Francs CFA have no cents"),
    (parse_whole, "en", "1,20", "Enter a whole number"), (parse_whole, "en", "12,00,000", "Enter a whole number"),
    (parse_whole, "fr", "1 200,", "Saisissez un nombre entier"),
    (parse_minor, "en", ",5", "Enter the amount in digits"),
    (parse_minor, "en", "1,2,3.4", "Enter the amount in digits"), (parse_minor, "en", "1.000.0", "Enter the amount"),
]


@pytest.mark.parametrize(("parse", "locale", "typed", "words"), REFUSED,
                         ids=[f"{p.__name__}-{loc}-{t!r}" for p, loc, t, _w in REFUSED])
def test_a_figure_the_language_reads_otherwise_is_refused_saying_how_to_write_it(app, parse, locale, typed, words):
    with app.test_request_context(headers={"Accept-Language": locale}), pytest.raises(NumberError) as refused:
        parse(typed)
    assert words in str(refused.value)


def test_the_ambiguity_is_named_and_other_digits_stay_refused(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        with pytest.raises(NumberError) as ambiguous:
            parse_whole("1,200")
        with pytest.raises(NumberError) as foreign:
            parse_whole("１,２００")
        with pytest.raises(NumberError) as negative:
            parse_xof("-1,200")
    assert (ambiguous.value.kind, foreign.value.kind, negative.value.kind) == ("ambiguous", "digits", "negative")


def test_a_field_message_does_not_hide_how_to_write_thousands(app):
    with app.test_request_context(headers={"Accept-Language": "en"}), pytest.raises(NumberError) as refused:
        parse_whole("1.500", message="Enter a whole number from 0 to 10.")
    assert refused.value.kind == "ambiguous" and "1,200" in str(refused.value)


@pytest.mark.parametrize(("raw", "places", "language", "parts"), [
    ("1200", 0, "fr", ("1200", "")), ("1,200", 0, "en", ("1200", "")), ("1,200", 6, "fr", ("1", "200")),
    ("1.200", 0, "fr", ("1200", "")), ("1.200", 2, "fr", "ambiguous"), ("1.200", 6, "en", ("1", "200")),
    ("0,500", 0, "en", ("0", "500")), ("1234,567", 0, "en", ("1234", "567")), ("1,200.5", 0, "fr", ("1200", "5")),
    ("1.2.3", 0, "en", "format"), ("1,200.000.5", 6, "en", "format"), ("1.", 2, "en", "format"),
])
def test_the_split_of_a_figure(raw, places, language, parts):
    """The whole rule in one table (the live plan's script follows the same one: test_browser_numbers)."""
    assert split_figure(raw, places, language) == parts


# --- one money format per language --------------------------------------------------------------------

CODEV = Path(__file__).resolve().parent.parent / "codev"
HELPERS = {"core/money.py", "core/numbers.py"}  # the one place numbers are written and read
NOT_MONEY = {  # numbers in the reader's language through Babel, never an amount (reviewed one by one)
    "reviews/views_common.py", "reviews/ranking.py",  # scores out of 100 ("73,50")
    "oversight/dashboard_views.py", "oversight/views.py",  # the leverage and other ratios ("1,25")
    "core/storage.py",  # file sizes ("1,5 MB")
}
HAND_BUILT_PYTHON = re.compile(r":,\}|\{:,|:_\}|\bformat_(?:decimal|currency)\(|replace\(\",\", ?\"[ .]\"\)")
# An amount followed by a currency written by hand, or a number formatted in the template itself.
HAND_BUILT_TEMPLATE = re.compile(r"\}\}\s*(?:F(?:\s|&nbsp;|\u00a0|\u202f)?CFA|FCFA|XOF|€|\$)|\"\{:,|'\{:,|\|format\(")


def test_no_amount_is_written_by_hand_outside_the_money_helpers():
    """Every amount on a page, in a letter or an email goes through format_xof (French "5 000 000 F CFA",
    English "5,000,000 F CFA"), so a page never shows two formats; exports keep raw integers."""
    found = []
    for path in sorted(CODEV.rglob("*.py")):
        where = path.relative_to(CODEV).as_posix()
        if where in HELPERS | NOT_MONEY or where.startswith("migrations/"):
            continue
        found += [f"{where}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                  if HAND_BUILT_PYTHON.search(line)]
    for path in sorted((CODEV / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            found += [f"{path.relative_to(CODEV).as_posix()}:{n}"
                      for n, line in enumerate(path.read_text().splitlines(), 1) if HAND_BUILT_TEMPLATE.search(line)]
    # The live plan writes francs from the sample format_xof gives it; its fallback is format_xof's French suffix.
    script = (CODEV / "static/js/financing.js").read_text().replace('"\\u00a0F\\u202fCFA"', "")
    assert re.search(r"[\"'](?:\s|\\u00a0|\\u202f)*F(?:\s|\\u00a0|\\u202f)*CFA", script) is None
    assert found == []


@pytest.mark.parametrize(("locale", "amount", "rate"), [("fr", "5\u202f000\u202f000\u00a0F\u202fCFA", "655,957"),
                                                       ("en", "5,000,000\u00a0F\u202fCFA", "655.957")])
def test_one_money_format_per_language(locale, amount, rate):
    from codev.core.money import format_rate, format_xof, rate_text

    assert format_xof(5_000_000, locale) == amount and format_rate(655_957_000, locale) == rate
    assert rate_text(655_957_000) == "655.957"  # exports: the same in every language


def test_the_rates_page_writes_rates_as_french_does(client, users, login_as):
    login_as(users["officer"])
    page = client.get("/calls/rates", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "655,957" in page and "655.957" not in page


@settings(max_examples=300, deadline=None)
@given(units=st.integers(min_value=0, max_value=10**17), places=st.sampled_from([0, 2, 6]),
       locale=st.sampled_from(["fr", "en"]), cents=st.booleans())
def test_what_a_field_writes_back_is_read_again_as_the_same_number(units, places, locale, cents):
    """A refused form shows the figures as the reader types them ("4 000,50", "4,000.50"); saved again, they
    are the same numbers in both languages."""
    typed = typed_number(units, places, locale, cents=cents)
    assert parse_number(typed, places=places, maximum=10**30, wording=Wording(format="x"), locale=locale) == units


@pytest.mark.parametrize(("locale", "typed", "shown", "grant"), [
    ("fr", "4 000,50", "4 000,50", "1.500.000"), ("en", "4,000.50", "4,000.50", "1,500,000")])
def test_the_plan_page_writes_back_what_it_reads_in_each_language(client, db, users, login_as, locale, typed, shown,
                                                                   grant):
    """Saved in a language, the plan's figures come back in the fields as that language writes them, and saving
    them again unchanged keeps the same money."""
    from codev.projects.models import Project
    from tests.factories_projects import financing_form, ready_project

    member = users["association"]
    member.locale = locale
    login_as(member)
    project = ready_project(member)
    db.session.commit()
    lines = [("association_cash", "EUR", typed)]
    assert client.post(f"/projects/{project.id}/financing", data=financing_form(lines, grant, project.version)
                       ).status_code == 302
    page = client.get(f"/projects/{project.id}/financing").get_data(as_text=True)
    assert f'value="{shown}"' in page and f'value="{typed_number(1_500_000, 0, locale)}"' in page
    db.session.expire_all()
    saved = db.session.get(Project, project.id)
    assert [(f.currency, f.amount_minor) for f in saved.financing_lines] == [("EUR", 400_050)]
    again = client.post(f"/projects/{project.id}/financing",
                        data=financing_form([("association_cash", "EUR", shown)], typed_number(1_500_000, 0, locale),
                                            saved.version))
    assert again.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Project, project.id)
    assert [(f.amount_minor, saved.requested_grant_xof) for f in saved.financing_lines] == [(400_050, 1_500_000)]
