"""The association page, profile editing, statutes upload and download, home cards."""

from __future__ import annotations

from sqlalchemy import select

from codev.accounts.models import AssociationStatus
from codev.core.models import AuditEvent
from tests import factories
from tests.factories_associations import FAKE_PDF, PDF_BYTES, invitation_with_token, member_of, upload
from tests.sql_count import statements_of


def english(user):
    user.locale = "en"
    return user


def profile_form(**overrides):
    data = {
        "name": "Association des Togolais de Hambourg", "acronym": "ATH", "country": "DE",
        "city": "Hamburg", "embassy": "", "registration_number": "VR 1234",
        "registration_authority": "Amtsgericht", "founded_year": "2015", "members_count": "30",
        "contact_phone": "", "website": "", "description": "", "home_region": "TG-M",
        "domains": ["education"], "locale": "fr", "contact_name": "Edem K",
        "contact_email": "Edem@Example.org",
    }
    data.update(overrides)
    return data


def audit_rows(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_detail_shows_profile_members_and_invitations(client, db, login_as):
    association = factories.AssociationFactory(
        name="Amicale de Lyon", acronym="AL", home_region="TG-P", members_count=12,
        registration_number="W123", domains=["water", "health"],
    )
    member = english(member_of(association, name="Ama Mensah", email="ama@example.org"))
    invitation_with_token(association=association, invited_by=member, email="kofi@example.org")
    invitation_with_token("another-token-0000000000000000000000000", association=association,
                          invited_by=member, email="old@example.org", expired=True)
    login_as(member)
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    for text in ("Amicale de Lyon (AL)", "Awaiting verification", "Lyon", "W123", "Water and sanitation",
                 "Health", "Ama Mensah", "ama@example.org", "kofi@example.org", "Next step",
                 "so that the ministry can verify it", "Invite a member"):
        assert text in page, text
    assert "old@example.org" not in page  # expired invitations are not pending any more


def test_mine_redirects_to_the_members_association(client, users, login_as):
    member = login_as(users["association"])
    response = client.get("/associations/mine")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/associations/{member.association_id}")


def test_html_in_text_fields_is_escaped(client, db, users, login_as):
    association = factories.AssociationFactory(
        name='<script>alert("n")</script>', acronym="<b>X</b>", city="<img src=x onerror=alert(1)>",
        description="<iframe src=//evil></iframe>\nligne 2", contact_name="<svg onload=alert(1)>",
        website="https://example.org/\"><script>x</script>",
    )
    member_of(association, name="<script>name()</script>")
    login_as(users["officer"])
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    for raw in ("<script>alert", "<b>X</b>", "<img src=x", "<iframe", "<svg", "<script>name", '"><script>x'):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(&#34;n&#34;)&lt;/script&gt;" in page
    assert "&lt;iframe src=//evil&gt;&lt;/iframe&gt;<br>ligne 2" in page


def test_rejected_association_shows_reason_and_next_step(client, db, login_as):
    association = factories.AssociationFactory(rejected=True, status_reason="Récépissé manquant")
    login_as(english(member_of(association)))
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert "Rejected" in page and "Récépissé manquant" in page
    assert "Correct what is asked below" in page


def test_member_edits_profile_of_verified_association_which_stays_verified(client, db, users, login_as, outbox):
    association = factories.AssociationFactory(verified=True, domains=["water"])
    login_as(member_of(association))
    response = client.post(f"/associations/{association.id}/edit", data=profile_form())
    assert response.status_code == 302
    db.session.refresh(association)
    assert association.status == AssociationStatus.VERIFIED
    assert association.name == "Association des Togolais de Hambourg"
    assert association.embassy == "berlin"  # left empty: from the new country
    assert association.domain_codes == ["education"]
    assert association.contact_email == "edem@example.org"
    [row] = audit_rows(db, "association.update")
    assert row.before["name"] != row.after["name"] and row.after["domains"] == ["education"]
    assert row.before["domains"] == ["water"] and row.after["status"] == "verified"
    assert outbox(users["officer"].email) == []


def test_member_edit_of_rejected_association_resubmits_it(client, db, users, login_as, outbox):
    association = factories.AssociationFactory(rejected=True)
    login_as(member_of(association))
    response = client.post(f"/associations/{association.id}/edit", data=profile_form(), follow_redirects=True)
    assert response.status_code == 200
    db.session.refresh(association)
    assert association.status == AssociationStatus.PENDING
    [mail] = outbox(users["officer"].email)
    assert "de nouveau soumise à vérification" in mail.subject and mail.locale == users["officer"].locale
    [row] = audit_rows(db, "association.update")
    assert row.before["status"] == "rejected" and row.after["status"] == "pending"


def test_officer_corrects_a_rejected_association_without_resubmitting_it(client, db, users, login_as):
    association = factories.AssociationFactory(rejected=True)
    login_as(users["officer"])
    page = client.get(f"/associations/{association.id}/edit")
    assert page.status_code == 200 and f'value="{association.name}"' in page.get_data(as_text=True)
    response = client.post(f"/associations/{association.id}/edit", data=profile_form(city="Bremen"))
    assert response.status_code == 302
    db.session.refresh(association)
    assert association.city == "Bremen" and association.status == AssociationStatus.REJECTED


def test_refused_edit_keeps_typed_values_and_changes_nothing(client, db, login_as):
    association = factories.AssociationFactory(verified=True, name="Nom d'origine")
    login_as(member_of(association))
    response = client.post(
        f"/associations/{association.id}/edit",
        data=profile_form(name="N" * 5000, city="Typed City", contact_email="nope"),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="contact_email-error"' in page
    assert 'value="Typed City"' in page
    db.session.refresh(association)
    assert association.name == "Nom d'origine" and association.city == "Lyon"
    assert audit_rows(db, "association.update") == []


def test_approver_cannot_edit(client, db, users, login_as):
    association = factories.AssociationFactory()
    login_as(users["approver"])
    assert client.get(f"/associations/{association.id}/edit").status_code == 403


def test_statutes_upload_and_download(app, client, db, login_as):
    association = factories.AssociationFactory()
    member = login_as(member_of(association))
    response = client.post(
        f"/associations/{association.id}/statutes",
        data={"statutes": upload(PDF_BYTES, "Statuts ATL.pdf")}, content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.refresh(association)
    assert association.statutes.original_name == "Statuts ATL.pdf"
    assert association.statutes.uploaded_by_id == member.id
    assert audit_rows(db, "association.statutes")[0].after["sha256"] == association.statutes.sha256

    with client.get(f"/associations/{association.id}/statutes/download") as download:
        assert download.status_code == 200
        assert download.data == PDF_BYTES
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.mimetype == "application/pdf"
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert "Statuts ATL.pdf" in page and "en attente de vérification par le ministère" in page


def test_fake_statutes_refused_on_the_association_page(app, client, db, login_as):
    association = factories.AssociationFactory()
    login_as(english(member_of(association)))
    response = client.post(
        f"/associations/{association.id}/statutes",
        data={"statutes": upload(FAKE_PDF, "statuts.pdf")}, content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="statutes-error"' in page and "This file is not an accepted document" in page
    db.session.refresh(association)
    assert association.statutes_id is None


def test_statutes_upload_without_file_is_refused(client, db, login_as):
    association = factories.AssociationFactory()
    login_as(english(member_of(association)))
    response = client.post(f"/associations/{association.id}/statutes", data={})
    assert response.status_code == 400
    assert "Choose a file." in response.get_data(as_text=True)


def test_statutes_of_rejected_association_resubmit_it(client, db, users, login_as, outbox):
    association = factories.AssociationFactory(rejected=True)
    login_as(member_of(association))
    client.post(f"/associations/{association.id}/statutes",
                data={"statutes": upload(PDF_BYTES)}, content_type="multipart/form-data")
    db.session.refresh(association)
    assert association.status == AssociationStatus.PENDING
    assert len(outbox(users["officer"].email)) == 1


def test_ministry_downloads_statutes_and_missing_statutes_are_404(client, db, users, login_as):
    association = factories.AssociationFactory()
    login_as(users["approver"])
    assert client.get(f"/associations/{association.id}/statutes/download").status_code == 404
    assert client.get("/associations/999999").status_code == 404


def test_member_home_card_shows_status_and_next_step(client, db, login_as):
    association = factories.AssociationFactory(name="Amicale de Tours")
    login_as(english(member_of(association)))
    page = client.get("/").get_data(as_text=True)
    assert "Amicale de Tours" in page and "Awaiting verification" in page
    assert "so that the ministry can verify it" in page
    assert "My association" in page  # navigation entry


def test_officer_home_card_counts_pending_associations(client, db, users, login_as):
    factories.AssociationFactory.create_batch(3)
    factories.AssociationFactory(verified=True)
    login_as(english(users["officer"]))
    page = client.get("/").get_data(as_text=True)
    assert "Associations to verify" in page
    assert '<span class="stat">3</span>' in page
    assert "/associations/pending" in page and "Directory of associations" in page


def test_pending_list_shows_only_pending_associations(client, db, users, login_as):
    factories.AssociationFactory(name="En attente A")
    factories.AssociationFactory(name="Vérifiée B", verified=True)
    factories.AssociationFactory(name="Rejetée C", rejected=True)
    login_as(users["officer"])
    page = client.get("/associations/pending").get_data(as_text=True)
    assert "En attente A" in page
    assert "Vérifiée B" not in page and "Rejetée C" not in page


def test_detail_page_query_count_does_not_grow_with_members(client, db, users, login_as):
    association = factories.AssociationFactory(domains=["water"])
    login_as(users["officer"])

    def add(n):
        for _ in range(n):
            member = member_of(association)
            invitation_with_token(f"token-{member.email}-0123456789012345678901234567",
                                  association=association, invited_by=member)
        db.session.commit()

    def queries():
        with statements_of(db.engine) as statements:
            assert client.get(f"/associations/{association.id}").status_code == 200
        return len(statements)

    add(2)
    small = queries()
    add(15)
    assert queries() == small
