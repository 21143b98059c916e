"""Moderators suspend and reinstate clinics; the public stops seeing them and the owner is told."""

import pytest
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Clinic, ModerationDecision
from tests import manage_support
from tests.conftest import csrf_from, login, post_form
from tests.web._mail import texts

world = manage_support.world
REASON = {"reason_code": "offensive", "statement": "Repeated abusive replies to clients."}


def status_of(app, clinic_id):
    with app.app_context():
        c = db.session.get(Clinic, clinic_id)
        return c.status, c.status_reason


def suspend(client, world, data=None, action="suspend"):
    return post_form(
        client,
        f"/moderation/clinics/{world['owned']}/status",
        dict(data or REASON, action=action),
        form_url="/moderation/clinics/own/history",
    )


def test_moderator_suspends_a_clinic_the_public_loses_it_and_the_owner_is_told(app, client, world):
    login(client, world["moderator"], mfa=True)
    resp = suspend(client, world)
    assert resp.status_code == 302
    assert status_of(app, world["owned"]) == ("suspended", REASON["statement"])
    anonymous = app.test_client()
    assert anonymous.get("/clinics/own").status_code == 404
    assert "/clinics/own" not in anonymous.get("/sitemap.xml").get_data(as_text=True)
    assert any("suspended" in m and REASON["statement"] in m for m in texts(app))
    with app.app_context():
        row = db.session.execute(
            select(ModerationDecision).where(ModerationDecision.action == "suspend")
        ).scalar_one()
        assert row.previous_status == "claimed" and row.new_status == "suspended"
    owner = app.test_client()
    login(owner, world["owner"])
    assert REASON["statement"] in owner.get("/manage").get_data(as_text=True)


def test_reinstating_restores_the_clinic(app, client, world):
    login(client, world["moderator"], mfa=True)
    suspend(client, world)
    resp = suspend(
        client,
        world,
        {"reason_code": "earlier_decision_wrong", "statement": "The replies were not abusive."},
        action="reinstate",
    )
    assert resp.status_code == 302
    assert status_of(app, world["owned"]) == ("claimed", None)
    assert app.test_client().get("/clinics/own").status_code == 200


def test_moderators_find_suspended_clinics(app, client, world):
    login(client, world["moderator"], mfa=True)
    suspend(client, world)
    html = client.get("/moderation/clinics").get_data(as_text=True)
    assert "/moderation/clinics/own/history" in html
    assert client.get("/moderation/clinics?q=" + "x" * 300).status_code == 400


@pytest.mark.parametrize("who", ["consumer", "owner", "other_owner"])
def test_only_moderators_may_suspend(app, client, world, who):
    login(client, world[who], mfa=True)
    resp = client.post(
        f"/moderation/clinics/{world['owned']}/status",
        data=dict(REASON, action="suspend", csrf_token=csrf_from(client, "/manage")),
    )
    assert resp.status_code == 403
    assert status_of(app, world["owned"])[0] == "claimed"


def test_a_moderator_cannot_suspend_a_clinic_they_own(app, client, world):
    with app.app_context():
        db.session.get(Clinic, world["owned"]).owner_id = world["moderator"]
        db.session.commit()
    login(client, world["moderator"], mfa=True)
    assert suspend(client, world).status_code == 403
    assert status_of(app, world["owned"])[0] == "claimed"


def test_a_decision_without_reasons_is_refused_and_changes_nothing(app, client, world):
    login(client, world["moderator"], mfa=True)
    resp = suspend(client, world, {"reason_code": "offensive", "statement": "short"})
    assert resp.status_code == 400
    assert "at least 10 characters" in resp.get_data(as_text=True)
    assert status_of(app, world["owned"])[0] == "claimed"
    with app.app_context():
        assert (
            db.session.execute(select(func.count()).select_from(ModerationDecision)).scalar_one()
            == 0
        )


def test_a_clinic_that_is_not_suspended_cannot_be_reinstated(app, client, world):
    login(client, world["moderator"], mfa=True)
    assert suspend(client, world, action="reinstate").status_code == 409
