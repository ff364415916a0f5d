"""Fuzz every POST form of every role (issue 8): random text, unicode, huge and negative numbers.

For each rule taking POST and each role its access rule lets in, Hypothesis fills the forms that the
role's demo accounts see (the fields read from the page) with what careless users and attackers send:
any unicode (control characters, NUL, lone surrogates as raw bytes, bidi overrides, full-width digits),
huge and negative numbers, impossible dates, very long strings, choices that do not exist, a field
twice or missing, the page's hidden version and idempotency key altered, files of any name and
content; the fields not altered are completed as a person would. The answer is never a 500, and a
refused form (no redirect, or a redirect with an error message) leaves the database and the upload
folder as they were, but for the refused attempts counted on purpose (``ALLOWED_TABLES``).
Derandomized: CI runs the same examples every time (``CODEV_FUZZ_EXAMPLES`` runs more of them).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_pages import ISSUE_VALUES, PDF, Field, FormSpec, body_of
from tests.fuzz_support import other_ids, post_cases, shared_harness, targets

# Per (endpoint, role), about 80 pairs; CODEV_FUZZ_EXAMPLES=500 searches longer on a developer's machine.
EXAMPLES = int(os.environ.get("CODEV_FUZZ_EXAMPLES", "12"))

HUGE = [10**30, 2**63, 2**63 - 1, -(2**63) - 1, 2**31, -(2**31), 2**53 + 1, 10**18, 10**400, -1, 0]
SPECIAL = [
    "\u202efdp.exe", "\u202e", "\u200f\u0661\u0662\u0663", "\ufeff", "\u200b", "\u0000abc", "abc\u0000", "\r\n",
    " ", "\t", "<script>alert(1)</script>", "' OR 1=1 --", "{{ 7*7 }}", "%s%n", "../../etc/passwd",
    "javascript:alert(1)", "http://", "https://localhost:99999/", "http://xn--/", "ftp://x", "mailto:a@b",
    "a@b", "@", "a@@b.c", "a@b.c\u0000", "x@ｅｘａｍｐｌｅ.org", "é" * 300, "١٢٣", "²", "½", "Ⅻ", "1e309", "nan",
    "inf", "-0", "1,5", "1.5", "1 000 000", "1\u202f000", "0x10", "1_000", "+5", "--5", "5-", "1e6",
    "2026-02-30", "0001-01-01", "9999-12-31", "10000-01-01", "2026-13-01", "26/12/2026", "-2026-01-01",
    "null", "None", "true", "[]", "{}",
]

texts = st.text(st.characters(), max_size=40)
controls = st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co"]), min_size=1, max_size=8)
surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
numbers = st.one_of(st.sampled_from(HUGE), st.integers(-(10**40), 10**40)).map(str)
fullwidth = st.integers(0, 10**12).map(lambda n: str(n).translate({48 + i: 0xFF10 + i for i in range(10)}))
values = st.one_of(
    texts, controls, surrogates, numbers, fullwidth, st.sampled_from(ISSUE_VALUES), st.sampled_from(SPECIAL),
    st.just(""), st.text(st.characters(), min_size=1, max_size=3).map(lambda s: s * 4000),
)
file_names = st.one_of(st.sampled_from(["devis.pdf", "devis.html", "\u202efdp.exe", "../../x.pdf", "a\x00.pdf",
                                        "", "x" * 500 + ".pdf", "statuts.PDF"]), texts)
file_contents = st.one_of(st.just(PDF), st.just(b""), st.binary(max_size=300),
                          st.sampled_from([b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff" + b"\x00" * 40,
                                           b"PK\x03\x04" + b"\x00" * 60, b"MZ\x90\x00" + b"\x00" * 60]))


def field_values(f: Field) -> st.SearchStrategy[list[str]]:
    """What one altered field sends: the page's own value (often empty), none, one or two values a
    careless person or an attacker chose, another offered choice, several, or one not offered."""
    chosen = [st.just(list(f.default)), st.just([]), values.map(lambda v: [v]), values.map(lambda v: [v]),
              st.lists(values, min_size=2, max_size=2)]
    if f.options:
        chosen.append(st.sampled_from(f.options).map(lambda v: [v]))
        chosen.append(st.lists(st.sampled_from(f.options), max_size=3))
    return st.one_of(chosen)


@st.composite
def submissions(draw, form: FormSpec, completed: dict[str, list[str]]):
    """The (name, value) pairs and files of one post of ``form``: one field altered, a few, or all (the
    others as a person completes them, the page's hidden version and idempotency key included, so that
    the rest of the form can pass and the view's own code meets the value)."""
    indices = list(range(len(form.fields)))
    how = draw(st.sampled_from(["one", "few", "all"])) if indices else "all"
    if how == "one":
        altered = {draw(st.sampled_from(indices))}
    elif how == "few":
        altered = set(draw(st.lists(st.sampled_from(indices), min_size=1, max_size=3)))
    else:
        altered = set(indices)
    pairs, files = [], []
    for i, f in enumerate(form.fields):
        if f.kind == "file":
            altered_file = (draw(file_names), draw(file_contents)) if i in altered else ("piece.pdf", PDF)
            files.append((f.name, *altered_file))
            continue
        sent = draw(field_values(f)) if i in altered else completed[f.name]
        pairs += [(f.name, v) for v in sent]
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.sampled_from(["lines-99-amount", "id", "status", "role", "amount", "x\x00"])),
                      draw(values)))
    return pairs, files


CASES = post_cases()


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    return shared_harness(tmp_path_factory)


@pytest.mark.parametrize(("endpoint", "who"), CASES, ids=[f"{e}-{w}" for e, w in CASES])
def test_fuzzed_form_never_errs_and_a_refusal_changes_nothing(harness, endpoint, who):
    """Random values in every field of every form the role sees: no 500; refused, nothing changed."""
    reachable = targets(harness, endpoint, who)
    assert reachable, f"no demo account of {who} reaches {endpoint}"

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def post(data):
        account, form = reachable[data.draw(st.integers(0, len(reachable) - 1), label="form")]
        pairs, files = data.draw(submissions(form, harness.completed(account, form)), label="fields")
        action = form.action
        if data.draw(st.integers(0, 5), label="other ids") == 0:
            action = other_ids(harness, form, lambda _arg, ids: data.draw(st.sampled_from(ids)))
        body, content_type = body_of(pairs, files, form.multipart or bool(files))
        harness.check(account, action, body, content_type)

    post()
