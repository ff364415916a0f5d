"""Everything codev holds about one association, as a ZIP of JSON files and its documents.

``association.json`` (profile, status, domains), ``members.json`` (its members and open invitations),
``projects.json`` (each project with its budget, financing plan, documents' descriptions and history, and,
when it was funded, its grant: tranches, letters' descriptions, the counterpart ledger, disbursements and
reports), ``retention.json`` (the notices of data retention it received), and under ``files/`` every stored
file: statutes, project documents, proofs of contribution, report attachments, and the award letters' PDFs.

Only what the association's members already see: their own association, the names of the people in their
projects' history (the timeline shows them), never evaluators, scores, other associations, or who among the
staff verified or recorded what. The archive is written into a spooled temporary file (in memory up to
``SPOOL_BYTES``, then on disk), each stored file copied from the store in chunks, never read whole.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from codev.accounts.models import Association, Invitation, User
from codev.core.models import Attachment
from codev.core.storage import storage
from codev.extensions import db
from codev.grants.models import AwardLetter, ContributionEntry, Disbursement, Grant, Report
from codev.oversight.retention import RetentionNotice
from codev.projects.models import Project

SPOOL_BYTES = 1024 * 1024
CHUNK = 64 * 1024
FORMAT_VERSION = 1


@dataclass
class Archive:
    """The written ZIP, rewound, with its size and what it holds."""

    file: IO[bytes]
    size: int
    projects: int
    files: int


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(obj: Any, names: tuple[str, ...]) -> dict:
    return {name: _value(getattr(obj, name)) for name in names}


def _file(attachment: Attachment | None, folder: str, files: list[tuple[str, Attachment]]) -> dict | None:
    """The description of a stored file, and its place in the archive (added to ``files``)."""
    if attachment is None:
        return None
    path = f"files/{folder}/{attachment.id}-{attachment.display_name}"
    files.append((path, attachment))
    return {"name": attachment.display_name, "kind": attachment.kind, "content_type": attachment.content_type,
            "size": attachment.size, "sha256": attachment.sha256, "uploaded_at": _value(attachment.uploaded_at),
            "path": path}


ASSOCIATION_FIELDS = ("id", "name", "acronym", "country", "city", "embassy", "registration_number",
                      "registration_authority", "founded_year", "members_count", "contact_name", "contact_email",
                      "contact_phone", "website", "description", "home_region", "locale", "status", "status_reason",
                      "verified_at", "created_at")
PROJECT_FIELDS = ("id", "reference", "status", "call_id", "title", "sector", "summary", "led_by_women", "region",
                  "prefecture", "commune", "village", "local_partner_name", "local_partner_kind",
                  "local_partner_commitment", "problem", "objectives", "activities", "beneficiaries_total",
                  "beneficiaries_women", "beneficiaries_youth", "start_date", "duration_months",
                  "requested_grant_xof", "created_at", "updated_at", "submitted_at")
GRANT_FIELDS = ("id", "amount_xof", "ratio_num", "ratio_den", "required_association_xof", "contribution_deadline",
                "status", "approved_at", "lapsed_at", "released_xof", "completed_at", "cancelled_at", "cancel_reason")


def gather(association_id: int) -> tuple[dict[str, Any], list[tuple[str, Attachment]]]:
    """The JSON documents of the archive and the stored files to add, in a bounded number of queries."""
    files: list[tuple[str, Attachment]] = []
    association = db.session.scalar(select(Association).where(Association.id == association_id)
                                    .options(selectinload(Association.domains)))
    profile = _columns(association, ASSOCIATION_FIELDS)
    profile["domains"] = association.domain_codes
    profile["statutes"] = _file(association.statutes, "statutes", files)

    members = db.session.scalars(select(User).where(User.association_id == association_id).order_by(User.id)).all()
    invitations = db.session.scalars(select(Invitation).where(Invitation.association_id == association_id)
                                     .order_by(Invitation.id)).all()
    people = {
        "members": [_columns(m, ("id", "name", "email", "locale", "active", "created_at"))
                    for m in members],
        "invitations": [_columns(i, ("email", "created_at", "expires_at", "accepted_at", "revoked_at"))
                        for i in invitations],
    }

    projects = db.session.scalars(
        select(Project).where(Project.association_id == association_id).order_by(Project.id)
        .options(selectinload(Project.budget_lines), selectinload(Project.financing_lines),
                 selectinload(Project.attachments), selectinload(Project.events))).all()
    ids = [p.id for p in projects]
    grants = {g.project_id: g for g in db.session.scalars(select(Grant).where(Grant.project_id.in_(ids)))}
    grant_ids = [g.id for g in grants.values()]
    letters = _by_grant(select(AwardLetter).where(AwardLetter.grant_id.in_(grant_ids)).order_by(AwardLetter.id))
    entries = _by_grant(select(ContributionEntry).where(ContributionEntry.grant_id.in_(grant_ids))
                        .options(selectinload(ContributionEntry.proof)).order_by(ContributionEntry.id))
    payments = _by_grant(select(Disbursement).where(Disbursement.grant_id.in_(grant_ids)).order_by(Disbursement.id))
    reports = _by_grant(select(Report).where(Report.grant_id.in_(grant_ids))
                        .options(selectinload(Report.attachments)).order_by(Report.id))
    project_docs = []
    for project in projects:
        doc = _columns(project, PROJECT_FIELDS)
        doc["budget_lines"] = [_columns(line, ("category", "description", "quantity", "unit_cost_xof", "amount_xof"))
                               for line in project.budget_lines]
        doc["financing_lines"] = [_columns(line, ("source", "description", "currency", "amount_minor",
                                                  "rate_millionths", "amount_xof")) for line in project.financing_lines]
        doc["documents"] = [_file(a.file, f"projects/{project.id}", files) for a in project.attachments]
        doc["history"] = [{**_columns(e, ("at", "action", "from_status", "to_status", "message")),
                           "by": e.actor.name if e.actor else None} for e in project.events]
        grant = grants.get(project.id)
        doc["grant"] = None if grant is None else _grant(grant, letters, entries, payments, reports, files)
        project_docs.append(doc)

    notices = db.session.scalars(select(RetentionNotice).where(RetentionNotice.project_id.in_(ids))
                                 .order_by(RetentionNotice.id)).all()
    retention = [_columns(n, ("project_id", "rule", "noticed_at", "anonymise_after", "anonymised_at"))
                 for n in notices]
    documents = {"association.json": profile, "members.json": people, "projects.json": project_docs,
                 "retention.json": retention}
    return documents, files


def _by_grant(statement) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in db.session.scalars(statement):
        grouped.setdefault(row.grant_id, []).append(row)
    return grouped


def _grant(grant: Grant, letters: dict, entries: dict, payments: dict, reports: dict,
           files: list[tuple[str, Attachment]]) -> dict:
    doc = _columns(grant, GRANT_FIELDS)
    doc["tranches"] = [_columns(t, ("number", "share_bps", "amount_xof", "condition")) for t in grant.tranches]
    doc["letters"] = []
    for letter in letters.get(grant.id, []):
        path = f"files/letters/{letter.reference}.pdf"
        files.append((path, letter))
        doc["letters"].append({**_columns(letter, ("reference", "version", "language", "issued_at", "signatory_name",
                                                   "signatory_title", "sha256", "content_sha256", "status",
                                                   "status_reason", "status_changed_at")), "path": path})
    doc["contributions"] = [{**_columns(e, ("id", "kind", "refers_to_id", "source", "currency", "amount_minor",
                                            "rate_millionths", "amount_xof", "value_date", "note", "created_at")),
                             "proof": _file(e.proof, f"contributions/{grant.id}", files)}
                            for e in entries.get(grant.id, [])]
    doc["disbursements"] = [_columns(d, ("tranche_number", "amount_xof", "value_date", "recorded_at"))
                            for d in payments.get(grant.id, [])]
    doc["reports"] = [{**_columns(r, ("kind", "period_start", "period_end", "narrative", "progress_pct", "expenses",
                                      "status", "submitted_at", "reviewed_at", "review_comment")),
                       "attachments": [_file(a.file, f"reports/{r.id}", files) for a in r.attachments]}
                      for r in reports.get(grant.id, [])]
    return doc


def build(association_id: int, generated_at: datetime) -> Archive:
    """Write the archive of ``association_id`` (already checked to be the reader's) and rewind it."""
    documents, files = gather(association_id)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (handed to the response)
    missing = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, attachment in files:
            if isinstance(attachment, AwardLetter):
                archive.writestr(path, attachment.pdf)
                continue
            try:
                source = storage().open(attachment.stored_name)
            except FileNotFoundError:
                missing.append(path)
                continue
            with source, archive.open(path, "w", force_zip64=attachment.size > 2**31) as target:
                shutil.copyfileobj(source, target, CHUNK)
        manifest = {"format": FORMAT_VERSION, "generated_at": generated_at.isoformat(),
                    "association_id": association_id, "files": len(files) - len(missing), "missing_files": missing}
        for name, doc in {"manifest.json": manifest, **documents}.items():
            archive.writestr(name, json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    size = spool.tell()
    spool.seek(0)
    return Archive(spool, size, len(documents["projects.json"]), len(files) - len(missing))
