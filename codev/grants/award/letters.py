"""Award letters (lettres d'attribution): their facts, fingerprints, PDF, re-issue and revocation.

A letter is rendered once, when it is issued, and its PDF bytes are stored: downloads and verification
use the stored bytes, never a new rendering. Each issue makes one letter per language (fr and en) of the
same version; the association receives the one in its language, the ministry sees both.

Two fingerprints: ``sha256`` is the SHA-256 of the stored PDF bytes (what the public verification page
compares an uploaded file with); since a PDF cannot print its own hash, the letter prints
``content_sha256`` instead, the SHA-256 of its canonical content — a JSON of its key facts — which anyone
holding the facts can recompute.

Templates get plain dicts (never ORM objects) and go through :func:`codev.core.pdf.render_pdf`, whose
fetcher reads only the app's static files and ``data:`` URLs (the QR code is an inline SVG data URL).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import segno
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, format_date
from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from codev.accounts.models import User
from codev.calls.models import TrancheCondition
from codev.core import audit
from codev.core.countries import country_name
from codev.core.geography import region_name
from codev.core.i18n import gettext as _
from codev.core.money import format_bps, format_xof, share_bps, xof_in_words
from codev.core.pdf import render_pdf
from codev.core.templating import ministry_name
from codev.core.timeutil import utcnow
from codev.core.unit_of_work import DomainError
from codev.extensions import db
from codev.grants.common import mail_members
from codev.grants.models import AmendmentKind, AwardLetter, Grant, LetterStatus
from codev.grants.workflows import LETTER
from codev.projects.models import FundingSource, Project
from codev.projects.workflow import plan_figures

LANGUAGES = ("fr", "en")
STYLESHEET = "letter.css"


class LetterError(DomainError):
    """A refused operation on letters; ``str(error)`` is meant for the person."""


def letter_reference(project_reference: str, version: int, language: str) -> str:
    """``CODEV-2026-0042-L1-FR``: the project's reference, the version and the language."""
    return f"{project_reference}-L{version}-{language.upper()}"


def verification_url(reference: str) -> str:
    """The public verification page of ``reference`` (absolute; printed and in the QR code)."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("grants.verify", reference=reference, _external=True)
    with _outside_request():
        return url_for("grants.verify", reference=reference, _external=True)


def _outside_request():
    """A request context for work done without one (CLI, demo, benchmark): links use the public URL."""
    base_url = None if current_app.config.get("SERVER_NAME") else current_app.config["PUBLIC_BASE_URL"]
    return current_app.test_request_context(base_url=base_url)


def qr_data_url(url: str) -> str:
    """The QR code of ``url`` as an inline SVG ``data:`` URL (the renderer fetches nothing else)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#1c2430")


# --- the facts of a letter and its content fingerprint ----------------------------------------


def letter_facts(grant: Grant, project: Project, *, language: str, version: int, issued_at: datetime,
                 signatory_name: str, signatory_title: str) -> dict[str, Any]:
    """The key facts of one letter as plain JSON values: what the content fingerprint is made of.

    A letter issued after amendments lists them (kind, before and after, date, reason), so the fingerprint
    covers them too; a letter of a grant never amended has no such key (its facts are as they always were).
    """
    association = project.association
    facts = {
        "reference": letter_reference(project.reference or "", version, language),
        "version": version,
        "language": language,
        "issued_on": issued_at.date().isoformat(),
        "association": association.display_name,
        "project_reference": project.reference or "",
        "project_title": project.title,
        "commune": project.commune or "",
        "amount_xof": grant.amount_xof,
        "ratio": f"{grant.ratio_num}:{grant.ratio_den}",
        "required_association_xof": grant.required_association_xof,
        "contribution_deadline": grant.contribution_deadline.isoformat(),
        "tranches": [[t.number, t.share_bps, t.amount_xof, str(t.condition)] for t in grant.tranches],
        "signatory": [signatory_name, signatory_title],
    }
    amendments = [a for a in (grant.amendments if grant.id is not None else [])
                  if a.letter_version is None or a.letter_version <= version]
    if amendments:
        facts["amendments"] = [
            {"kind": str(a.kind), "on": (a.created_at or issued_at).date().isoformat(), "reason": a.reason,
             "amount": [a.amount_before_xof, a.amount_after_xof],
             "deadline": [a.deadline_before.isoformat(), a.deadline_after.isoformat()]}
            for a in amendments
        ]
    return facts


def canonical_content(facts: dict[str, Any]) -> bytes:
    """One byte string per set of facts: sorted keys, no spaces, UTF-8."""
    return json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def content_fingerprint(facts: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_content(facts)).hexdigest()


# --- what the letter prints, as plain data in its language --------------------------------------


def _francs(n: int, language: str) -> str:
    if n == 1:
        return "one CFA franc" if language == "en" else "un franc CFA"
    return xof_in_words(n, language)


def ratio_in_words(ratio_num: int, ratio_den: int, language: str) -> str:
    """"deux francs CFA de l'État pour chaque franc CFA de l'association (2:1)" in ``language``."""
    values = {"state": _francs(ratio_num, language), "association": _francs(ratio_den, language),
              "ratio": f"{ratio_num}:{ratio_den}"}
    if ratio_den == 1:
        return _("%(state)s from the State for each CFA franc the association brings (%(ratio)s)", **values)
    return _("%(state)s from the State for every %(association)s the association brings (%(ratio)s)", **values)


def _condition(code: str) -> str:
    try:
        return TrancheCondition(code).label
    except ValueError:
        return code


def _amendment_lines(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Each amendment the letter states, in words of its language (call inside ``force_locale``)."""
    lang, lines = facts["language"], []
    for item in facts.get("amendments", []):
        kind = AmendmentKind(item["kind"])
        if kind == AmendmentKind.EXTEND_DEADLINE:
            before, after = (format_date(date.fromisoformat(day), "long") for day in item["deadline"])
            change = _("contribution deadline moved from %(before)s to %(after)s", before=before, after=after)
        else:
            before, after = (format_xof(amount, lang) for amount in item["amount"])
            change = _("grant changed from %(before)s to %(after)s", before=before, after=after)
        lines.append({"kind": kind.label, "date": format_date(date.fromisoformat(item["on"]), "long"),
                      "change": change, "reason": item["reason"]})
    return lines


def letter_data(grant: Grant, project: Project, facts: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """Everything the letter prints, formatted in its language (call inside ``force_locale``)."""
    lang = facts["language"]
    association, plan = project.association, plan_figures(project)
    by_source = {
        FundingSource.ASSOCIATION_CASH: plan.association_cash,
        FundingSource.ASSOCIATION_IN_KIND: plan.association_in_kind,
        FundingSource.COMMUNITY: plan.community,
        FundingSource.COMMUNE: plan.commune,
        FundingSource.OTHER: plan.other,
    }
    in_kind_bps = grant.in_kind_counts_bps
    url = verification_url(facts["reference"])
    deadline = format_date(grant.contribution_deadline, "long")
    return {
        "lang": lang,
        "ministry": ministry_name(lang),
        "reference": facts["reference"],
        "version": facts["version"],
        "date": format_date(datetime.fromisoformat(facts["issued_on"]).date(), "long"),
        "association": {
            "name": association.display_name, "contact": association.contact_name,
            "city": association.city, "country": country_name(association.country, lang),
        },
        "project": {
            "title": project.title, "reference": project.reference or "",
            "commune": project.commune or "", "prefecture": project.prefecture or "",
            "region": region_name(project.region) if project.region else "",
            "village": project.village or "",
        },
        "total_budget": format_xof(plan.total_budget, lang),
        "amount": format_xof(grant.amount_xof, lang),
        "amount_words": xof_in_words(grant.amount_xof, lang),
        "grant_share": format_bps(share_bps(grant.amount_xof, plan.total_budget), lang),
        "ratio_words": ratio_in_words(grant.ratio_num, grant.ratio_den, lang),
        "required_association": format_xof(grant.required_association_xof, lang),
        "in_kind_counts": format_bps(in_kind_bps, lang),
        "in_kind_counts_bps": in_kind_bps,
        "contributions": [
            {"party": source.label, "amount": format_xof(amount, lang),
             "share": format_bps(share_bps(amount, plan.total_budget), lang)}
            for source, amount in by_source.items() if amount
        ],
        "deadline": deadline,
        "tranches": [
            {"number": t.number, "share": format_bps(t.share_bps, lang), "amount": format_xof(t.amount_xof, lang),
             "condition": _condition(t.condition)}
            for t in grant.tranches
        ],
        "duration_months": project.duration_months,
        "amendments": _amendment_lines(facts),
        "signatory": {"name": facts["signatory"][0], "title": facts["signatory"][1]},
        "verify_url": url,
        "qr": qr_data_url(url),
        "content_fingerprint": fingerprint,
    }


def render_letter(grant: Grant, project: Project, *, language: str, version: int, issued_at: datetime,
                  signatory_name: str, signatory_title: str) -> tuple[dict[str, Any], str, bytes]:
    """(facts, content fingerprint, PDF bytes) of one letter; nothing is written to the database."""
    facts = letter_facts(grant, project, language=language, version=version, issued_at=issued_at,
                         signatory_name=signatory_name, signatory_title=signatory_title)
    fingerprint = content_fingerprint(facts)
    if not has_request_context():  # the pages' context (navigation, locale) expects a request
        with _outside_request():
            return facts, fingerprint, _render(grant, project, facts, fingerprint)
    return facts, fingerprint, _render(grant, project, facts, fingerprint)


def _render(grant: Grant, project: Project, facts: dict[str, Any], fingerprint: str) -> bytes:
    with force_locale(facts["language"]):
        data = letter_data(grant, project, facts, fingerprint)
        return render_pdf("award_letter.html", data, stylesheet=STYLESHEET)


def build_letters(grant: Grant, project: Project, user: User, *, version: int, signatory_name: str,
                  signatory_title: str, languages: Iterable[str] = LANGUAGES) -> list[AwardLetter]:
    """Render one letter per language (not added to the session: the caller decides when)."""
    issued_at = utcnow()
    letters = []
    for language in languages:
        facts, fingerprint, pdf = render_letter(
            grant, project, language=language, version=version, issued_at=issued_at,
            signatory_name=signatory_name, signatory_title=signatory_title,
        )
        letters.append(AwardLetter(
            version=version, language=language, reference=facts["reference"], issued_at=issued_at,
            issued_by_id=user.id, signatory_name=signatory_name, signatory_title=signatory_title,
            pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), content_sha256=fingerprint,
            status=LetterStatus.VALID,
        ))
    return letters


# --- reading letters ---------------------------------------------------------------------------


def letters_of(grant: Grant) -> list[AwardLetter]:
    """Every letter of ``grant``, newest version first, without loading the PDF bytes."""
    return list(db.session.scalars(
        select(AwardLetter).where(AwardLetter.grant_id == grant.id).options(defer(AwardLetter.pdf))
        .order_by(AwardLetter.version.desc(), AwardLetter.language)
    ))


def valid_letters(grant: Grant) -> list[AwardLetter]:
    return [letter for letter in letters_of(grant) if letter.status == LetterStatus.VALID]


def find_letter(reference: str) -> AwardLetter | None:
    """The letter of ``reference`` (case and surrounding spaces ignored), or None."""
    cleaned = (reference or "").strip().upper()[:40]
    if not cleaned:
        return None
    return db.session.scalar(
        select(AwardLetter).where(AwardLetter.reference == cleaned)
        .options(defer(AwardLetter.pdf),
                 joinedload(AwardLetter.grant).joinedload(Grant.project).joinedload(Project.association))
    )


# --- re-issue and revocation ---------------------------------------------------------------------


def _change_letters(letters: Iterable[AwardLetter], target: LetterStatus, user: Any, reason: str) -> None:
    """Each letter through the one engine (:data:`codev.grants.workflows.LETTER`), keeping why and when."""
    now = utcnow()
    for letter in letters:
        letter.status_reason = reason
        letter.status_changed_at = now
        LETTER.fire(letter, target, user, reason, audit_after={"grant_id": letter.grant_id,
                                                               "reference": letter.reference})


def reissue_letters(grant: Grant, user: User, reason: str) -> list[AwardLetter]:
    """Version n+1 in both languages; the valid letters of version n become superseded (with the reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise LetterError(_("Give the reason for the new version of the letter."), field="reason")
    current = valid_letters(grant)
    if not current:
        raise LetterError(_("This grant has no valid letter to replace (its letters were revoked)."))
    project = grant.project
    version = (db.session.scalar(select(func.max(AwardLetter.version)).where(AwardLetter.grant_id == grant.id))
               or 0) + 1
    latest = current[0]
    new_letters = build_letters(grant, project, user, version=version, signatory_name=latest.signatory_name,
                                signatory_title=latest.signatory_title)
    _change_letters(current, LetterStatus.SUPERSEDED, user, reason)
    for letter in new_letters:
        letter.grant_id = grant.id
        db.session.add(letter)
    db.session.flush()
    audit.record("grant.letter_reissued", grant, actor=user,
                 before={"version": version - 1, "references": [letter.reference for letter in current]},
                 after={"version": version, "references": [letter.reference for letter in new_letters],
                        "reason": reason})
    mail_members(grant, "grant_letter_reissued", reason=reason, version=version)
    return new_letters


def revoke_valid_letters(grant: Grant, user: User, reason: str) -> list[AwardLetter]:
    """Mark the grant's valid letters revoked with the reason (no email): the revocation and the cancellation."""
    current = valid_letters(grant)
    _change_letters(current, LetterStatus.REVOKED, user, reason)
    return current


def revoke_letters(grant: Grant, user: User, reason: str) -> list[AwardLetter]:
    """Mark the grant's valid letters revoked, with the reason; the verification page says so."""
    reason = (reason or "").strip()
    if not reason:
        raise LetterError(_("Give the reason for revoking the letter."), field="reason")
    current = revoke_valid_letters(grant, user, reason)
    if not current:
        raise LetterError(_("This grant has no valid letter to revoke."))
    audit.record("grant.letter_revoked", grant, actor=user,
                 before={"references": [letter.reference for letter in current], "status": "valid"},
                 after={"status": "revoked", "reason": reason})
    mail_members(grant, "grant_letter_revoked", reason=reason, officers=True)
    return current
