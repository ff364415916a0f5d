"""Factories and helpers for the associations tests: invitations, members, sign-up data, files."""

from __future__ import annotations

import io
from datetime import timedelta

import factory

from codev.accounts.associations.services import hash_token
from codev.accounts.models import Invitation, Role
from codev.core.timeutil import utcnow
from tests.factories import AssociationFactory, Base, UserFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FAKE_PDF = b"MZ\x90\x00" + b"\x00" * 200  # a Windows executable renamed statuts.pdf
PASSWORD = "une phrase assez longue"


class InvitationFactory(Base):
    """An open invitation (see :func:`invitation_with_token` for one whose link is known)."""

    class Meta:
        model = Invitation

    association = factory.SubFactory(AssociationFactory, verified=True)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    token_hash = factory.Sequence(lambda n: hash_token(f"unknown-token-{n}"))
    invited_by = factory.LazyAttribute(
        lambda o: UserFactory(role=Role.ASSOCIATION, association=o.association)
    )
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))

    class Params:
        expired = factory.Trait(expires_at=factory.LazyFunction(lambda: utcnow() - timedelta(minutes=1)))
        revoked = factory.Trait(revoked_at=factory.LazyFunction(utcnow))
        accepted = factory.Trait(accepted_at=factory.LazyFunction(utcnow))


def invitation_with_token(token: str = "a-test-invitation-token-0123456789abcdef", **kwargs):  # noqa: S107
    """An invitation and the clear token of its link."""
    return InvitationFactory(token_hash=hash_token(token), **kwargs), token


def member_of(association, **kwargs):
    """A member (role association) of ``association``."""
    return UserFactory(role=Role.ASSOCIATION, association=association, **kwargs)


def signup_data(**overrides):
    """A complete, valid sign-up form."""
    data = {
        "name": "Association des Togolais de Lyon",
        "acronym": "ATL",
        "country": "FR",
        "city": "Lyon",
        "embassy": "",
        "registration_number": "W691234567",
        "registration_authority": "Préfecture du Rhône",
        "founded_year": "2012",
        "members_count": "45",
        "contact_phone": "+33 6 12 34 56 78",
        "website": "www.atl-lyon.example.org",
        "description": "Nous finançons des forages à Kpalimé.",
        "home_region": "TG-P",
        "domains": ["water", "health"],
        "locale": "fr",
        "full_name": "Kafui Adjo",
        "email": "kafui@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "accept": "y",
    }
    data.update(overrides)
    return data


def upload(content: bytes, name: str = "statuts.pdf"):
    """A file for a multipart form."""
    return (io.BytesIO(content), name)
