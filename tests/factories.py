"""factory-boy factories for every model, with traits for roles and statuses."""

from __future__ import annotations

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


def _hash(password: str) -> str:
    from codev.accounts.passwords import hash_password

    return hash_password(password)
