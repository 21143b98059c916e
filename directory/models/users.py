from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db
from directory.vocab import ROLES

from ._base import UTCDateTime, created_at_column


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (lower-cased, trimmed) by the accounts service before it is stored.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20), default="consumer")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    # Rotated whenever every session of the user must end (logout, password
    # change, reset, deletion). Flask-Login's user id *is* this token, so an old
    # session or remember cookie no longer names anybody.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Wrong second-factor codes since the last right one, and the end of the current
    # lockout (accounts.verify_second_factor: back-off doubles with every lockout).
    totp_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    totp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Keyed hash of the network the account was created from (never the address).
    signup_origin: Mapped[str | None] = mapped_column(String(64))
    # Set by the unsubscribe link in reminder mails: no more scheduled reminders.
    reminders_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Flask-Login protocol, written out so the id is the session token.
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
