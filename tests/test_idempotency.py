"""Every form that carries an idempotency key, sent again, says "already recorded" with a link, and records once.

The class is walked, not sampled: every form class with an ``idempotency_key`` field and every template
that renders one must have a case here. Each case takes the form from the page that shows it (as a
browser would), sends it once, sends it again as it was, then again after the state changed (the
request signed or refused, the tranche paid off), and checks the answer and the rows each time.
"""

from __future__ import annotations

import html
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask_wtf import FlaskForm

from codev.calls.models import TrancheCondition
from codev.core.models import Attachment, AuditEvent
from codev.core.storage import storage
from codev.core.timeutil import utcnow
from codev.extensions import db as _db
from codev.grants.common import LedgerError, Sent
from codev.grants.disbursements.payments import approve_request, record_disbursement, refuse_request
from codev.grants.ledger.contributions import declare_contribution, declare_from_form, verify_contribution
from codev.grants.models import ContributionEntry, Disbursement, DisbursementRequest, Grant, GrantStatus, Report
from codev.grants.money_forms import ContributionForm, DisbursementForm, ReportForm
from codev.grants.reports.services import file_report_from_form, return_report
from tests.confirm_support import confirmed
from tests.factories_ledger import make_grant, proof, verified
from tests.factories_projects import PDF_BYTES

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


@dataclass(frozen=True)
class Case:
    """A keyed form: the pages that show it, who sends it, what it records and where, what a person types."""

    pages: tuple[Page, ...]
    role: str
    model: type
    link: str  # the record's page, formatted with the grant's id and the record's
    typed: Callable[[Grant], dict]  # a fresh dict each time: files are read once


TODAY = utcnow().date()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def typed_disbursement(grant) -> dict:
    return {"tranche": "1", "amount": "1 000 000", "bank_reference": "VIR-ONCE"}


def typed_declaration(grant) -> dict:
    return {"source": "association_cash", "currency": "XOF", "amount": "1 250 000", "value_date": TODAY.isoformat(),
            "proof": (io.BytesIO(PDF_BYTES), "recu.pdf")}


def typed_report(grant) -> dict:
    return {"kind": "progress", "period_start": (TODAY - timedelta(days=60)).isoformat(),
            "period_end": TODAY.isoformat(), "narrative": "Le forage est creusé.", "progress_pct": "40",
            "expenses-0-amount": "2 000 000",
            "files": [(io.BytesIO(PNG), "chantier.png"), (io.BytesIO(PDF_BYTES), "factures.pdf")]}


DISBURSEMENT_PAGES = (Page("/grants/{grant}/disbursements/new", "grants/disbursement_new.html"),
                      Page("/grants/{grant}", "grants/_money.html"))
CASES = {
    DisbursementForm: Case(DISBURSEMENT_PAGES, "officer", Disbursement, "/grants/{grant}/ledger#disbursement-{id}",
                           typed_disbursement),
    ContributionForm: Case((Page("/grants/{grant}/contributions/new", "grants/ledger_declare.html"),),
                           "association", ContributionEntry, "/grants/{grant}/contributions/{id}", typed_declaration),
    ReportForm: Case((Page("/grants/{grant}/reports/new", "grants/report_new.html"),), "association", Report,
                     "/grants/{grant}/reports/{id}", typed_report),
}
SENDINGS = [(form, page) for form, case in CASES.items() for page in case.pages]


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
    assert rendering == {page.template for case in CASES.values() for page in case.pages}


def stored_files() -> set[str]:
    return set(storage().keys())


def keyed_rows(db, model, key: str) -> list:
    return db.session.scalars(db.select(model).where(model.idempotency_key == key)).all()


def counts(db, outbox) -> tuple[int, int, int]:
    """(audit events, attachments, messages): what a sending leaves besides its record."""
    def count(model):
        return db.session.scalar(db.select(db.func.count()).select_from(model))

    return count(AuditEvent), count(Attachment), len(outbox())


@pytest.mark.backends
@pytest.mark.parametrize(("form_class", "page"), SENDINGS, ids=lambda x: getattr(x, "template", None) or x.__name__)
def test_every_keyed_form_sent_twice_records_once(client, db, users, login_as, grant, outbox, form_class, page,
                                                  backend):
    """Taken from its page and sent twice as it was: recorded once, then "already recorded" with the link."""
    case = CASES[form_class]
    login_as(users[case.role])
    address = page.address.format(grant=grant.id)
    form = keyed_form(client.get(address).get_data(as_text=True))
    assert uuid.UUID(form["fields"]["idempotency_key"])
    key, files_before = form["fields"]["idempotency_key"], stored_files()
    assert send(client, address, form, {**form["fields"], **case.typed(grant)}).status_code == 302
    [row] = keyed_rows(db, case.model, key)
    link = case.link.format(grant=grant.id, id=row.id)
    files, left = stored_files(), counts(db, outbox)
    assert len(files - files_before) == {"grants/ledger_declare.html": 1, "grants/report_new.html": 2}.get(
        page.template, 0)
    for _ in range(2):  # a double click, then Back and send again
        assert_already_recorded(send(client, address, form, {**form["fields"], **case.typed(grant)}), link)
        assert keyed_rows(db, case.model, key) == [row]
        assert stored_files() == files and counts(db, outbox) == left
    assert client.get(link.split("#")[0]).status_code == 200


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
    """Post the form as its confirm step does (a disbursement asks first; other forms ignore ``confirm``)."""
    return client.post(form["action"] or address, data=confirmed(data), content_type="multipart/form-data")


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
    assert client.post(f"/grants/{grant.id}/disbursements/new", data=confirmed(data)).status_code == 302
    elsewhere = client.post(f"/grants/{other.id}/disbursements/new", data=confirmed({**data, "tranche": "1"}))
    assert elsewhere.status_code == 400 and "Déjà enregistré" not in plain(elsewhere)
    for key in ("", "not-a-key", data["idempotency_key"].upper()):
        answer = client.post(f"/grants/{grant.id}/disbursements/new",
                             data=confirmed({**data, "idempotency_key": key, "bank_reference": "VIR-NEW"}))
        assert answer.status_code == 400 and "Déjà enregistré" not in plain(answer)
    assert rows(db, data["idempotency_key"]) == (1, 0, 1)


def test_the_same_transfer_with_a_new_key_is_already_recorded_too(client, db, users, login_as, grant):
    """Back reloads the form with a new key and the browser refills it: the transfer is recognised."""
    login_as(users["officer"])
    form = keyed_form(client.get(f"/grants/{grant.id}").get_data(as_text=True))
    data = {**form["fields"], "tranche": "1", "amount": "2 000 000", "bank_reference": "ORA-2026-9"}
    assert client.post(form["action"], data=confirmed(data)).status_code == 302
    paid = db.session.scalar(db.select(Disbursement))
    again = client.post(form["action"], data=confirmed({**data, "idempotency_key": _key()}))
    assert_already_recorded(again, f"/grants/{grant.id}/ledger#disbursement-{paid.id}", "ORA-2026-9")
    assert rows(db, data["idempotency_key"])[2] == 1


# --- the declaration and the report forms, sent again once things moved on ---------------------------


@dataclass
class Sending:
    """A keyed form taken from its page and sent once; ``again()`` sends it again as it was."""

    client: Any
    grant: Grant
    case: Case
    address: str
    form: dict
    row: Any

    def again(self):
        return send(self.client, self.address, self.form, {**self.form["fields"], **self.case.typed(self.grant)})


def first_sending(client, users, login_as, grant, form_class) -> Sending:
    case = CASES[form_class]
    login_as(users[case.role])
    address = case.pages[0].address.format(grant=grant.id)
    form = keyed_form(client.get(address).get_data(as_text=True))
    assert send(client, address, form, {**form["fields"], **case.typed(grant)}).status_code == 302
    [row] = keyed_rows(_db, case.model, form["fields"]["idempotency_key"])
    return Sending(client, grant, case, address, form, row)


def test_a_declaration_sent_again_once_verified_and_once_the_grant_is_closed(client, db, users, login_as, grant):
    """Verified since, then the grant completed (the page is gone): still "already recorded", never a 404."""
    sending = first_sending(client, users, login_as, grant, ContributionForm)
    link = f"/grants/{grant.id}/contributions/{sending.row.id}"
    assert_already_recorded(sending.again(), link, "1 250 000 F CFA", "À vérifier")
    verify_contribution(grant, sending.row.id, users["officer"])
    db.session.commit()
    assert_already_recorded(sending.again(), link, "Vérifiée")
    grant.status = GrantStatus.COMPLETED
    db.session.commit()
    assert client.get(sending.address).status_code == 404
    assert_already_recorded(sending.again(), link)
    declared = db.select(db.func.count(ContributionEntry.id)).where(ContributionEntry.kind == "declared")
    assert db.session.scalar(declared) == 2  # the fixture's 12 000 000, and this one


def test_a_report_sent_again_while_it_is_read_and_once_returned(client, db, users, login_as, grant, outbox):
    """Waiting to be read (a new one of that kind would be refused), then returned (a new one is welcome)."""
    sending = first_sending(client, users, login_as, grant, ReportForm)
    link, mails = f"/grants/{grant.id}/reports/{sending.row.id}", len(outbox())
    answer = sending.again()
    assert_already_recorded(answer, link, "Rapport d'avancement", "En attente de lecture")
    assert "déjà en attente de lecture" not in plain(answer)  # what the form said before: no report was lost
    return_report(grant, sending.row.id, users["officer"], "Joindre les factures")
    db.session.commit()
    assert_already_recorded(sending.again(), link, "Renvoyé pour modifications")
    assert db.session.scalars(db.select(Report)).all() == [sending.row]
    assert len(outbox()) == mails + 1  # the association told of the return; the officers not told again


@pytest.mark.parametrize("form_class", [ContributionForm, ReportForm], ids=lambda f: f.__name__)
def test_a_key_of_another_grant_or_no_key_refuses_the_form(client, db, users, login_as, grant, form_class):
    """The key only answers for its own grant; elsewhere, or malformed, the form expired: nothing is stored."""
    sending = first_sending(client, users, login_as, grant, form_class)
    other = make_grant(users["association"])
    db.session.commit()
    case, files = sending.case, stored_files()
    elsewhere = case.pages[0].address.format(grant=other.id)
    fields = keyed_form(client.get(elsewhere).get_data(as_text=True))["fields"]
    key = sending.form["fields"]["idempotency_key"]
    for sent in (key, "", "not-a-key", key.upper(), key + " "):
        answer = send(client, elsewhere, {"action": None}, {**fields, **case.typed(other), "idempotency_key": sent})
        page = plain(answer)
        assert answer.status_code == 400 and "Ce formulaire a expiré : rechargez la page" in page, sent
        assert "Déjà enregistré" not in page
        shown = keyed_form(answer.get_data(as_text=True))["fields"]["idempotency_key"]
        assert shown == sent if sent.strip() else uuid.UUID(shown)  # a form without a key gets one
    assert db.session.scalars(db.select(case.model)).all()[-1] == sending.row and stored_files() == files
    assert db.session.scalar(db.select(db.func.count(case.model.id)).where(case.model.grant_id == other.id)) == 0


@pytest.mark.backends
def test_the_services_record_once_per_key(db, users, grant, backend):
    """A second call returns the first record marked duplicate, its files not stored again; no key, no check."""
    member, key = users["association"], _key()
    facts = dict(source="association_cash", currency="XOF", amount_minor=500_000, value_date=TODAY)
    first = declare_from_form(grant, member, **facts, proof=proof(), idempotency_key=key)
    files = stored_files()
    second = declare_from_form(grant, member, **facts, proof=proof(), idempotency_key=key)
    assert (first.duplicate, second.duplicate, second.record) == (False, True, first.record)
    assert stored_files() == files
    report_facts = dict(kind="progress", period_start=TODAY, period_end=TODAY, narrative="Travaux", progress_pct=10,
                        expenses={}, files=[proof()])
    filed = file_report_from_form(grant, member, **report_facts, idempotency_key=key)
    assert filed.record.attachments and not filed.duplicate
    files = stored_files()
    assert file_report_from_form(grant, member, **report_facts, idempotency_key=key) == Sent(filed.record, True)
    assert stored_files() == files
    other = make_grant(member)
    with pytest.raises(LedgerError, match="expiré|expired"):
        declare_from_form(other, member, **facts, proof=proof(), idempotency_key=key)
    with pytest.raises(LedgerError, match="expiré|expired"):
        file_report_from_form(other, member, **report_facts, idempotency_key=key)
    keyless = [declare_contribution(grant, member, **facts, proof=proof()) for _ in range(2)]  # the demo's way
    assert keyless[0].id != keyless[1].id and keyless[0].idempotency_key is None
    db.session.commit()
    for model in (ContributionEntry, Report):
        assert len(keyed_rows(db, model, key)) == 1
