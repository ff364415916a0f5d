"""Synthetic grants: tranches, letters, the counterpart ledger, disbursements, signatures and reports."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from types import SimpleNamespace

from codev.core.money import (
    eligible_money,
)
from codev.demo.synthetic.shape import (
    FOUR_EYES_XOF,
    GRANT_MOVES,
    LETTER_MOVES,
    REPORT_MOVES,
    REQUEST_MOVES,
    SIGNATORY_TITLE,
    TRANCHE_PLAN,
    placeholder_pdf,
    walk,
)
from codev.grants.award.approval import split_tranches
from codev.grants.award.letters import content_fingerprint, letter_facts, letter_reference
from codev.grants.models import (
    AwardLetter,
    ContributionEntry,
    Disbursement,
    DisbursementRequest,
    Grant,
    GrantTranche,
    Report,
)
from codev.grants.workflows import DISBURSEMENT_REQUEST, GRANT, LETTER, REPORT


class Grants:
    """Synthetic grants: tranches, letters, the counterpart ledger, disbursements, signatures and reports."""

    # --- grants and their money ---------------------------------------------------------------

    def grant(self, p: SimpleNamespace, amount: int) -> None:
        """The grant of a funded project: tranches, letters, ledger, disbursements, reports, its end."""
        rng, w, plan = self.rng, self.w, p.plan
        approved_at = p.times[p.path.index("funded")]
        approver = self.approver()
        ratio = plan.ratio
        required = ratio.required_for(amount)
        tranches = split_tranches(amount, TRANCHE_PLAN)
        deadline = approved_at.date() + timedelta(days=90)
        end = p.status
        # The grant's own story, per the project's end state.
        if end == "funded":
            story = rng.choice(["awarded", "awarded", "active1", "active1", "active2"])
            if approved_at > self.now - timedelta(days=300):  # too recent for its money to have moved
                story = "awarded"
            elif deadline < self.today and story == "awarded":
                story = "awarded_late" if rng.random() < 0.3 else "active1"  # the nightly job has not run yet
        elif end == "completed" or (end == "closed" and p.path[-2] == "completed"):
            story = "completed"
        else:  # lapsed, or closed after it lapsed
            story = "lapsed" if rng.random() < 0.7 else "cancelled"
        paid = {"awarded": 0, "awarded_late": 0, "active1": 1, "active2": 2, "completed": 3, "lapsed": 0,
                "cancelled": 1}[story]
        status = {"awarded": "awarded", "awarded_late": "awarded", "active1": "active", "active2": "active",
                  "completed": "completed", "lapsed": "lapsed", "cancelled": "cancelled"}[story]
        gpath = {"awarded": ["awarded"], "active": ["awarded", "active"],
                 "completed": ["awarded", "active", "completed"],
                 "lapsed": ["awarded", "lapsed"], "cancelled": ["awarded", "active", "cancelled"]}[status]
        walk(GRANT, gpath, GRANT_MOVES)
        disbursed = sum(t[2] for t in tranches[:paid])
        released = amount - disbursed if status in ("lapsed", "cancelled") else 0
        gid = w.id(Grant)
        self.grants += 1
        plan.granted += amount
        plan.released += released
        # The money's timeline.
        t_verified = self.later(approved_at, 20, 60)
        t_t1 = self.later(t_verified, 3, 15)
        t_progress = self.later(t_t1, 90, 150)
        t_t2 = self.later(t_progress, 3, 15)
        t_final = self.later(t_t2, 90, 150)
        t_t3 = self.later(t_final, 3, 15)
        end_at = p.times[p.path.index("completed")] if "completed" in p.path else None
        ended = p.times[p.path.index("lapsed")] if "lapsed" in p.path else None  # after the deadline
        lapse_at = ended if status == "lapsed" else None
        cancel_at = ended if status == "cancelled" else None
        w.add(Grant, id=gid, project_id=p.id, call_id=plan.id, amount_xof=amount, ratio_num=ratio.numerator,
              ratio_den=ratio.denominator, in_kind_counts_bps=plan.in_kind_counts_bps,
              rules_snapshot={"call_id": plan.id, "call_title": plan.title, "envelope_xof": None,
                              "ratio_num": ratio.numerator, "ratio_den": ratio.denominator,
                              "max_grant_xof": plan.max_grant_xof, "max_grant_share_bps": plan.max_grant_share_bps,
                              "min_association_share_bps": plan.min_association_share_bps,
                              "max_total_budget_xof": plan.max_total_budget_xof,
                              "in_kind_counts_bps": plan.in_kind_counts_bps, "contribution_deadline_days": 90,
                              "tranches": [{"number": n, "share_bps": s, "condition": c}
                                           for n, (s, c) in enumerate(TRANCHE_PLAN, start=1)],
                              "plan": p.money["figures"], "max_grant_allowed": p.money["allowed"],
                              "committee_amount": amount},
              required_association_xof=required, contribution_deadline=deadline, status=status,
              approved_by_id=approver, approved_at=approved_at, lapsed_at=lapse_at, released_xof=released,
              completed_at=end_at if status == "completed" else None, cancelled_at=cancel_at,
              cancelled_by_id=self.approver() if status == "cancelled" else None,
              cancel_reason="Le projet a été abandonné par la commune partenaire." if status == "cancelled" else None)
        for number, share, part, condition in tranches:
            w.add(GrantTranche, grant_id=gid, number=number, share_bps=share, amount_xof=part, condition=condition)
        self.audit("grant.approved", "grants", gid, approved_at, approver, None,
                   {"project": p.reference, "amount_xof": amount, "call_id": plan.id})
        steps = [t_t1, end_at if status == "completed" else None]
        if status == "lapsed":
            steps = [lapse_at]
        elif status == "cancelled":
            steps = [t_t1, cancel_at]
        self.moved(GRANT, GRANT_MOVES, "grants", gid, gpath, [s for s in steps if s is not None],
                   [None if status == "lapsed" else self.officer(), self.approver()])
        if status == "lapsed":
            self.audit("reserve.money_returned", "calls", plan.id, lapse_at, None, None, {"amount_xof": released})
        self.letters(p, gid, amount, required, deadline, tranches, approved_at, approver, status, cancel_at)
        # The counterpart ledger: what the association declared and what officers verified.
        if story in ("awarded", "awarded_late", "lapsed"):
            verified_target = required * rng.randint(0, 80) // 100  # the match not (yet) complete
        elif story == "active1" and rng.random() < 0.4:
            verified_target = ratio.required_for(tranches[0][2])  # enough for the first tranche only
        else:
            verified_target = required
        verified = self.ledger(p, gid, verified_target, approved_at, t_verified, story)
        limit = min(amount, ratio.apply(eligible_money(verified["cash"], verified["in_kind"],
                                                        plan.in_kind_counts_bps)))
        # Disbursements in tranche order, each within rule 4's limit.
        for number, _share, part, _condition in tranches[:paid]:
            at = (t_t1, t_t2, t_t3)[number - 1]
            self.disbursement(gid, number, part, at)
        assert disbursed <= limit, (gid, disbursed, limit)  # noqa: S101 (rule 4, or a bug here)
        # Reports: the progress report before tranche 2, the final one before tranche 3.
        # A second tranche above the four-eyes threshold, its report accepted, waiting for a second signature.
        waiting = (story == "active1" and tranches[1][2] > FOUR_EYES_XOF and limit >= disbursed + tranches[1][2]
                   and (not self.pending_made or rng.random() < 0.5))
        self.pending_made = self.pending_made or waiting
        if paid >= 2 or waiting or (story == "active1" and rng.random() < 0.5):
            report_status = "accepted" if paid >= 2 or waiting else rng.choice(["submitted", "submitted", "returned"])
            self.report(p, gid, "progress", report_status, t_progress)
        if waiting:
            self.request(gid, 2, tranches[1][2], self.later(t_progress, 12, 20), "pending")
        if story == "active2" and rng.random() < 0.4:
            self.report(p, gid, "final", "submitted", t_final)
        if paid == 3:
            self.report(p, gid, "final", "accepted", t_final)

    def letters(self, p, gid, amount, required, deadline, tranches, issued_at, approver, status, end_at) -> None:
        """Version 1 in French and English (re-issued as version 2 now and then; revoked when cancelled)."""
        versions = [1, 2] if self.rng.random() < 0.05 and status != "cancelled" else [1]
        grant = SimpleNamespace(id=None, amount_xof=amount, ratio_num=p.plan.ratio_num, ratio_den=p.plan.ratio_den,
                                required_association_xof=required, contribution_deadline=deadline,
                                tranches=[SimpleNamespace(number=n, share_bps=s, amount_xof=a, condition=c)
                                          for n, s, a, c in tranches], amendments=[])
        project = SimpleNamespace(reference=p.reference, title=p.title, commune=p.commune,
                                  association=SimpleNamespace(display_name=p.display))
        for version in versions:
            at = issued_at if version == 1 else self.later(issued_at, 5, 30)
            for language in ("fr", "en"):
                facts = letter_facts(grant, project, language=language, version=version, issued_at=at,
                                     signatory_name="Ordonnateur", signatory_title=SIGNATORY_TITLE)
                reference = letter_reference(p.reference, version, language)
                pdf = placeholder_pdf(reference)
                letter_status, reason, changed = "valid", None, None
                if version < versions[-1]:
                    letter_status, reason, changed = "superseded", "Nom de la commune corrigé.", self.later(at, 5, 30)
                elif status == "cancelled":
                    letter_status, reason, changed = "revoked", "Subvention annulée.", end_at
                walk(LETTER, ["valid", letter_status] if letter_status != "valid" else ["valid"], LETTER_MOVES)
                lid = self.w.add(AwardLetter, grant_id=gid, version=version, language=language, reference=reference,
                                 issued_at=at, issued_by_id=approver, signatory_name="Ordonnateur",
                                 signatory_title=SIGNATORY_TITLE, pdf=pdf,
                                 sha256=hashlib.sha256(pdf).hexdigest(), content_sha256=content_fingerprint(facts),
                                 status=letter_status, status_reason=reason, status_changed_at=changed)
                if letter_status != "valid":
                    self.moved(LETTER, LETTER_MOVES, "award_letters", lid, ["valid", letter_status], [changed],
                               [approver], {"grant_id": gid, "reference": reference})

    def ledger(self, p, gid: int, target: int, approved_at: datetime, verified_at: datetime, story: str) -> dict:
        """Declarations (verified up to ``target`` of eligible money, some pending or rejected)."""
        rng, w = self.rng, self.w
        cash_needed = max(0, target)
        parts = []
        if cash_needed:
            first = cash_needed * rng.randint(40, 70) // 100 if rng.random() < 0.6 else cash_needed
            parts = [first, cash_needed - first] if 0 < first < cash_needed else [cash_needed]
        verified = {"cash": 0, "in_kind": 0}
        at = self.later(approved_at, 5, 15)
        for amount in parts:
            self.entry(p, gid, "association_cash", amount, at, verified_at, "verified")
            verified["cash"] += amount
        if rng.random() < 0.3 and story not in ("awarded", "awarded_late", "lapsed"):  # labour and materials
            amount = max(1000, p.money["in_kind"] or 500_000)
            outcome = rng.choice(["verified", "rejected"])
            self.entry(p, gid, "association_in_kind", amount, at, verified_at, outcome)
            if outcome == "verified":
                verified["in_kind"] += amount
        if story in ("awarded", "active1", "active2") and rng.random() < 0.35:
            self.entry(p, gid, "association_cash", rng.randint(5, 50) * 100_000, self.later(verified_at, 1, 20),
                       None, "declared")  # waits for an officer
        if story in ("active2", "completed") and rng.random() < 0.05:
            # a verified contribution reversed (a bounced transfer), made good by a new declaration
            amount = rng.randint(2, 10) * 100_000
            declared = self.entry(p, gid, "association_cash", amount, at, verified_at, "verified")
            officer = self.officer()
            when = self.later(verified_at, 1, 5)
            rid = w.add(ContributionEntry, grant_id=gid, kind="reversal", refers_to_id=declared,
                        source="association_cash", currency="XOF", amount_minor=amount, rate_millionths=1_000_000,
                        amount_xof=amount, value_date=when.date(), proof_id=None, note="Virement rejeté par la banque.",
                        idempotency_key=None, created_by_id=officer, created_at=when)
            self.audit("contribution.reversed", "contribution_entries", rid, when, officer, None,
                       {"grant_id": gid, "refers_to": declared})
        return verified

    def entry(self, p, gid: int, source: str, amount: int, at: datetime, decided_at: datetime | None,
              outcome: str) -> int:
        w = self.w
        eid = w.add(ContributionEntry, grant_id=gid, kind="declared", refers_to_id=None, source=source,
                    currency="XOF", amount_minor=amount, rate_millionths=1_000_000, amount_xof=amount,
                    value_date=at.date(), proof_id=None, note=None, idempotency_key=self.uid(),
                    created_by_id=p.member, created_at=at)
        self.audit("contribution.declared", "contribution_entries", eid, at, p.member, None,
                   {"grant_id": gid, "amount_xof": amount})
        if outcome != "declared":
            officer = self.officer()
            when = max(decided_at or at, at + timedelta(minutes=1))
            did = w.add(ContributionEntry, grant_id=gid, kind=outcome, refers_to_id=eid, source=source,
                        currency="XOF", amount_minor=amount, rate_millionths=1_000_000, amount_xof=amount,
                        value_date=at.date(), proof_id=None,
                        note="Justificatif illisible." if outcome == "rejected" else None, idempotency_key=None,
                        created_by_id=officer, created_at=when)
            self.audit(f"contribution.{outcome}", "contribution_entries", did, when, officer, None,
                       {"grant_id": gid, "refers_to": eid})
        return eid

    def disbursement(self, gid: int, number: int, amount: int, at: datetime) -> None:
        officer = self.officer()
        request_id, approver = None, None
        if amount > FOUR_EYES_XOF:  # four eyes: a request an approver signed (after refusing one, now and then)
            if self.rng.random() < 0.1:
                self.request(gid, number, amount, at - timedelta(days=3), "refused")
            request_id = self.request(gid, number, amount, at - timedelta(days=1), "approved")
            approver = self.approver()
        did = self.w.add(Disbursement, grant_id=gid, tranche_number=number, amount_xof=amount, value_date=at.date(),
                         bank_reference=f"VIR-{gid}-{number}", idempotency_key=self.uid(), recorded_by_id=officer,
                         approved_by_id=approver, request_id=request_id, recorded_at=at)
        self.audit("disbursement.recorded", "disbursements", did, at, officer, None,
                   {"grant_id": gid, "tranche": number, "amount_xof": amount})

    def request(self, gid: int, number: int, amount: int, at: datetime, status: str) -> int:
        officer, approver = self.staff.officers[0], self.staff.approvers[0]
        path = ["pending"] if status == "pending" else ["pending", status]
        walk(DISBURSEMENT_REQUEST, path, REQUEST_MOVES)
        decided = at + timedelta(hours=20) if status != "pending" else None
        rid = self.w.add(DisbursementRequest, grant_id=gid, tranche_number=number, amount_xof=amount,
                         value_date=at.date(), bank_reference=f"VIR-{gid}-{number}", idempotency_key=self.uid(),
                         requested_by_id=officer, requested_at=at, status=status,
                         decided_by_id=approver if decided else None, decided_at=decided,
                         decision_note="Le relevé bancaire ne correspond pas." if status == "refused" else None)
        self.audit("disbursement.requested", "disbursement_requests", rid, at, officer, None,
                   {"grant_id": gid, "tranche": number, "amount_xof": amount})
        if decided:
            self.moved(DISBURSEMENT_REQUEST, REQUEST_MOVES, "disbursement_requests", rid, path, [decided], [approver])
        return rid

    def report(self, p, gid: int, kind: str, status: str, at: datetime) -> None:
        path = ["submitted"] if status == "submitted" else ["submitted", status]
        walk(REPORT, path, REPORT_MOVES)
        officer = self.officer()
        reviewed = self.later(at, 2, 10) if status != "submitted" else None
        rid = self.w.add(Report, grant_id=gid, kind=kind, period_start=(at - timedelta(days=120)).date(),
                         period_end=at.date(), narrative=self.text(p.commune, 5),
                         progress_pct=100 if kind == "final" else self.rng.randint(35, 70), expenses=[],
                         status=status, submitted_by_id=p.member, submitted_at=at,
                         reviewed_by_id=officer if reviewed else None, reviewed_at=reviewed,
                         review_comment="Ajoutez les photographies du chantier." if status == "returned" else None,
                         idempotency_key=self.uid())
        self.audit("report.submitted", "reports", rid, at, p.member, None, {"grant_id": gid, "kind": kind})
        if reviewed:
            self.moved(REPORT, REPORT_MOVES, "reports", rid, path, [reviewed], [officer], {"grant_id": gid})

