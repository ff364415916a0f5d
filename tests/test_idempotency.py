"""Every form that carries an idempotency key, sent again, says "already recorded" with a link, and records once.

The class is walked, not sampled: every form class with an ``idempotency_key`` field and every template
that renders one must have a case here. Each case takes the form from the page that shows it (as a
browser would), sends it once, sends it again as it was, then again after the state changed (the
request signed or refused, the tranche paid off), and checks the answer and the rows each time.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_wtf import FlaskForm

from codev.calls.models import TrancheCondition
from codev.core.timeutil import utcnow
from codev.grants.disbursements import approve_request, record_disbursement, refuse_request
from codev.grants.models import Disbursement, DisbursementRequest
from codev.grants.money_forms import DisbursementForm
from tests.factories_ledger import make_grant, verified

M = 1_000_000
TEMPLATES = Path(__file__).resolve().parent.parent / "codev" / "templates"


class Forms(HTMLParser):
    """The forms of a page with the values a browser would send (inputs, selected options, text areas)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method", "get"), "fields": {}})
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs.get("name")
            self.forms[-1]["fields"].setdefault(self._select, None)
        elif tag == "option" and self._select:
            fields = self.forms[-1]["fields"]
            if fields[self._select] is None or "selected" in attrs:
                fields[self._select] = attrs.get("value")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def keyed_form(page: str) -> dict:
    parser = Forms()
    parser.feed(page)
    found = [f for f in parser.forms if "idempotency_key" in f["fields"]]
    assert len(found) == 1, "one form with an idempotency key on the page"
    return found[0]


def plain(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("\u202f", " ").replace("\xa0", " ")


# --- the class: forms with a key, and the pages that show them -------------------------------------


@dataclass(frozen=True)
class Page:
    """A page showing a keyed form: its address for a grant, and the template that renders the form."""

    address: str
    template: str


DISBURSEMENT_PAGES = (Page("/grants/{grant}/disbursements/new", "grants/disbursement_new.html"),
                      Page("/grants/{grant}", "grants/_money.html"))
CASES = {DisbursementForm: DISBURSEMENT_PAGES}


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_every_form_with_an_idempotency_key_has_a_case(app):
    keyed = {form for form in all_subclasses(FlaskForm) if form.__module__.startswith("codev.")
             and hasattr(form, "idempotency_key")}
    assert keyed == set(CASES)
    rendering = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if re.search(r"\bidempotency_key\b", path.read_text(encoding="utf-8"))}
    assert rendering == {page.template for pages in CASES.values() for page in pages}


# --- the disbursement form, in every state it can be sent again in -----------------------------------


@pytest.fixture
def grant(app, db, users):
    """Two tranches of 6 000 000, paid on award, the whole match verified; four eyes above 5 000 000."""
    app.config.update(FOUR_EYES_THRESHOLD_XOF=5 * M, FOUR_EYES_PERIOD_DAYS=30)
    member, officer = users["association"], users["officer"]
    grant = make_grant(member, amount=12 * M, plan=((5000, TrancheCondition.AWARD), (5000, TrancheCondition.AWARD)))
    verified(grant, member, officer, 12 * M)
    db.session.commit()
    return grant


def rows(db, key: str) -> tuple[int, int, int]:
    """(disbursements with this key, requests with this key, disbursements in all)."""
    def count(model, *where):
        return db.session.scalar(db.select(db.func.count(model.id)).where(*where))

    return (count(Disbursement, Disbursement.idempotency_key == key),
            count(DisbursementRequest, DisbursementRequest.idempotency_key == key), count(Disbursement))


def send(client, address: str, form: dict, data: dict):
    return client.post(form["action"] or address, data=data)


def assert_already_recorded(response, link: str, *words: str) -> None:
    page = plain(response)
    assert response.status_code == 200
    assert "Déjà enregistré" in page and "Ce formulaire a déjà été envoyé" in page
    assert f'href="{link}"' in page
    assert "nothing has been saved yet" not in page and "rien n'a encore été enregistré" not in page
    for word in words:
        assert word in page


def pay_off_tranche_1(grant, users, already: int) -> None:
    """Another payment (signed by an approver) pays tranche 1 off: it leaves the form's choices."""
    rest = grant.tranches[0].amount_xof - already
    done = record_disbursement(grant, users["officer"], tranche_number=1, amount_xof=rest, value_date=utcnow().date(),
                               bank_reference="VIR-REST", idempotency_key=_key())
    if done.request is not None:
        approve_request(grant, done.request.id, users["approver"])


def _key() -> str:
    return str(uuid.uuid4())


@pytest.mark.backends
@pytest.mark.parametrize("page", DISBURSEMENT_PAGES, ids=lambda p: p.template)
def test_a_disbursement_sent_again(client, db, users, login_as, grant, page, backend):
    """One signature: the disbursement; sent again at once, then after tranche 1 is paid off."""
    login_as(users["officer"])
    address = page.address.format(grant=grant.id)
    form = keyed_form(client.get(address).get_data(as_text=True))
    data = {**form["fields"], "tranche": "1", "amount": "1 000 000", "bank_reference": "VIR-ONCE"}
    first = send(client, address, form, data)
    assert first.status_code == 302
    paid = db.session.scalar(db.select(Disbursement))
    link = f"/grants/{grant.id}/ledger#disbursement-{paid.id}"
    assert rows(db, data["idempotency_key"]) == (1, 0, 1)
    assert_already_recorded(send(client, address, form, data), link, "VIR-ONCE", "1 000 000 F CFA")
    assert rows(db, data["idempotency_key"]) == (1, 0, 1)
    pay_off_tranche_1(grant, users, 1 * M)
    db.session.commit()
    choices = keyed_form(client.get(address).get_data(as_text=True))["fields"]["tranche"]
    assert choices == "2"  # tranche 1 is no longer offered
    assert_already_recorded(send(client, address, form, data), link, "VIR-ONCE")
    assert rows(db, data["idempotency_key"]) == (1, 0, 2)
    assert f'id="disbursement-{paid.id}"' in client.get(link.split("#")[0]).get_data(as_text=True)


@pytest.mark.backends
@pytest.mark.parametrize("page", DISBURSEMENT_PAGES, ids=lambda p: p.template)
@pytest.mark.parametrize("decision", ["approve", "refuse"])
def test_a_request_sent_again(client, db, users, login_as, grant, page, decision, backend):
    """Above the threshold: the request; sent again while it waits, then after it is signed or refused."""
    officer = login_as(users["officer"])
    address = page.address.format(grant=grant.id)
    form = keyed_form(client.get(address).get_data(as_text=True))
    data = {**form["fields"], "tranche": "1", "amount": "6 000 000", "bank_reference": "VIR-TWICE"}
    assert send(client, address, form, data).status_code == 302
    request = db.session.scalar(db.select(DisbursementRequest))
    request_link = f"/grants/{grant.id}/disbursement-requests/{request.id}"
    assert rows(db, data["idempotency_key"]) == (0, 1, 0)
    assert_already_recorded(send(client, address, form, data), request_link, "attend une seconde signature")
    assert rows(db, data["idempotency_key"]) == (0, 1, 0)
    if decision == "approve":
        paid = approve_request(grant, request.id, users["approver"])
        db.session.commit()
        answer = send(client, address, form, data)
        assert_already_recorded(answer, f"/grants/{grant.id}/ledger#disbursement-{paid.id}", "VIR-TWICE")
        assert rows(db, data["idempotency_key"]) == (1, 1, 1)
    else:
        refuse_request(grant, request.id, users["approver"], "RIB à vérifier")
        db.session.commit()
        assert_already_recorded(send(client, address, form, data), request_link, "a été refusée")
        assert rows(db, data["idempotency_key"]) == (0, 1, 0)
    assert officer.id == request.requested_by_id


def test_a_key_of_another_grant_or_a_malformed_key_is_not_a_repeat(client, db, users, login_as, grant):
    """The key only answers for its own grant; a key that is no key goes through the form's rules."""
    other = make_grant(users["association"], amount=2 * M)
    db.session.commit()
    login_as(users["officer"])
    form = keyed_form(client.get(f"/grants/{grant.id}/disbursements/new").get_data(as_text=True))
    data = {**form["fields"], "amount": "1 000 000", "bank_reference": "VIR-MINE"}
    assert client.post(f"/grants/{grant.id}/disbursements/new", data=data).status_code == 302
    elsewhere = client.post(f"/grants/{other.id}/disbursements/new", data={**data, "tranche": "1"})
    assert elsewhere.status_code == 400 and "Déjà enregistré" not in plain(elsewhere)
    for key in ("", "not-a-key", data["idempotency_key"].upper()):
        answer = client.post(f"/grants/{grant.id}/disbursements/new",
                             data={**data, "idempotency_key": key, "bank_reference": "VIR-NEW"})
        assert answer.status_code == 400 and "Déjà enregistré" not in plain(answer)
    assert rows(db, data["idempotency_key"]) == (1, 0, 1)


def test_the_same_transfer_with_a_new_key_is_already_recorded_too(client, db, users, login_as, grant):
    """Back reloads the form with a new key and the browser refills it: the transfer is recognised."""
    login_as(users["officer"])
    form = keyed_form(client.get(f"/grants/{grant.id}").get_data(as_text=True))
    data = {**form["fields"], "tranche": "1", "amount": "2 000 000", "bank_reference": "ORA-2026-9"}
    assert client.post(form["action"], data=data).status_code == 302
    paid = db.session.scalar(db.select(Disbursement))
    again = client.post(form["action"], data={**data, "idempotency_key": _key()})
    assert_already_recorded(again, f"/grants/{grant.id}/ledger#disbursement-{paid.id}", "ORA-2026-9")
    assert rows(db, data["idempotency_key"])[2] == 1
