"""factory-boy factories for every model, with traits for roles and statuses."""

from __future__ import annotations

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from codev.accounts.models import (
    Association,
    AssociationDomain,
    AssociationStatus,
    PartnerStructure,
    Role,
    StructureKind,
    User,
)
from codev.calls.models import (
    AttachmentKind,
    Call,
    CallRegion,
    CallRequiredAttachment,
    CallSector,
    CallStatus,
    CallTranche,
    Criterion,
    TrancheCondition,
)
from codev.core.timeutil import utcnow
from codev.extensions import db

PASSWORD = "correct horse battery"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class PartnerStructureFactory(Base):
    class Meta:
        model = PartnerStructure

    name = factory.Sequence(lambda n: f"Structure partenaire {n}")
    acronym = factory.Sequence(lambda n: f"SP{n}")
    kind = StructureKind.STATE


class AssociationFactory(Base):
    class Meta:
        model = Association

    name = factory.Sequence(lambda n: f"Association des Togolais numéro {n}")
    acronym = factory.Sequence(lambda n: f"AT{n}")
    country = "FR"
    city = "Lyon"
    embassy = "paris"
    contact_name = "Kossi Mensah"
    contact_email = factory.Sequence(lambda n: f"contact{n}@asso.example.org")
    status = AssociationStatus.PENDING
    locale = "fr"

    class Params:
        verified = factory.Trait(status=AssociationStatus.VERIFIED, verified_at=factory.LazyFunction(utcnow))
        rejected = factory.Trait(status=AssociationStatus.REJECTED, status_reason="Statuts illisibles")

    @factory.post_generation
    def domains(obj, create, extracted, **kwargs):
        for code in extracted or []:
            obj.domains.append(AssociationDomain(sector=code))


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"Personne {n}")
    role = Role.OFFICER
    locale = "fr"
    password_hash = factory.LazyFunction(lambda: _hash(PASSWORD))

    class Params:
        member = factory.Trait(
            role=Role.ASSOCIATION,
            association=factory.SubFactory(AssociationFactory, verified=True),
        )
        evaluator = factory.Trait(
            role=Role.EVALUATOR, partner_structure=factory.SubFactory(PartnerStructureFactory)
        )
        officer = factory.Trait(role=Role.OFFICER)
        approver = factory.Trait(role=Role.APPROVER)
        admin = factory.Trait(role=Role.ADMIN)

    @factory.post_generation
    def second_factor(obj, create, extracted, **kwargs):
        """Approvers and admins may not work without a second factor: theirs is enrolled with the known test
        key (tests/two_factor_support.py makes its codes); ``second_factor=False`` leaves it out, True adds it."""
        from codev.accounts.two_factor.models import requires_two_factor
        from codev.accounts.two_factor.services import enrol_with
        from tests.two_factor_support import TEST_SECRET

        if create and extracted is not False and (extracted or requires_two_factor(obj)):
            enrol_with(obj, TEST_SECRET)


def _hash(password: str) -> str:
    from codev.accounts.passwords import hash_password

    return hash_password(password)


class CallFactory(Base):
    """A call; the ``open`` trait gives one accepting submissions with a complete set of rules."""

    class Meta:
        model = Call

    title = factory.Sequence(lambda n: f"Appel à projets {n}")
    description = "Projets de développement local portés par la diaspora."
    status = CallStatus.DRAFT
    envelope_xof = 200_000_000
    ratio_num = 1
    ratio_den = 1
    max_grant_xof = 20_000_000
    max_grant_share_bps = 7000
    min_association_share_bps = 2000
    max_total_budget_xof = 60_000_000
    in_kind_counts_bps = 5000
    contribution_deadline_days = 90
    qualification_threshold = 60

    class Params:
        open = factory.Trait(
            status=CallStatus.OPEN,
            opens_at=factory.LazyFunction(lambda: utcnow() - timedelta(days=10)),
            closes_at=factory.LazyFunction(lambda: utcnow() + timedelta(days=30)),
        )

    @factory.post_generation
    def rules(obj, create, extracted, **kwargs):
        """Sectors, regions, grid and tranche plan of a complete call (skip with rules=False)."""
        if extracted is False or obj.criteria:
            return
        obj.sectors = [CallSector(sector=s) for s in ("water", "health", "education", "agriculture")]
        obj.regions = [CallRegion(region=r) for r in ("TG-M", "TG-P", "TG-C", "TG-K", "TG-S", "TG-GL")]
        obj.criteria = [
            Criterion(
                position=1, code="relevance", label_fr="Pertinence", label_en="Relevance", weight=40, max_score=10
            ),
            Criterion(position=2, code="feasibility", label_fr="Faisabilité", label_en="Feasibility", weight=35,
                      max_score=10, eliminatory_min=4),
            Criterion(position=3, code="sustainability", label_fr="Durabilité", label_en="Sustainability",
                      weight=25, max_score=5),
        ]
        obj.tranches = [
            CallTranche(number=1, share_bps=4000, condition=TrancheCondition.CONTRIBUTION_VERIFIED),
            CallTranche(number=2, share_bps=4000, condition=TrancheCondition.PROGRESS_REPORT),
            CallTranche(number=3, share_bps=2000, condition=TrancheCondition.FINAL_REPORT),
        ]
        obj.required_attachments = [CallRequiredAttachment(kind=AttachmentKind.QUOTE)]
