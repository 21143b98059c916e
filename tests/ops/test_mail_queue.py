"""Mail is staged with the change and delivered after the commit, with retries:
SMTP down never turns a saved change into an error page, a rolled-back change
sends nothing, and a committed change's mail is never lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory import create_app, jobs, mailer, ops
from directory.config import ConfigError
from directory.extensions import db
from directory.models import OutgoingMail, User
from directory.services import mail
from tests.conftest import make_config, post_form
from tests.factories import UserFactory
from tests.ops.fakesmtp import FakeSMTP, free_port
from tests.web._mail import link_in, messages, path_of


@pytest.fixture
def smtp_app(app_factory):
    """An app mailing over SMTP to a port where nothing listens yet (SMTP down)."""
    port = free_port()
    app = app_factory(
        MAIL_BACKEND="smtp",
        SMTP_PORT=port,
        SMTP_TIMEOUT_S=5,
        MAIL_RETRY_BASE_S=0,
        JOBS_URL="immediate",
    )
    app.smtp_port = port
    return app


def rows(app) -> list[OutgoingMail]:
    with app.app_context():
        found = list(db.session.execute(select(OutgoingMail).order_by(OutgoingMail.id)).scalars())
        db.session.expunge_all()
        return found


def test_registration_with_smtp_down_saves_the_account_and_the_mail_goes_out_later(smtp_app):
    client = smtp_app.test_client()
    resp = post_form(
        client,
        "/auth/register",
        {
            "email": "newbie@example.com",
            "display_name": "Newbie",
            "password": "a perfectly long passphrase",
        },
    )
    assert resp.status_code == 302  # not an error page
    with smtp_app.app_context():
        assert db.session.execute(
            select(User).where(User.email == "newbie@example.com")
        ).scalar_one()
    [row] = rows(smtp_app)
    assert row.status == "pending" and row.attempts == 1 and row.last_error

    server = FakeSMTP(smtp_app.smtp_port).start()
    try:
        with smtp_app.app_context():
            assert jobs.sweep_mail() == 1  # the worker's sweep (jobs run inline here)
        [msg] = server.to("newbie@example.com")
        assert "/auth/verify/" in link_in(msg, "/auth/verify/")
        [row] = rows(smtp_app)
        assert row.status == "sent" and row.body == ""  # the link is not kept
        with smtp_app.app_context():
            assert jobs.sweep_mail() == 0
        assert len(server.messages) == 1  # delivered once
    finally:
        server.stop()


def test_password_reset_with_smtp_down_answers_the_same_for_known_and_unknown(smtp_app):
    with smtp_app.app_context():
        UserFactory(email="known@example.com")
    client = smtp_app.test_client()
    known = post_form(client, "/auth/reset", {"email": "known@example.com"})
    unknown = post_form(client, "/auth/reset", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [r.to_addr for r in rows(smtp_app)] == ["known@example.com"]


def test_back_off_doubles_and_gives_up_after_the_last_attempt(app_factory):
    app = app_factory(
        MAIL_BACKEND="smtp",
        SMTP_PORT=free_port(),
        MAIL_RETRY_BASE_S=10,
        MAIL_RETRY_MAX_S=25,
        MAIL_MAX_ATTEMPTS=3,
        JOBS_URL="immediate",
    )
    with app.app_context():
        assert [mailer.backoff_s(n) for n in (1, 2, 3, 4)] == [10, 20, 25, 25]
        mail.send("a@example.com", "Hello", "Body")
        db.session.commit()
        [row] = rows(app)
        assert row.status == "pending" and row.attempts == 1
        # Not due yet: the sweep leaves it alone.
        assert mailer.due_ids() == []
        for _ in range(2):
            db.session.execute(
                db.update(OutgoingMail).values(next_attempt_at=OutgoingMail.created_at)
            )
            db.session.commit()
            jobs.sweep_mail()
    [row] = rows(app)
    assert row.status == "failed" and row.attempts == 3


def test_rolled_back_change_sends_nothing(app):
    with app.app_context():
        mail.send("ghost@example.com", "Never", "This change was rolled back.")
        db.session.flush()
        db.session.rollback()
        mail.send("real@example.com", "Sent", "Committed.")
        db.session.commit()
    assert [m["To"] for m in messages(app)] == ["real@example.com"]
    assert [r.to_addr for r in rows(app)] == ["real@example.com"]


def test_a_failed_request_sends_no_mail(app):
    """A view that stages mail and then fails (500) rolls the mail back with it."""

    @app.post("/_stage_then_fail")
    def _stage_then_fail():
        mail.send("victim@example.com", "Half done", "never")
        db.session.flush()
        raise RuntimeError("boom")

    _stage_then_fail.access = "public"
    app.config["WTF_CSRF_ENABLED"] = False
    assert app.test_client().post("/_stage_then_fail").status_code == 500
    assert messages(app) == []
    assert rows(app) == []


def test_file_backend_writes_each_mail_once_under_a_stable_name(app):
    with app.app_context():
        mail.send("once@example.com", "Once", "Body")
        db.session.commit()
        [row] = rows(app)
        # A retry after a crash between writing and marking "sent" rewrites the same file.
        db.session.execute(db.update(OutgoingMail).values(status="pending"))
        db.session.commit()
        mailer.deliver(row.id)
    assert [m["To"] for m in messages(app)] == ["once@example.com"]
    assert messages(app)[0]["Message-ID"].startswith(f"<mail-{row.id}.")


def test_verification_link_from_a_queued_mail_works(app):
    client = app.test_client()
    post_form(
        client,
        "/auth/register",
        {
            "email": "linky@example.com",
            "display_name": "Linky",
            "password": "a perfectly long passphrase",
        },
    )
    [msg] = messages(app)
    path = path_of(link_in(msg, "/auth/verify/"))
    assert post_form(client, path).status_code == 302
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.email == "linky@example.com")
        ).scalar_one()
        assert user.email_verified_at is not None


def test_production_refuses_the_file_mail_backend(tmp_path):
    cfg = make_config(tmp_path, TESTING=False, PRODUCTION=True, JOBS_URL=None)
    with pytest.raises(ConfigError, match="file mail backend"):
        create_app(cfg)
    cfg["MAIL_BACKEND"] = "smtp"
    create_app(cfg)  # accepted


def test_queue_depth_counts_committed_undelivered_mail(smtp_app):
    with smtp_app.app_context():
        mail.send("a@example.com", "1", "x")
        mail.send("b@example.com", "2", "y")
        db.session.commit()
        assert ops.state()["mail_backlog"] == 2  # what /healthz and /metrics report
        assert db.session.execute(select(func.count(OutgoingMail.id))).scalar() == 2


def test_a_savepoint_inside_the_unit_of_work_does_not_send_early(app):
    """A service's begin_nested() commits a savepoint, not the change: mail staged in
    the unit of work goes out once, after the real commit (before the fix, delivery
    started at the savepoint and stalled on the session's own write lock)."""
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 500
    with app.app_context():
        mail.send("savepoint@example.com", "After the commit", "Body.")
        db.session.flush()  # the unit of work is open, as in a request
        with db.session.begin_nested():
            mail.send("savepoint@example.com", "Also after the commit", "Body.")
        assert [m for m in messages(app) if m["To"] == "savepoint@example.com"] == []
        db.session.commit()
    sent = [m for m in messages(app) if m["To"] == "savepoint@example.com"]
    assert len(sent) == 2
    assert [r.status for r in rows(app)] == ["sent", "sent"]
