"""services.origin and the request side (directory.requestorigin): one keyed origin,
recorded at sign-up, login and every submission, behind the configured proxies."""

from __future__ import annotations

from sqlalchemy import select

from directory.extensions import db
from directory.models import OriginEvent, User
from directory.services import origin
from tests.conftest import post_form
from tests.factories import PASSWORD, ClinicFactory, UserFactory

K1, K2 = "k1" * 20, "k2" * 20


def test_network_hash_is_keyed_and_per_network_and_address_hash_per_address():
    a = origin.from_values("203.0.113.7", None, K1)
    b = origin.from_values("203.0.113.250", None, K1)
    assert a.network_hash == b.network_hash  # same /24
    assert a.address_hash != b.address_hash
    assert a.network_hash != origin.from_values("203.0.114.7", None, K1).network_hash
    assert a.network_hash != origin.from_values("203.0.113.7", None, K2).network_hash  # keyed
    assert "203.0.113" not in a.network_hash + a.address_hash and len(a.network_hash) == 64
    assert a.network_hash != a.address_hash
    v6 = origin.from_values("2001:db8:1:2::5", None, K1)
    assert v6.network_hash == origin.from_values("2001:db8:1:ffff::9", None, K1).network_hash
    assert v6.network_hash != origin.from_values("2001:db8:2::5", None, K1).network_hash
    mapped = origin.from_values("::ffff:203.0.113.7", None, K1)
    assert mapped.address_hash == a.address_hash and mapped.network_hash == a.network_hash
    bad = origin.from_values("not an ip", None, K1)
    assert bad.address_hash is None and bad.network_hash is None and not bad.is_known
    assert origin.from_values(None, "device-cookie-value", K1).device_hash


def events(app, email):
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.email == email)).scalar_one()
        return list(
            db.session.execute(
                select(OriginEvent).where(OriginEvent.user_id == uid).order_by(OriginEvent.id)
            ).scalars()
        )


def test_signup_and_login_record_the_same_origin_for_the_same_client(client, app):
    env = {"REMOTE_ADDR": "198.51.100.23"}
    resp = post_form(
        client,
        "/auth/register",
        {
            "email": "new.person@example.com",
            "display_name": "New Person",
            "password": "a perfectly long passphrase",
        },
        environ_base=env,
    )
    assert resp.status_code == 302
    assert "dvc=" in resp.headers.get("Set-Cookie", "")
    client.post("/auth/logout", data={"csrf_token": ""})
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.email == "new.person@example.com")
        ).scalar_one()
        assert user.signup_origin and len(user.signup_origin) == 64
    signup = events(app, "new.person@example.com")
    assert [e.event for e in signup] == ["signup"]
    assert signup[0].network_hash == user.signup_origin


def test_owner_logins_are_recorded_and_proxy_hops_are_honoured(app_factory):
    app = app_factory(PROXY_HOPS=1)
    with app.app_context():
        owner = UserFactory(role="clinic_owner", email="boss@clinic.test")
        ClinicFactory(owner=owner)
        db.session.commit()
    client = app.test_client()
    for forwarded in ("10.0.0.1, 203.0.113.9", "198.51.100.1, 203.0.113.77"):
        resp = post_form(
            client,
            "/auth/login",
            {"email": "boss@clinic.test", "password": PASSWORD},
            form_url="/auth/login?reauth=1",
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": forwarded},
        )
        assert resp.status_code == 302
    rows = events(app, "boss@clinic.test")
    assert [e.event for e in rows] == ["login", "login"]
    # The client's own claim (left of the proxy's entry) is ignored: the same /24 both times.
    assert rows[0].network_hash == rows[1].network_hash
    assert rows[0].address_hash != rows[1].address_hash
    with app.app_context():
        expected = origin.from_values("203.0.113.9", None, app.config["SECRET_KEY"])
    assert rows[0].address_hash == expected.address_hash
    assert rows[0].device_hash == rows[1].device_hash  # the same browser (device cookie)
