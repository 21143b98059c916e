"""Healing follow-up invitations at 6 and 12 months and a touch-up reminder at
2 years, each once, with an unsubscribe link that works without logging in."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from directory import reminders
from directory.extensions import db
from directory.models import User
from tests.conftest import csrf_from
from tests.factories import ClinicFactory, ReviewFactory, UserFactory
from tests.web._mail import link_in, messages, path_of

TODAY = date(2026, 12, 1)


def subjects(app, address: str) -> list[str]:
    return [m["Subject"] for m in messages(app) if m["To"] == address]


def test_invitations_at_6_and_12_months_and_touch_up_at_2_years_each_once(app):
    with app.app_context():
        clinic = ClinicFactory(name="Inkline Studio")
        six = ReviewFactory(clinic=clinic, last_session_month=date(2026, 6, 1))
        twelve = ReviewFactory(clinic=clinic, last_session_month=date(2025, 12, 1))
        two_years = ReviewFactory(clinic=clinic, last_session_month=date(2024, 11, 1))
        recent = ReviewFactory(clinic=clinic, last_session_month=date(2026, 9, 1))
        pending = ReviewFactory(
            clinic=clinic, last_session_month=date(2026, 5, 1), status="pending"
        )
        db.session.commit()
        emails = {
            k: r.author.email
            for k, r in dict(
                six=six, twelve=twelve, two=two_years, recent=recent, pending=pending
            ).items()
        }
        six_id = six.id
        assert reminders.send_due(TODAY) == 3
        assert reminders.send_due(TODAY) == 0  # a second run sends nothing again
    assert subjects(app, emails["six"]) == ["How has your scalp micropigmentation healed?"]
    assert subjects(app, emails["twelve"]) == [
        "One year on: how does your scalp micropigmentation look?"
    ]
    assert subjects(app, emails["two"]) == ["Time to think about a touch-up?"]
    assert subjects(app, emails["recent"]) == subjects(app, emails["pending"]) == []
    msg = [m for m in messages(app) if m["To"] == emails["six"]][0]
    assert f"/reviews/{six_id}/followup" in msg.get_content()
    assert "Inkline Studio" in msg.get_content()


def test_twelve_month_invitation_follows_the_six_month_one(app):
    with app.app_context():
        review = ReviewFactory(last_session_month=date(2026, 6, 1))
        db.session.commit()
        email = review.author.email
        assert reminders.send_due(TODAY) == 1
        assert reminders.send_due(date(2027, 6, 2)) == 1
        assert reminders.send_due(date(2028, 6, 2)) == 1
        assert reminders.send_due(date(2029, 6, 2)) == 0
    assert len(subjects(app, email)) == 3


def test_unsubscribe_link_works_without_login_and_stops_reminders(app, client):
    with app.app_context():
        review = ReviewFactory(last_session_month=date(2026, 6, 1))
        other = ReviewFactory(last_session_month=date(2026, 6, 1))
        db.session.commit()
        email, other_email = review.author.email, other.author.email
        reminders.send_due(TODAY)
    msg = [m for m in messages(app) if m["To"] == email][0]
    path = path_of(link_in(msg, "/reminders/unsubscribe/"))
    page = client.get(path)  # anonymous visitor
    assert page.status_code == 200 and "Stop reminder mails" in page.get_data(as_text=True)
    resp = client.post(path, data={"csrf_token": csrf_from(client, path)})
    assert resp.status_code == 200 and "no more reminder mails" in resp.get_data(as_text=True)
    # Without the CSRF token nothing changes (400).
    assert client.post(path).status_code == 400
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        assert user.reminders_off_at is not None
        other_user = db.session.execute(select(User).where(User.email == other_email)).scalar_one()
        assert other_user.reminders_off_at is None
        assert reminders.send_due(date(2027, 6, 2)) == 1  # only the other author
    assert len(subjects(app, email)) == 1


def test_forged_unsubscribe_link_is_refused(app, client):
    with app.app_context():
        user = UserFactory()
        db.session.commit()
        token = reminders.unsubscribe_token(user)
    assert client.get("/reminders/unsubscribe/" + token[:-2] + "xx").status_code == 400
    assert client.get("/reminders/unsubscribe/nonsense").status_code == 400
