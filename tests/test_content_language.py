"""Content in the reader's language: a call's title (and its other bilingual fields) reads in English on an
English page, email or PDF, in French on a French one.

The class test reads every template and the Python that builds pages, emails and PDFs: a bilingual field is
read only through the one rule (``localized`` in ``codev/core/templating.py``, which ``Call.title_for``,
``Criterion.label`` and ``Criterion.guidance`` use). The page tests give a call an English title that differs
from its French one and look at what each reader sees.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import factories
from tests.factories_grants import approved_project, awarded_grant, pdf_text
from tests.factories_projects import member_of
from tests.factories_reviews import assign, english, evaluator, in_review_project

ROOT = Path(__file__).resolve().parent.parent
FRENCH, ENGLISH = "Appel eau et santé 2026", "2026 water and health call"

# A call's French title or description read raw (``call.title``; ``call.title_for(…)`` is the rule), one half of
# a bilingual pair read raw (``title_en``, ``label_fr``, ``call_title_en``…; a form's fields are the editor's),
# or the rule written again by hand (``if locale == 'en'``).
RAW = [
    re.compile(r"\bcall\.(title|description)(?![\w(])"),
    re.compile(r"(?<!form)(?<!Call)\.(title|description|label|guidance|call_title)_(en|fr)\b"),
    re.compile(r"\.call_title(?![\w(])"),
    re.compile(r"""(?<![\w.])(current_locale|locale|lang)\s*==\s*["']en["']"""),
]
# Where the raw fields are the point, each with its reason.
ALLOWED = {
    "codev/core/templating.py": "the rule itself",
    "codev/calls/models.py": "the columns, and the methods that call the rule",
    "codev/calls/forms.py": "the officer edits both languages",
    "codev/calls/services.py": "the officer's edits saved",
    "codev/calls/workflow.py": "a call cannot open without its French title",
    "codev/grants/award/approval.py": "the rules snapshot records the call as it stood, a fact, not a page",
    "codev/core/embassies.py": "an embassy's city in the reader's language, its own small rule",
    "codev/core/i18n.py": "the choice of language",
    "codev/core/money.py": "amounts in words follow each language's grammar",
    "codev/api/views.py": "the partners' API gives both languages of a call, each under its own key",
}
SKIPPED_DIRS = ("codev/migrations/", "codev/demo/")


def offending_lines() -> list[str]:
    found = []
    files = [*(ROOT / "codev/templates").rglob("*.html"), *(ROOT / "codev/templates").rglob("*.txt"),
             *(ROOT / "codev").rglob("*.py")]
    for path in files:
        name = path.relative_to(ROOT).as_posix()
        if name in ALLOWED or name.startswith(SKIPPED_DIRS):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if 'lang="' in line:  # shown in its own language on purpose, and marked so for screen readers
                continue
            if any(pattern.search(line) for pattern in RAW):
                found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_bilingual_content_is_read_through_the_one_rule():
    assert offending_lines() == []


def test_the_scan_catches_a_raw_title():
    """The patterns find what they are for (and let the rule through)."""
    def caught(line):
        return any(pattern.search(line) for pattern in RAW)

    assert caught("<small>{{ project.call.title }}</small>") and caught("{{ row.call_title_en or row.call_title }}")
    assert caught("{{ c.label_fr }}") and caught("{% if locale == 'en' %}") and caught("title=grant.call.title,")
    assert not caught('{{ project.call|localized("title") }}') and not caught("call.title_for(person.locale)")
    assert not caught("{{ field(form.title_en) }}") and not caught("{{ c.label(current_locale) }}")


def a_call():
    return factories.CallFactory(open=True, title=FRENCH, title_en=ENGLISH)


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("locale", "shown", "hidden"), [("en", ENGLISH, FRENCH), ("fr", FRENCH, ENGLISH)])
def test_the_ministry_sees_the_call_in_its_language(client, db, login_as, locale, shown, hidden):
    grant = awarded_grant(approved_project(call=a_call()))
    officer = factories.UserFactory(officer=True, locale=locale)
    login_as(officer)
    for url in ("/projects/", f"/projects/{grant.project_id}", "/grants/", f"/grants/{grant.id}"):
        text = page(client, url)
        assert shown in text and hidden not in text, url


@pytest.mark.parametrize(("locale", "shown", "hidden"), [("en", ENGLISH, FRENCH), ("fr", FRENCH, ENGLISH)])
def test_a_member_sees_the_call_in_their_language(client, db, login_as, locale, shown, hidden):
    grant = awarded_grant(approved_project(call=a_call()))
    member = member_of(grant.project.association, locale=locale)
    login_as(member)
    for url in ("/projects/mine", f"/projects/{grant.project_id}", f"/grants/{grant.id}"):
        text = page(client, url)
        assert shown in text and hidden not in text, url


@pytest.mark.parametrize(("locale", "shown", "hidden"), [("en", ENGLISH, FRENCH), ("fr", FRENCH, ENGLISH)])
def test_an_evaluator_sees_the_call_and_gets_its_email_in_their_language(client, db, login_as, outbox, locale,
                                                                        shown, hidden):
    project = in_review_project(call=a_call())
    reviewer = evaluator()
    reviewer.locale = locale
    row = assign(project, reviewer, declare=False)
    mail = outbox(reviewer.email)[-1]
    assert shown in mail.body and hidden not in mail.body
    login_as(reviewer)
    for url in ("/reviews/mine", f"/reviews/assignments/{row.id}"):
        text = page(client, url)
        assert shown in text and hidden not in text, url


@pytest.mark.parametrize(("locale", "shown", "hidden"), [("en", ENGLISH, FRENCH), ("fr", FRENCH, ENGLISH)])
def test_the_call_opened_email_names_the_call_in_the_associations_language(db, users, outbox, locale, shown,
                                                                          hidden):
    from datetime import timedelta

    from codev.calls.models import CallStatus
    from codev.calls.workflow import fire
    from codev.core.timeutil import utcnow

    association = factories.AssociationFactory(verified=True, locale=locale)
    call = factories.CallFactory(title=FRENCH, title_en=ENGLISH, closes_at=utcnow() + timedelta(days=30))
    fire(call, CallStatus.OPEN, users["officer"])
    db.session.commit()
    mail = outbox(association.contact_email)[-1]
    assert shown in mail.subject and shown in mail.body and hidden not in mail.body


def test_the_project_sheet_names_the_call_in_the_associations_language(client, db, login_as):
    project = in_review_project(call=a_call())
    english(project.association)
    member = member_of(project.association)
    db.session.commit()
    login_as(member)
    response = client.get(f"/projects/{project.id}/sheet.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    response.close()
    assert ENGLISH in text and FRENCH not in text


def test_an_english_criterion_left_empty_reads_in_french(app):
    from codev.calls.models import Criterion
    from codev.core.templating import localized

    criterion = Criterion(label_fr="Pertinence", label_en="", guidance_fr="Lire le budget", guidance_en=None)
    with app.test_request_context():
        assert criterion.label("en") == "Pertinence" and criterion.guidance("en") == "Lire le budget"
        assert localized({"call_title": "Appel", "call_title_en": "Call"}, "call_title", "en") == "Call"
        assert localized({"call_title": "Appel", "call_title_en": "Call"}, "call_title", "fr") == "Appel"


@pytest.mark.parametrize(("locale", "shown", "hidden"), [("en", ENGLISH, FRENCH), ("fr", FRENCH, ENGLISH)])
def test_the_grants_export_names_the_call_in_the_readers_language(client, db, login_as, locale, shown, hidden):
    grant = awarded_grant(approved_project(call=a_call()))
    login_as(factories.UserFactory(officer=True, locale=locale))
    response = client.get("/oversight/exports/grants.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert grant.project.reference in body and shown in body and hidden not in body


@pytest.mark.parametrize(("lang", "shown", "hidden"), [("en", ENGLISH, FRENCH), ("fr", FRENCH, ENGLISH)])
def test_committee_documents_name_the_call_in_the_documents_language(client, db, login_as, users, lang, shown,
                                                                     hidden):
    """The ranking is printed in the language asked for, whatever the officer reads (here French)."""
    from tests.factories_committee import committee_session, qualified_project

    call = a_call()
    qualified_project(call)
    session = committee_session(call, users["officer"])
    db.session.commit()
    login_as(users["officer"])
    response = client.get(f"/reviews/committee/{session.id}/ranking.pdf?lang={lang}")
    assert response.status_code == 200
    text = pdf_text(response.data)
    response.close()
    assert shown in text and hidden not in text
