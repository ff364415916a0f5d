"""Synthetic projects: plans, histories, screenings, evaluations, committee decisions and rankings."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from codev.core.money import (
    EUR_RATE_MILLIONTHS,
    convert_to_xof,
    eligible_money,
    reaches_share,
    share_ceil,
    share_floor,
    within_share,
)
from codev.demo.synthetic.shape import (
    ASSIGNMENT_MOVES,
    MESSAGES,
    OUTCOMES,
    PATHS,
    PROJECT_MOVES,
    WORKS,
    CallPlan,
    _at,
    walk,
)
from codev.projects.models import BudgetLine, FinancingLine, Project, ProjectEvent
from codev.projects.references import format_reference
from codev.projects.workflow import PROJECT
from codev.reviews.models import (
    Assignment,
    CommitteeDecision,
    CriterionScore,
    Evaluation,
    ReserveEntry,
    ReviewResult,
    Screening,
)
from codev.reviews.scoring import EvaluationScore, consolidate, evaluation_score_centi
from codev.reviews.workflows import ASSIGNMENT


class Projects:
    """Synthetic projects: plans, histories, screenings, evaluations, committee decisions and rankings."""

    # --- projects -----------------------------------------------------------------------------

    def reference(self, at: datetime) -> str:
        number = self.refs.get(at.year, 0) + 1
        self.refs[at.year] = number
        return format_reference(at.year, number)

    def plan_money(self, plan: CallPlan) -> dict:
        """Budget lines and a financing plan that balance and pass every rule of the call."""
        rng = self.rng
        budget = []
        big = plan.max_grant_xof > 25_000_000  # a call of bigger grants (2:1): bigger projects
        for _ in range(rng.randint(2, 4)):
            quantity = rng.choice([1, 1, 2, 4, 10, 25, 50])
            unit = (rng.randint(8000, 30000) if big else rng.randint(500, 20000)) * 1000 // quantity
            budget.append((quantity, max(1000, unit - unit % 500)))
        total = sum(q * u for q, u in budget)
        if total > plan.max_total_budget_xof:
            budget = [(1, plan.max_total_budget_xof // 2)]
            total = budget[0][1]
        ratio = plan.ratio
        grant = share_floor(total, rng.randint(5000, 6500) if big else rng.randint(2500, 4500))
        grant = min(grant, plan.max_grant_xof, share_floor(total, plan.max_grant_share_bps))
        in_kind = share_floor(total, rng.randint(0, 500))
        needed = max(ratio.required_for(grant) - share_floor(in_kind, plan.in_kind_counts_bps),
                     share_ceil(total, plan.min_association_share_bps) - share_floor(in_kind, plan.in_kind_counts_bps))
        cash_target = needed + share_floor(total, rng.randint(0, 400)) + 10
        currency, minor, rate = "XOF", cash_target, 1_000_000
        if rng.random() < 0.25:  # a diaspora in the euro zone brings euros
            currency, rate = "EUR", EUR_RATE_MILLIONTHS
            minor = -(-cash_target * 100 * 1_000_000 // rate)
            cash = convert_to_xof(minor, rate)
        else:
            cash = cash_target
        rest = total - grant - cash - in_kind
        if rest < 0:  # the association brings more: the grant shrinks to balance
            grant += rest
            rest = 0
        community = rest * rng.randint(20, 60) // 100
        commune = (rest - community) * rng.randint(0, 80) // 100
        other = rest - community - commune
        a = eligible_money(cash, in_kind, plan.in_kind_counts_bps)
        assert grant > 0 and grant <= ratio.apply(a) and grant <= plan.max_grant_xof  # noqa: S101 (a bug if not)
        assert within_share(grant, total, plan.max_grant_share_bps)  # noqa: S101
        assert reaches_share(a, total, plan.min_association_share_bps)  # noqa: S101
        assert cash + in_kind + community + commune + other + grant == total  # noqa: S101
        lines = [("association_cash", currency, minor, rate, cash)]
        lines += [(source, "XOF", amount, 1_000_000, amount)
                  for source, amount in (("association_in_kind", in_kind), ("community", community),
                                         ("commune", commune), ("other", other)) if amount > 0]
        figures = {"total_budget": total, "association_cash": cash, "association_in_kind": in_kind,
                   "community": community, "commune": commune, "other": other, "requested_grant": grant}
        allowed = min(ratio.apply(a), plan.max_grant_xof, share_floor(total, plan.max_grant_share_bps))
        return {"budget": budget, "total": total, "grant": grant, "lines": lines, "cash": cash, "in_kind": in_kind,
                "figures": figures, "allowed": allowed}

    def seed_projects(self) -> None:
        members_by_assoc = self.verified
        done = 0
        for plan in self.calls:
            for k in range(plan.projects):
                outcomes = OUTCOMES[plan.status]  # each end state once first, so that small runs hold them all
                status = outcomes[k][0] if k < len(outcomes) else self.pick(plan)
                association = self.rng.choice(members_by_assoc)
                self.project(plan, status, association)
                done += 1
                if done % 1000 == 0:
                    self.progress(1000)
                if done % 2500 == 0:
                    self.w.flush()
            self.w.flush()
            self.close_ranking(plan)
            self.w.flush()
        self.progress(done % 1000)

    def pick(self, plan: CallPlan) -> str:
        choices = OUTCOMES[plan.status]
        return self.rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]

    def project(self, plan: CallPlan, status: str, association: tuple) -> None:
        rng, w = self.rng, self.w
        aid, member, _status, locale, display = association
        place = rng.choice(self.places)
        sector = rng.choice(self.sectors)
        title_pattern, descriptions = WORKS[sector]
        path = list(PATHS[status])
        if status == "withdrawn" and rng.random() < 0.5:
            path = ["draft", "submitted", "withdrawn"]
        if status == "closed" and rng.random() < 0.25:  # closed after its grant lapsed or was cancelled
            path = PATHS["lapsed"] + ["closed"]
        if len(path) > 2 and path[1] == "submitted" and rng.random() < 0.12:
            path[2:2] = ["returned", "submitted"]  # returned once, corrected and submitted again
        if status == "submitted" and rng.random() < 0.1:
            path = ["draft", "submitted", "returned", "submitted"]
        walk(PROJECT, path, PROJECT_MOVES)
        money = self.plan_money(plan)
        open_until = min(plan.closes_at, self.now - timedelta(days=1))
        created = plan.opens_at + timedelta(seconds=rng.randint(0, max(1, int((open_until - plan.opens_at)
                                                                             .total_seconds() * 0.6))))
        times = self.timeline(plan, path, created, open_until)
        pid = w.id(Project)
        submitted = [t for s, t in zip(path, times, strict=True) if s == "submitted"]
        reference = self.reference(submitted[0]) if submitted else None
        beneficiaries = rng.randint(200, 12000)
        led_by_women = rng.random() < 0.3
        all_done = len(path) > 1 or rng.random() < 0.3
        steps = "general,location,description,budget,financing,attachments" if all_done else "general,location"
        w.add(Project, id=pid, reference=reference, association_id=aid, call_id=plan.id, status=status,
              title=title_pattern.format(place=place.name), sector=sector, summary=self.text(place.name, 3),
              led_by_women=led_by_women, region=place.region_code, prefecture=place.prefecture,
              commune=place.name, village=f"Village {rng.randint(1, 60)}", local_partner_name=f"Mairie de {place.name}",
              local_partner_kind="commune", local_partner_commitment=self.text(place.name, 2),
              problem=self.text(place.name, 4), objectives=self.text(place.name, 3),
              activities=self.text(place.name, 4), beneficiaries_total=beneficiaries,
              beneficiaries_women=beneficiaries * rng.randint(40, 60) // 100,
              beneficiaries_youth=beneficiaries * rng.randint(20, 50) // 100,
              start_date=(plan.closes_at + timedelta(days=120)).date(), duration_months=rng.randint(6, 24),
              requested_grant_xof=money["grant"], steps_done=steps, created_by_id=member, created_at=created,
              updated_at=times[-1], submitted_at=submitted[-1] if submitted else None, version=1)
        for position, (quantity, unit) in enumerate(money["budget"]):
            w.add(BudgetLine, project_id=pid, position=position, category="works" if position == 0 else "equipment",
                  description=descriptions[position % len(descriptions)], quantity=quantity, unit_cost_xof=unit,
                  amount_xof=quantity * unit)
        for position, (source, currency, minor, rate, xof) in enumerate(money["lines"]):
            w.add(FinancingLine, project_id=pid, position=position, source=source, description=None,
                  currency=currency, amount_minor=minor, rate_millionths=rate, amount_xof=xof)
        # The history: created, then one event per row of the table along the path.
        w.add(ProjectEvent, project_id=pid, at=created, actor_id=member, action="created", from_status=None,
              to_status="draft", message=None)
        self.audit("project.created", "projects", pid, created, member, None,
                   {"title": title_pattern.format(place=place.name), "call_id": plan.id})
        actors = self.actors(path, member)
        for (source, target), at, actor in zip(zip(path, path[1:], strict=False), times[1:], actors, strict=False):
            name = PROJECT_MOVES[(source, target)]
            message = MESSAGES.get(name)
            w.add(ProjectEvent, project_id=pid, at=at, actor_id=actor, action=name, from_status=source,
                  to_status=target, message=message)
            after = {"status": target, "reference": reference}
            if message:
                after["message"] = message
            self.audit(f"project.{name}", "projects", pid, at, actor, {"status": source}, after)
        ctx = SimpleNamespace(id=pid, plan=plan, path=path, times=times, member=member, money=money,
                              reference=reference, led_by_women=led_by_women, locale=locale, display=display,
                              title=title_pattern.format(place=place.name), commune=place.name, status=status)
        self.review(ctx)

    def actors(self, path: list[str], member: int) -> list[int | None]:
        actors = []
        for target in path[1:]:
            if target in ("submitted", "withdrawn"):
                actors.append(member)
            elif target == "funded":
                actors.append(self.approver())
            elif target == "lapsed":
                actors.append(None)  # the nightly job
            else:
                actors.append(self.officer())
        return actors

    def timeline(self, plan: CallPlan, path: list[str], created: datetime, open_until: datetime) -> list[datetime]:
        """When each step of ``path`` happened, in order, none in the future."""
        times, at = [created], created
        for target in path[1:]:
            if target == "submitted":
                at = min(self.later(at, 1, 20), open_until)
                at = max(at, times[-1] + timedelta(minutes=1))
            elif target == "returned":
                at = self.later(at, 2, 10)
            elif target in ("in_review", "ineligible"):
                base = max(at, plan.closes_at) if plan.status not in ("open",) else at
                at = self.later(base, 2, 12)
            elif target in ("qualified", "not_qualified"):
                at = self.later(at, 25, 45)
            elif target in ("approved", "rejected", "deferred"):
                at = max(at + timedelta(minutes=1), _at(plan.held_on, 11) if plan.held_on else at)
            elif target == "funded":
                at = self.later(at, 3, 9)
            elif target == "completed":  # every tranche paid and the final report accepted
                at = self.later(at, 410, 460)
            elif target == "lapsed":  # after the contribution deadline (90 days), or a cancellation
                at = self.later(at, 92, 140)
            else:  # closed
                at = self.later(at, 10, 60)
            times.append(min(at, self.now - timedelta(minutes=1)))
        for i in range(1, len(times)):  # strictly in order
            if times[i] <= times[i - 1]:
                times[i] = times[i - 1] + timedelta(minutes=1)
        return times

    # --- screening, evaluations, committee ----------------------------------------------------

    def review(self, p: SimpleNamespace) -> None:
        path, times = p.path, p.times
        for index, (source, target) in enumerate(zip(path, path[1:], strict=False), start=1):
            if source == "submitted" and target in ("returned", "in_review", "ineligible"):
                self.screening(p, target, times[index])
        if "in_review" not in path:
            return
        screened = times[path.index("in_review")]
        end = p.status if p.status in ("in_review",) else "done"
        self.evaluations(p, screened, end)
        if p.status in ("approved", "rejected", "deferred", "funded", "completed", "lapsed", "closed", "qualified"):
            self.committee(p)

    def screening(self, p: SimpleNamespace, target: str, at: datetime) -> None:
        outcome = {"returned": "returned", "in_review": "eligible", "ineligible": "ineligible"}[target]
        rows = [{"code": code, "computed": True, "confirmed": outcome == "eligible", "comment": None}
                for code in ("association_verified", "call_open", "place_and_sector", "attachments", "plan")]
        officer = self.officer()
        comments = None if outcome == "eligible" else MESSAGES["returned" if outcome == "returned"
                                                                else "screened_ineligible"]
        sid = self.w.add(Screening, project_id=p.id, officer_id=officer, at=at, checklist=rows, outcome=outcome,
                         comments=comments)
        self.audit("review.screened", "screenings", sid, at, officer, None,
                   {"project_id": p.id, "outcome": outcome})

    def evaluations(self, p: SimpleNamespace, screened: datetime, end: str) -> None:
        """Two evaluations (in progress while the project is in review), consolidated with the app's rules."""
        rng, plan, w = self.rng, p.plan, self.w
        evaluators = rng.sample(self.staff.evaluators, 3)
        target = None
        if p.status != "in_review":
            target = "not_qualified" if p.status == "not_qualified" else "qualified"
        if end == "in_review":
            states = rng.choice([("assigned", "assigned"), ("accepted", "assigned"), ("accepted", "accepted"),
                                 ("submitted", "accepted"), ("submitted", "assigned"), ("recused", "accepted"),
                                 ("withdrawn", "accepted", "assigned")])
        else:
            states = ("submitted", "submitted") if rng.random() < 0.95 else ("withdrawn", "submitted", "submitted")
        scores = self.scores(plan, target, sum(1 for s in states if s == "submitted"))
        submitted_scores, last = [], screened
        for state, evaluator in zip(states, evaluators, strict=False):
            assigned = self.later(screened, 1, 4)
            path = {"assigned": ["assigned"], "accepted": ["assigned", "accepted"],
                    "recused": ["assigned", "recused"], "submitted": ["assigned", "accepted", "submitted"],
                    "withdrawn": ["assigned", "withdrawn"]}[state]
            declared = self.later(assigned, 0.5, 3) if len(path) > 1 and state != "withdrawn" else None
            aid = w.add(Assignment, project_id=p.id, evaluator_id=evaluator, assigned_by_id=self.officer(),
                        assigned_at=assigned, due_on=(assigned + timedelta(days=30)).date(), status=state,
                        conflict_declared=None if declared is None else state == "recused",
                        conflict_note="Parent d'un membre du bureau de l'association." if state == "recused" else None,
                        declared_at=declared)
            self.audit("review.assigned", "assignments", aid, assigned, self.officer(), None,
                       {"project_id": p.id, "evaluator_id": evaluator})
            times = [declared or assigned]
            actors: list[int | None] = [evaluator]
            if state == "submitted":
                times.append(self.later(declared, 5, 20))
                actors.append(evaluator)
            if state == "withdrawn":
                times, actors = [self.later(assigned, 2, 6)], [self.officer()]
            self.moved(ASSIGNMENT, ASSIGNMENT_MOVES, "assignments", aid, path, times, actors,
                       {"project_id": p.id, "evaluator_id": evaluator})
            if state in ("accepted", "submitted"):
                submitted_at = times[-1] if state == "submitted" else None
                marks = scores.pop() if state == "submitted" else {c.id: rng.choice([None, 5, 7])
                                                                    for c in plan.criteria}
                score = evaluation_score_centi(plan.criteria, {k2: v for k2, v in marks.items() if v is not None})
                done = submitted_at is not None
                eid = w.add(Evaluation, assignment_id=aid, overall_comment="Projet clair et bien documenté." if done
                            else None, recommendation=("qualify" if score >= 6000 else "not_qualify") if done else None,
                            score_centi=score if done else None, updated_at=submitted_at or declared,
                            submitted_at=submitted_at)
                for criterion in plan.criteria:
                    w.add(CriterionScore, evaluation_id=eid, criterion_id=criterion.id,
                          score=marks.get(criterion.id), comment=None)
                if done:
                    self.audit("review.submitted", "evaluations", eid, submitted_at, evaluator, None,
                               {"project_id": p.id, "score_centi": score})
                    submitted_scores.append(EvaluationScore(eid, evaluator, score,
                                                            {c: s for c, s in marks.items() if s is not None}))
                    last = max(last, submitted_at)
        if submitted_scores:
            result = consolidate(plan, p.id, submitted_scores)
            if target is not None and result.qualified != (target == "qualified"):
                raise AssertionError(f"consolidation gave {result.qualified} for {target}")
            w.add(ReviewResult, project_id=p.id, evaluations_count=result.evaluations_count,
                  score_centi=result.score_centi, eliminated_by=result.eliminated_by,
                  spread_centi=result.spread_centi, spread_flagged=result.spread_flagged,
                  qualified=result.qualified, computed_at=last)
            self.audit("review.consolidated", "projects", p.id, last, None, None,
                       {"score_centi": result.score_centi, "qualified": result.qualified})
            p.score = result.score_centi
        else:
            p.score = None

    def scores(self, plan: CallPlan, target: str | None, count: int) -> list[dict[int, int]]:
        """``count`` sets of marks whose consolidation qualifies the project or not, as ``target`` says."""
        rng = self.rng
        for _attempt in range(50):
            if target == "qualified":
                sets = [{c.id: rng.randint(6, 10) for c in plan.criteria} for _ in range(count)]
            elif target == "not_qualified":
                low = rng.random() < 0.3  # eliminated by a criterion under its minimum
                sets = [{c.id: (rng.randint(1, 3) if low and c.eliminatory_min else rng.randint(2, 7))
                         for c in plan.criteria} for _ in range(count)]
            else:
                sets = [{c.id: rng.randint(3, 10) for c in plan.criteria} for _ in range(count)]
            if target is None or count == 0:
                return sets
            evaluations = [EvaluationScore(i, i, evaluation_score_centi(plan.criteria, s), s)
                           for i, s in enumerate(sets)]
            if consolidate(plan, 0, evaluations).qualified == (target == "qualified"):
                return sets
        raise AssertionError("no marks found for " + str(target))

    def committee(self, p: SimpleNamespace) -> None:
        """The decision of the call's session on ``p`` (a qualified project waits in its ranking)."""
        plan, w = p.plan, self.w
        decided = {"approved", "rejected", "deferred", "funded", "completed", "lapsed", "closed"}
        amount = p.money["grant"]
        outcome = None
        if p.status in decided and plan.session_id is not None:
            target = p.path[p.path.index("qualified") + 1]
            outcome = target
            if target == "approved" and self.rng.random() < 0.2:
                outcome = "conditionally_approved"
            if outcome.endswith("approved") and self.rng.random() < 0.15:
                amount = max(1000, amount * 9 // 10)  # the committee proposes less than asked
            at = p.times[p.path.index(target)]
            officer = self.officer()
            row = dict(session_id=plan.session_id, project_id=p.id, rank=None, score_centi=p.score, outcome=outcome,
                       conditions="Fournir l'étude technique avant le premier versement."
                       if outcome == "conditionally_approved" else None,
                       reason=MESSAGES[target], amount_proposed_xof=amount if outcome.endswith("approved") else None,
                       decided_by_id=officer, decided_at=at)
            did = row["id"] = w.id(CommitteeDecision)  # written with its rank once the ranking is drawn
            plan.decision_rows[p.id] = row
            self.audit("committee.decided", "committee_decisions", did, at, officer, None,
                       {"project_id": p.id, "outcome": outcome})
        if plan.session_id is not None:
            plan.ranking.append((p.score or 0, p.led_by_women, p.times[1], p.reference, p.id,
                                 amount if outcome and outcome.endswith("approved") else p.money["grant"], outcome))
        if p.status in ("funded", "completed", "lapsed", "closed"):
            self.grant(p, amount)

    def close_ranking(self, plan: CallPlan) -> None:
        """The ranks of the decisions, and the frozen ranking of a closed session (its reserve list)."""
        ordered = sorted(plan.ranking, key=lambda r: (-r[0], not r[1], r[2], r[3] or "", r[4]))
        ranks = {row[4]: rank for rank, row in enumerate(ordered, start=1)}
        for project_id, decision in plan.decision_rows.items():
            decision["rank"] = ranks[project_id]
            self.w.add(CommitteeDecision, **decision)
        if plan.session_status == "closed":
            for rank, (score, _women, _at, _ref, project_id, amount, outcome) in enumerate(ordered, start=1):
                self.w.add(ReserveEntry, session_id=plan.session_id, project_id=project_id, rank=rank,
                           score_centi=score or None, amount_xof=amount, outcome=outcome)
        plan.ranking = []
        plan.decision_rows = {}

