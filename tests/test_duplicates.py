"""Duplicate associations: the keys (accents, case, common words, acronyms, registration numbers), the
candidates found in one query, the officer's "not a duplicate" and merge (with its confirm step and refusals),
their audit events; similar projects of a call at screening."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from codev.accounts import duplicates
from codev.accounts.duplicates import DuplicateDecision, acronym_key, initials, name_key, registration_key
from codev.accounts.models import Association, AssociationStatus, Invitation, User
from codev.core.models import AuditEvent
from codev.projects.duplicates import similar_projects
from codev.projects.models import Project, ProjectStatus
from tests import factories
from tests.confirm_support import confirmed
from tests.factories_associations import member_of, signup_data
from tests.factories_projects import ProjectFactory


def events(db, action, object_id=None):
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return db.session.scalars(query).all()


def test_keys_ignore_accents_case_punctuation_and_common_words():
    assert name_key("Association des Amis de Kpalimé") == name_key("LES AMIS DE KPALIME") == "amis kpalime"
    assert name_key("Développement de Tsévié") == name_key("Tsévié : développement")
    assert initials("Association pour le Développement de Tsévié") == "adt"
    assert acronym_key("A.D.T.") == "adt" and acronym_key("X") is None
    assert registration_key("W 691-234/567") == registration_key("w691234567") == "w691234567"
    assert registration_key("néant") is None and registration_key("") is None


@pytest.fixture
def found(db):
    a = factories.AssociationFactory(name="Association pour le Développement de Tsévié", acronym="ADT",
                                     registration_number="W691234567", contact_email="adt@example.org")
    others = {
        "name": factories.AssociationFactory(name="ASSOCIATION POUR LE DEVELOPPEMENT DE TSEVIE", acronym=None),
        "similar": factories.AssociationFactory(name="Association pour le Developement de Tsevie", acronym=None),
        "acronym": factories.AssociationFactory(name="Amicale des ressortissants", acronym="A.D.T."),
        "initials": factories.AssociationFactory(name="Avenir dynamique de Tabligbo", acronym=None),
        "registration": factories.AssociationFactory(name="Jeunesse unie", acronym=None,
                                                     registration_number="w 691-234 567"),
        "email": factories.AssociationFactory(name="Espoir du Zio", acronym=None, contact_email="ADT@example.org"),
        "unrelated": factories.AssociationFactory(name="Club des Togolais de Hambourg", acronym="CTH"),
    }
    db.session.commit()
    return a, others


def test_candidates_say_why_and_put_strong_matches_first(db, found):
    a, others = found
    reasons = {c.association.id: c.reasons for c in duplicates.candidates(a)}
    by_name = {key: reasons.get(other.id) for key, other in others.items()}
    assert by_name == {"name": ["name", "acronym"], "similar": ["similar", "acronym"], "acronym": ["acronym"],
                       "initials": ["acronym"], "registration": ["registration"], "email": ["email"], "unrelated": None}
    first_two = [c.association.id for c in duplicates.candidates(a)][:2]
    assert set(first_two) == {others["registration"].id, others["email"].id}


def test_names_alike_but_for_a_number_are_not_similar(db):
    one = factories.AssociationFactory(name="Association des Togolais de Lomé 1", acronym=None)
    factories.AssociationFactory(name="Association des Togolais de Lomé 2", acronym=None)
    db.session.commit()
    assert duplicates.candidates(one) == []


def test_keys_follow_an_edit_of_the_name(db, found):
    a, others = found
    others["unrelated"].name = "Développement de Tsévié"
    db.session.commit()
    assert "name" in {r for c in duplicates.candidates(a) if c.association.id == others["unrelated"].id
                      for r in c.reasons}


def test_sign_up_writes_the_candidates_to_the_audit_log(client, db):
    existing = factories.AssociationFactory(name="Association des Togolais de Lyon", acronym="ATL")
    db.session.commit()
    response = client.post("/associations/signup", data=signup_data(email="new@example.org"))
    assert response.status_code == 302
    new = db.session.scalar(select(Association).where(Association.id != existing.id))
    [event] = events(db, "association.duplicates_found", new.id)
    assert event.after["candidates"][0]["id"] == existing.id
    assert set(event.after["candidates"][0]["reasons"]) >= {"name", "acronym"}


def test_officer_sees_candidates_and_the_list_flags_them(client, db, users, found, login_as):
    a, others = found
    login_as(users["officer"])
    page = client.get(f"/associations/{a.id}").get_data(as_text=True)
    assert "Doublons possibles" in page and "Même numéro d’enregistrement" in page or "Same registration" in page
    assert others["email"].name in page and others["unrelated"].name not in page
    listing = client.get("/associations/pending").get_data(as_text=True)
    assert "doublon" in listing or "duplicate" in listing
    login_as(users["approver"])
    assert others["email"].name not in client.get(f"/associations/{a.id}").get_data(as_text=True)
    assert client.post(f"/associations/{a.id}/duplicates/{others['email'].id}/not-duplicate").status_code == 403


def test_not_a_duplicate_is_recorded_once_and_audited(client, db, users, found, login_as):
    a, others = found
    officer = login_as(users["officer"])
    url = f"/associations/{a.id}/duplicates/{others['email'].id}/not-duplicate"
    assert client.post(url).status_code == 302
    [decision] = db.session.scalars(select(DuplicateDecision)).all()
    assert decision.outcome == "not_duplicate" and decision.decided_by_id == officer.id
    assert {decision.first_id, decision.second_id} == {a.id, others["email"].id}
    [event] = events(db, "association.not_duplicate", a.id)
    assert event.actor_id == officer.id and event.after["other_id"] == others["email"].id
    assert others["email"].id not in {c.association.id for c in duplicates.candidates(a)}
    assert a.id not in {c.association.id for c in duplicates.candidates(others["email"])}
    client.post(url)  # again: refused, nothing added
    assert len(db.session.scalars(select(DuplicateDecision)).all()) == 1


@pytest.fixture
def pair(db):
    kept = factories.AssociationFactory(name="Amicale des Togolais de Belgique", verified=True)
    duplicate = factories.AssociationFactory(name="AMICALE DES TOGOLAIS DE BELGIQUE", acronym=None)
    members = [member_of(duplicate), member_of(duplicate)]
    draft = ProjectFactory(association=duplicate)
    invitation = Invitation(association=duplicate, email="later@example.org", token_hash="x" * 64,
                            invited_by=members[0], expires_at=factories.utcnow())
    db.session.add(invitation)
    db.session.commit()
    return duplicate, kept, members, draft


def test_merge_asks_first_then_moves_members_drafts_and_is_audited(client, db, users, pair, login_as):
    duplicate, kept, members, draft = pair
    officer = login_as(users["officer"])
    url = f"/associations/{duplicate.id}/duplicates/{kept.id}/merge"
    asked = client.post(url)
    assert asked.status_code == 200 and "confirm" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Association, duplicate.id).status == AssociationStatus.PENDING
    response = client.post(url, data=confirmed())
    assert response.status_code == 302 and response.location.endswith(f"/associations/{kept.id}")
    db.session.expire_all()
    closed = db.session.get(Association, duplicate.id)
    assert closed.status == AssociationStatus.REJECTED and kept.name in closed.status_reason
    assert {m.association_id for m in db.session.scalars(select(User).where(User.id.in_([m.id for m in members])))} \
        == {kept.id}
    assert db.session.get(Project, draft.id).association_id == kept.id
    assert db.session.scalar(select(Invitation.association_id)) == kept.id
    [merge] = events(db, "association.merge", duplicate.id)
    assert merge.actor_id == officer.id and merge.after["draft_projects"] == [draft.id]
    assert sorted(merge.after["members"]) == sorted(m.id for m in members)
    assert events(db, "association.merged_into", kept.id) and events(db, "association.reject", duplicate.id)
    [decision] = db.session.scalars(select(DuplicateDecision)).all()
    assert decision.outcome == "merged" and decision.kept_id == kept.id


@pytest.mark.parametrize("status", [ProjectStatus.APPROVED, ProjectStatus.SUBMITTED])
def test_merge_refused_when_the_duplicate_has_money_or_applications_under_way(client, db, users, pair, login_as,
                                                                             status):
    duplicate, kept, members, draft = pair
    duplicate.status, duplicate.verified_at = AssociationStatus.VERIFIED, factories.utcnow()
    draft.status, draft.reference = status, "CODEV-2026-0999"
    db.session.commit()
    login_as(users["officer"])
    client.post(f"/associations/{duplicate.id}/duplicates/{kept.id}/merge", data=confirmed())
    page = client.get(f"/associations/{duplicate.id}").get_data(as_text=True)
    assert ("jamais fusionnée" in page or "never merged" in page) if status == ProjectStatus.APPROVED \
        else ("examen" in page or "examined" in page)
    db.session.expire_all()
    assert db.session.get(Association, duplicate.id).status == AssociationStatus.VERIFIED
    assert db.session.scalars(select(DuplicateDecision)).all() == [] and not events(db, "association.merge")


def test_a_verified_duplicate_without_money_is_closed(client, db, users, pair, login_as):
    duplicate, kept, members, draft = pair
    duplicate.status, duplicate.verified_at = AssociationStatus.VERIFIED, factories.utcnow()
    db.session.commit()
    login_as(users["officer"])
    client.post(f"/associations/{duplicate.id}/duplicates/{kept.id}/merge", data=confirmed())
    db.session.expire_all()
    assert db.session.get(Association, duplicate.id).status == AssociationStatus.REJECTED
    assert events(db, "association.close_duplicate", duplicate.id)


def test_similar_projects_of_a_call_same_commune_and_sector(db):
    first = ProjectFactory(title="Forage d'un puits à Kpimé", commune="Kloto 1", sector="water",
                           status=ProjectStatus.SUBMITTED, reference="CODEV-2026-0901")
    same = dict(call=first.call, commune="Kloto 1", sector="water", status=ProjectStatus.SUBMITTED)
    twin = ProjectFactory(title="Forage d’un puits a Kpime", reference="CODEV-2026-0902", **same)
    ProjectFactory(title="Construction d'une école", reference="CODEV-2026-0903", **same)
    ProjectFactory(title="Forage d'un puits à Kpimé", call=first.call, commune="Agou 1", sector="water",
                   status=ProjectStatus.SUBMITTED, reference="CODEV-2026-0904")
    ProjectFactory(title="Forage d'un puits à Kpimé", call=first.call, commune="Kloto 1", sector="water")  # draft
    db.session.commit()
    assert [p.id for p in similar_projects(first)] == [twin.id]


def test_the_screening_page_flags_a_similar_application_of_the_call(client, db, users, login_as):
    first = ProjectFactory(title="Forage d'un puits à Kpimé", commune="Kloto 1", sector="water",
                           status=ProjectStatus.SUBMITTED, reference="CODEV-2026-0911")
    twin = ProjectFactory(title="Forage d’un puits a Kpime", reference="CODEV-2026-0912", call=first.call,
                          commune="Kloto 1", sector="water", status=ProjectStatus.SUBMITTED)
    other = ProjectFactory(title="Construction d'une école", reference="CODEV-2026-0913", call=first.call,
                           commune="Kloto 1", sector="water", status=ProjectStatus.SUBMITTED)
    db.session.commit()
    login_as(users["officer"])
    page = client.get(f"/reviews/projects/{first.id}/screen", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    flag = page.get_data(as_text=True).split('id="similar"', 1)[1].split("</section>", 1)[0]
    assert "1 autre candidature de cet appel ressemble à celle-ci" in flag
    assert f'href="/reviews/projects/{twin.id}"' in flag and "CODEV-2026-0912" in flag
    assert "CODEV-2026-0913" not in flag
    alone = client.get(f"/reviews/projects/{other.id}/screen").get_data(as_text=True)
    assert 'id="similar"' not in alone
