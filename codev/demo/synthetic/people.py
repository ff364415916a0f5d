"""Synthetic staff, partner structures, evaluators, associations and their members, and the calls."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from codev.accounts.models import Association, AssociationDomain, PartnerRegion, PartnerSector, PartnerStructure, User
from codev.accounts.two_factor.models import SecondFactor
from codev.accounts.two_factor.services import encrypt_secret
from codev.accounts.workflows import ASSOCIATION
from codev.calls.models import Call, CallRegion, CallSector, CallTranche, Criterion
from codev.calls.workflow import CALL
from codev.core.embassies import embassy_for_country
from codev.core.money import (
    Ratio,
)
from codev.demo import DEMO_TOTP_SECRET
from codev.demo.synthetic.shape import (
    ASSOCIATION_MOVES,
    CALL_MOVES,
    CITIES,
    COUNTRIES,
    DOMAIN,
    GRID,
    REGIONS,
    SESSION_MOVES,
    TRANCHE_PLAN,
    CallPlan,
    Staff,
    _at,
)
from codev.reviews.models import (
    CommitteeSession,
)
from codev.reviews.workflows import SESSION


class People:
    """Synthetic staff, partner structures, evaluators, associations and their members, and the calls."""

    # --- people -------------------------------------------------------------------------------

    def seed_people(self) -> None:
        w, rng, now = self.w, self.rng, self.now
        made = now - timedelta(days=3000)

        def user(email: str, name: str, role: str, **extra: Any) -> int:
            row = dict(email=email, name=name, password_hash=self.password_hash, role=role,
                       locale=extra.pop("locale", "fr"), title=extra.pop("title", None),
                       association_id=extra.pop("association_id", None),
                       partner_structure_id=extra.pop("partner_structure_id", None), active=True,
                       session_version=1, created_at=extra.pop("created_at", made), last_login_at=None)
            user_id = w.add(User, **row)
            self.audit("user.create", "users", user_id, row["created_at"], None, None,
                       {"email": email, "role": role})
            return user_id

        # A second programme in the same database gets its own staff addresses ("officer1.2041@…").
        first = w.next_id[User.__table__]
        run = "" if first == 1 else f".{first}"
        officers = [user(f"officer{i}{run}@{DOMAIN}", f"Agent {i}", "officer", title="Chargé de programme")
                    for i in range(1, max(3, self.n // 10000 + 2) + 1)]
        approvers = [user(f"approver{i}{run}@{DOMAIN}", f"Ordonnateur {i}", "approver",
                          title="Directeur des Togolais de l'extérieur") for i in range(1, 3)]
        admin = user(f"admin{run}@{DOMAIN}", "Administrateur", "admin", title="Administrateur du système")
        key = encrypt_secret(DEMO_TOTP_SECRET)  # their role requires a second factor: the demo's documented key
        for staff_id in (*approvers, admin):
            w.add(SecondFactor, user_id=staff_id, secret=key, created_at=made, enabled_at=made, last_step=None)
        structures, evaluators = [], []
        for i in range(max(3, self.n // 1000 + 2)):
            sid = w.add(PartnerStructure, name=f"Structure partenaire {i + 1}{run}", acronym=f"SP{i + 1}",
                        kind="state" if i % 2 == 0 else "non_state", email=None, phone=None, active=True,
                        created_at=made)
            self.audit("structure.create", "partner_structures", sid, made, admin)
            for region in rng.sample(REGIONS, 3):
                w.add(PartnerRegion, structure_id=sid, region=region)
            for sector in rng.sample(self.sectors, 3):
                w.add(PartnerSector, structure_id=sid, sector=sector)
            structures.append(sid)
        w.flush()  # structures before their evaluators
        for i in range(max(6, self.n // 150)):
            evaluators.append(user(f"evaluator{i + 1}{run}@{DOMAIN}", f"Évaluateur {i + 1}", "evaluator",
                                   partner_structure_id=structures[i % len(structures)],
                                   locale="en" if i % 7 == 0 else "fr"))
        self.staff = Staff(officers, approvers, admin, evaluators, structures)
        w.flush()
        self.seed_associations()

    def seed_associations(self) -> None:
        w, rng = self.w, self.rng
        created = self.now - timedelta(days=2900)
        for i in range(self.m):
            country = rng.choice(COUNTRIES)
            embassy = embassy_for_country(country)
            roll = rng.random()
            status = "verified" if roll < 0.86 or i == 0 else ("pending" if roll < 0.94 else "rejected")
            path = {"verified": ["pending", "verified"], "pending": ["pending"],
                    "rejected": ["pending", "rejected"]}[status]
            at = created + timedelta(days=rng.randint(0, 2000))
            if at > self.now - timedelta(days=10):
                at = self.now - timedelta(days=10)
            decided_at = self.later(at, 2, 20)
            locale = "en" if country in ("US", "CA", "GB", "GH") and rng.random() < 0.6 else "fr"
            acronym = f"AS{i + 1}"
            name = f"Association des ressortissants de {rng.choice(self.places).name} à {CITIES[country]}"
            officer = self.officer()
            aid = w.add(Association, name=name, acronym=acronym, country=country, city=CITIES[country],
                        embassy=embassy.code if embassy else None, registration_number=f"W{7500000 + i}",
                        registration_authority="Préfecture", founded_year=rng.randint(1990, 2022),
                        members_count=rng.randint(8, 400), contact_name=f"Contact {i + 1}",
                        contact_email=f"contact{i + 1}@{DOMAIN}", contact_phone=None, website=None,
                        description=self.text(CITIES[country], 2), home_region=rng.choice(REGIONS), locale=locale,
                        status=status,
                        status_reason="Les statuts fournis ne sont pas signés." if status == "rejected" else None,
                        verified_by_id=officer if status != "pending" else None,
                        verified_at=decided_at if status != "pending" else None, statutes_id=None, created_at=at)
            for sector in rng.sample(self.sectors, rng.randint(1, 3)):
                w.add(AssociationDomain, association_id=aid, sector=sector)
            self.audit("association.register", "associations", aid, at, None, None, {"name": name})
            self.moved(ASSOCIATION, ASSOCIATION_MOVES, "associations", aid, path, [decided_at], [officer])
            self.associations.append((aid, status, locale, f"{name} ({acronym})"))
        w.flush()
        members = []
        for aid, status, locale, display in self.associations:
            count = 2 if self.rng.random() < 0.25 else 1
            ids = [self._member(aid, locale, k) for k in range(count)]
            members.append((aid, ids[0], status, locale, display))
        self.associations = members
        self.verified = [a for a in self.associations if a[2] == "verified"]
        w.flush()

    def _member(self, association_id: int, locale: str, k: int) -> int:
        row = dict(email=f"member{association_id}-{k + 1}@{DOMAIN}", name=f"Membre {association_id}-{k + 1}",
                   password_hash=self.password_hash, role="association", locale=locale, title=None,
                   association_id=association_id, partner_structure_id=None, active=True, session_version=1,
                   created_at=self.now - timedelta(days=2900), last_login_at=None)
        user_id = self.w.add(User, **row)
        self.audit("user.create", "users", user_id, row["created_at"], None, None, {"email": row["email"]})
        return user_id

    # --- calls --------------------------------------------------------------------------------

    def seed_calls(self) -> None:
        """Archived calls, then one decided, one under evaluation, one closed, one open, one draft."""
        archived = max(1, self.n // 2500)
        states = ["archived"] * archived + ["decided", "evaluating", "closed", "open", "draft"]
        # The call under evaluation holds the committee's big ranking (3 000 qualified projects at 50 000);
        # the closed and open calls 3 % each; the decided and archived calls share the rest.
        shares = {"evaluating": 0.14, "closed": 0.03, "open": 0.03, "draft": 0.0}
        past = (1 - sum(shares.values())) / (archived + 1)
        left = self.n
        for index, status in enumerate(states):
            count = 0 if status == "draft" else max(12, round(self.n * shares.get(status, past)))
            count = min(count, left) if status != "open" else left
            left -= count
            age = {"archived": 900 + 150 * (archived - 1 - index), "decided": 760, "evaluating": 420,
                   "closed": 200, "open": 30, "draft": -60}[status]
            opens = _at(self.today - timedelta(days=age), 8)
            closes = opens + timedelta(days=90)
            if status == "open":
                closes = _at(self.today + timedelta(days=60), 23, 59)
            ratio = Ratio(2, 1) if index % 3 == 1 else Ratio(1, 1)
            plan = CallPlan(self.w.id(Call), index, status, opens, closes, count, ratio)
            if ratio.numerator == 2:  # a call of bigger grants: tranches above the four-eyes threshold
                plan.max_grant_xof, plan.max_total_budget_xof = 40_000_000, 100_000_000
            self.calls.append(plan)
            self._call_rows(plan)
        self.w.flush()

    def _call_rows(self, plan: CallPlan) -> None:
        w, officer = self.w, self.staff.officers[0]
        created = plan.opens_at - timedelta(days=20)
        year = plan.opens_at.year
        plan.title = f"Appel à projets de coréalisation {year} — n° {plan.index + 1}"
        w.add(Call, id=plan.id, title=plan.title,
              title_en=f"{year} co-development call — no. {plan.index + 1}",
              description=self.text("la commune", 4), description_en=None,
              opens_at=plan.opens_at if plan.status != "draft" else plan.opens_at, closes_at=plan.closes_at,
              status=plan.status, envelope_xof=0, committed_xof=0, ratio_num=plan.ratio_num,
              ratio_den=plan.ratio_den, max_grant_xof=plan.max_grant_xof,
              max_grant_share_bps=plan.max_grant_share_bps, min_association_share_bps=plan.min_association_share_bps,
              max_total_budget_xof=plan.max_total_budget_xof, in_kind_counts_bps=plan.in_kind_counts_bps,
              contribution_deadline_days=90, qualification_threshold=plan.qualification_threshold,
              min_evaluators=plan.min_evaluators, score_gap_flag=plan.score_gap_flag,
              max_project_files_bytes=50 * 1024 * 1024, created_by_id=officer, created_at=created,
              updated_at=created)
        self.audit("call.create", "calls", plan.id, created, officer, None, {"title": f"call {plan.index + 1}"})
        for sector in self.sectors:
            w.add(CallSector, call_id=plan.id, sector=sector)
        for region in REGIONS:
            w.add(CallRegion, call_id=plan.id, region=region)
        for position, (code, fr, en, weight, maximum, minimum) in enumerate(GRID):
            cid = w.add(Criterion, call_id=plan.id, position=position, code=code, label_fr=fr, label_en=en,
                        guidance_fr=None, guidance_en=None, weight=weight, max_score=maximum,
                        eliminatory_min=minimum)
            plan.criteria.append(SimpleNamespace(id=cid, code=code, weight=weight, max_score=maximum,
                                                 eliminatory_min=minimum))
        for number, (share, condition) in enumerate(TRANCHE_PLAN, start=1):
            w.add(CallTranche, call_id=plan.id, number=number, share_bps=share, condition=condition)
        path = {"draft": ["draft"], "open": ["draft", "open"], "closed": ["draft", "open", "closed"],
                "evaluating": ["draft", "open", "closed", "evaluating"],
                "decided": ["draft", "open", "closed", "evaluating", "decided"],
                "archived": ["draft", "open", "closed", "evaluating", "decided", "archived"]}[plan.status]
        times = [plan.opens_at, plan.closes_at, plan.closes_at + timedelta(days=5),
                 plan.closes_at + timedelta(days=80), plan.closes_at + timedelta(days=500)]
        self.moved(CALL, CALL_MOVES, "calls", plan.id, path, times, [officer] * 5)
        if plan.status in ("evaluating", "decided", "archived"):
            plan.held_on = (plan.closes_at + timedelta(days=70)).date()
            if plan.status == "evaluating":
                plan.held_on = self.today - timedelta(days=3)
            plan.session_status = "open" if plan.status == "evaluating" else "closed"
            held = _at(plan.held_on, 10)
            plan.session_id = w.add(
                CommitteeSession, call_id=plan.id, held_on=plan.held_on, place="Lomé, salle du conseil",
                members="Président du comité, MAEIRTE\nReprésentant du ministère des Finances\n"
                        "Représentant de la société civile",
                chair="Président du comité", tie_breaks="led_by_women,least_funded_commune", minutes=None,
                status=plan.session_status, created_by_id=officer, created_at=held - timedelta(days=10),
                closed_at=held + timedelta(hours=6) if plan.session_status == "closed" else None,
                remaining_at_close_xof=None)
            self.audit("committee.session_created", "committee_sessions", plan.session_id,
                       held - timedelta(days=10), officer, None, {"call_id": plan.id})
            if plan.session_status == "closed":
                self.moved(SESSION, SESSION_MOVES, "committee_sessions", plan.session_id, ["open", "closed"],
                           [held + timedelta(hours=6)], [officer], {"call_id": plan.id})

