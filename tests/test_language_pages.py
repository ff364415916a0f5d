"""Every page of every demo role speaks the reader's language, read from the HTML the server sends (the
same walk as tests/test_browser_tables.py, which also reads the pages in Chromium once their scripts ran;
this one runs without a browser, and so goes further: up to 80 pages a role, 8 detail pages a list), the
refusals of the forms those pages hold, and the demo's emails. What counts as the other language:
tests/language_support.py (the French catalog read both ways and the demo's bilingual content)."""

from __future__ import annotations

import re

from sqlalchemy import select

from codev.accounts.models import User
from codev.demo import seed_demo
from tests.browser_support import DEMO_ACCOUNTS, DETAIL, walk
from tests.language_support import catalog_dictionary, dictionary_with_content, pieces_of_html

HREF = re.compile(r'href="([^"]*)"')


def links_in(html: str, start: str, end: str) -> list[str]:
    at = html.find(start)
    return HREF.findall(html[at:html.find(end, at)]) if at >= 0 else []


def client_of(app, db, email: str | None, lang: str):
    """A test client signed in as the demo ``email`` (anonymous when None) reading in ``lang``."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = lang
        if email:
            user = db.session.scalar(select(User).where(User.email == email))
            user.locale = lang
            db.session.commit()
            session["_user_id"], session["_fresh"] = user.get_id(), True
    return client


def walk_as(client, lang: str, read, follow: re.Pattern = DETAIL) -> list[str]:
    """The walk of tests/browser_support.py with ``client``; ``read(path, html)`` sees each page."""
    def visit(path):
        response = client.get(path)
        assert response.status_code < 500, path
        if response.mimetype != "text/html" or response.status_code != 200:
            return None
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html, path
        read(path, html)
        return links_in(html, "<main", "</main>")

    home = client.get("/").get_data(as_text=True)
    return walk(visit, ["/", *links_in(home, '<nav class="menu"', "</nav>")], limit=80, details=8, follow=follow)


def report(problems: dict) -> str:
    return "\n".join(f"{where}: {'; '.join(found)}" for where, found in problems.items())


def test_every_page_of_every_demo_role_is_in_the_readers_language(app, db):
    seed_demo()
    db.session.commit()
    dictionary = dictionary_with_content(app)
    problems, pages = {}, 0
    for lang in ("fr", "en"):
        for email in DEMO_ACCOUNTS:
            who = f"{lang} {(email or 'anonymous').split('@')[0]}"

            def read(path, html, lang=lang, who=who):
                for leak in dictionary.leaks(pieces_of_html(html), lang):
                    problems.setdefault(f"{who} {path}", []).append(leak)

            seen = walk_as(client_of(app, db, email, lang), lang, read)
            assert len(seen) >= 3, (email, seen)
            pages += len(seen)
    assert pages > 100
    assert problems == {}, report(problems)


FORM = re.compile(r"<form\b[^>]*>")
# The pages that hold a form (the routes answering GET and POST), followed as well as the detail pages.
FORM_PAGE = re.compile(
    DETAIL.pattern[:-1] + r"|.*/(edit|attachments|budget|description|financing|general|location|decide|new|"
    r"assign|deadline|increase|reduce|cancel|preferences|profile|screen|enrol|reset)$|"
    r"^/(reviews/assignments|grants/approve|grants/reserve/\d+/projects)/\d+$"
)
ACTION = re.compile(r'\baction="([^"]*)"')


def test_every_refused_form_is_in_the_readers_language(app, db):
    """Each form of the walk that posts to its own page, sent empty: the refusal (the sentence above the
    form, each field's message) in the reader's language."""
    seed_demo()
    db.session.commit()
    dictionary = dictionary_with_content(app)
    problems, refused = {}, 0
    for lang in ("fr", "en"):
        for email in DEMO_ACCOUNTS:
            client = client_of(app, db, email, lang)
            forms: list[str] = []

            def read(path, html, forms=forms):
                main = html[html.find("<main"):]
                for tag in FORM.findall(main):
                    action = ACTION.search(tag)
                    if 'method="post"' in tag and (action is None or action.group(1) in ("", path)):
                        forms.append(path)

            walk_as(client, lang, read, follow=FORM_PAGE)
            for path in dict.fromkeys(forms):
                response = client.post(path, data={})
                assert response.status_code < 500, path
                if response.status_code in (200, 400, 422) and response.mimetype == "text/html":
                    refused += 1
                    html = response.get_data(as_text=True)
                    who = f"{lang} {(email or 'anonymous').split('@')[0]}"
                    for leak in dictionary.leaks(pieces_of_html(html), lang):
                        problems.setdefault(f"{who} POST {path}", []).append(leak)
    assert refused > 20
    assert problems == {}, report(problems)


def test_the_check_sees_a_string_of_the_other_language():
    """The rule finds what it should (and leaves what it should), so the walk above cannot pass by seeing
    nothing."""
    dictionary = catalog_dictionary()
    french_page = pieces_of_html(
        '<html lang="fr"><title>Projets · codev</title><main><p>Il reste <strong>3</strong> jours.</p>'
        '<p>Brouillon. Some fields need your attention; nothing has been saved yet.</p>'
        '<button>Save</button><td data-label="Amount">5 000 F CFA</td><p>Total</p><p>Budget</p>'
        '<button lang="en" title="Switch to English">EN</button><p>Déposé le 3 December 2026</p></main>'
    )
    assert dictionary.leaks(french_page, "fr") == [
        "'Brouillon. Some fields need your attention; nothing has been saved yet.' (English catalog string)",
        "'Save' (English catalog string)",
        "'Amount' (English catalog string)",
        "'Déposé le 3 December 2026' (the month December)",
    ]
    english_page = pieces_of_html('<html lang="en"><main><p>Enregistrer</p><p>Total</p><p>Save</p></main>')
    assert dictionary.leaks(english_page, "en") == ["'Enregistrer' (French catalog string)"]


def test_every_demo_email_is_in_its_recipients_language(app, db):
    """The emails the demo's story sent (approvals, assignments, reminders…), each read in the language it
    was written for: its subject and each line of its body."""
    from codev.core.models import OutboxMessage

    seed_demo()
    db.session.commit()
    dictionary = dictionary_with_content(app)
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {m.locale for m in messages} == {"fr", "en"}  # both languages were written
    problems = {}
    for message in messages:
        for leak in dictionary.leaks([message.subject, *message.body.split("\n\n")], message.locale):
            problems.setdefault(f"{message.locale} {message.subject}", []).append(leak)
    assert problems == {}, report(problems)
