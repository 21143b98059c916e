"""Accounts: registration, login, e-mail verification, password reset and change,
e-mail change, roles, second factor, data export and account deletion.

Like every service these stage changes and never commit. Tokens sent by e-mail
are signed with the app's secret (itsdangerous) and carry a purpose-specific
salt; a reset token also carries a fingerprint of the current password hash, so
it dies (single use) as soon as the password changes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import pyotp
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from directory import numbers
from directory.extensions import db
from directory.models import (
    Appeal,
    Clinic,
    ClinicClaim,
    ClinicReply,
    FollowUp,
    ModerationDecision,
    Photo,
    Report,
    Review,
    User,
)
from directory.services import (
    Invalid,
    InvalidState,
    NotAllowed,
    ServiceError,
    audit,
    mail,
    media,
    newest_first,
)
from directory.services.passwords import hash_password, needs_rehash, verify_password
from directory.vocab import ROLES

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
VERIFY_MAX_AGE = 48 * 3600
RESET_MAX_AGE = 3600
EMAIL_CHANGE_MAX_AGE = 48 * 3600
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")


# --- passwords and e-mail addresses -------------------------------------------------------


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with open(os.path.join(DATA_DIR, "common_passwords.txt"), encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why a new password is refused, or None. Length and a common-password list only:
    no composition rules (docs/security.md §1)."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    folded = password.strip().lower()
    if folded in common_passwords():
        return "That password is on a list of common passwords. Choose another."
    if email and folded == normalise_email(email):
        return "Do not use your e-mail address as your password."
    return None


def check_new_password(password: str, email: str | None = None) -> None:
    problem = password_problem(password, email)
    if problem:
        raise Invalid(problem)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = datetime.now(UTC)


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def email_taken(email: str, except_user: User | None = None) -> bool:
    stmt = select(func.count(User.id)).where(User.email == normalise_email(email))
    if except_user is not None:
        stmt = stmt.where(User.id != except_user.id)
    return bool(db.session.execute(stmt).scalar())


# --- signed tokens --------------------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"directory-{purpose}")


def _pw_fingerprint(user: User) -> str:
    # A keyed digest of the current hash: the token never carries the hash itself.
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:20]


def make_verify_token(user: User) -> str:
    return _serializer("verify").dumps({"u": user.id, "e": user.email, "p": _pw_fingerprint(user)})


def make_reset_token(user: User) -> str:
    return _serializer("reset").dumps({"u": user.id, "p": _pw_fingerprint(user)})


def _load(purpose: str, token: str, max_age: int) -> dict:
    if not token or len(token) > 500:
        raise Invalid("This link is not valid.")
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Invalid("This link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise Invalid("This link is not valid.") from exc
    if not isinstance(data, dict):
        raise Invalid("This link is not valid.")
    return data


# --- registration and verification ----------------------------------------------------------


def register(
    email: str, display_name: str, password: str, *, origin: str | None = None
) -> User | None:
    """Create a consumer account and send the verification link, or, when the address
    already has an account, create nothing and tell that account's owner by mail.

    Whether an address has an account is private (on this site membership itself is
    sensitive), so both paths look the same from outside: the same checks in the same
    order, one password hash each, one mail each. Returns the new user, or None for a
    known address. Raises Invalid for malformed input, whoever the address belongs to.
    """
    email = normalise_email(email)
    display_name = (display_name or "").strip()
    if not email or "@" not in email:
        raise Invalid("Enter a valid e-mail address.")
    if not display_name:
        raise Invalid("Enter a display name.")
    check_new_password(password, email)
    password_hash = hash_password(password)  # the same work for a known address
    existing = find_by_email(email)
    if existing is not None:
        send_registration_attempt(existing)
        return None
    user = User(email=email, display_name=display_name[:80], role="consumer", signup_origin=origin)
    user.password_hash = password_hash
    user.password_changed_at = datetime.now(UTC)
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def send_registration_attempt(user: User) -> None:
    link = mail.external_url("/auth/reset")
    mail.send(
        user.email,
        "Someone tried to register with your address",
        f"Hello {user.display_name},\n\nsomeone tried to create a new account on the SMP "
        "Clinic Directory with this e-mail address, which already has an account. No new "
        "account was created and nothing about yours changed.\n\nIf it was you, log in "
        f"instead; if you forgot your password, choose a new one here:\n\n{link}\n\n"
        "If it was not you, you can ignore this message.\n",
    )


def send_verification(user: User) -> None:
    link = mail.external_url(f"/auth/verify/{make_verify_token(user)}")
    mail.send(
        user.email,
        "Confirm your e-mail address",
        f"Hello {user.display_name},\n\nconfirm your e-mail address for the SMP Clinic "
        f"Directory by opening this link within 48 hours:\n\n{link}\n\n"
        "If you did not register, ignore this message.\n",
    )


def verify_email(token: str) -> User:
    """Mark the address in the token verified. Raises Invalid for a bad, expired,
    used or outdated token (the address or the password changed since)."""
    user = user_for_verify(token)
    user.email_verified_at = datetime.now(UTC)
    return user


def user_for_verify(token: str) -> User:
    data = _load("verify", token, VERIFY_MAX_AGE)
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if (
        user is None
        or user.email != data.get("e")
        or not hmac.compare_digest(str(data.get("p", "")), _pw_fingerprint(user))
    ):
        raise Invalid("This link is not valid any more.")
    if user.email_verified_at is not None:
        raise Invalid("This link was already used: your address is confirmed.")
    return user


def ensure_confirmed(user: User) -> None:
    """Raises NotAllowed unless the user has confirmed their e-mail address (needed to
    register or claim a clinic and to send result photos)."""
    if user is None or not user.is_authenticated or not user.email_verified:
        raise NotAllowed(
            "Please confirm your e-mail address first: open the link in the message we "
            "sent you, or ask for a new one on your account page."
        )


# --- login ----------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The user whose e-mail and password match, or None.

    An unknown address costs the same hashing work as a wrong password (a dummy
    hash is verified), and both give the same None.
    """
    user = find_by_email(email) if len(email or "") <= 254 else None
    if not verify_password(user.password_hash if user else None, password or ""):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    return user


def check_password(user: User, password: str) -> bool:
    return verify_password(user.password_hash, password or "")


def end_all_sessions(user: User) -> None:
    """Every session and remember cookie of the user stops naming anybody."""
    user.rotate_session_token()


# --- password reset and change ---------------------------------------------------------------


def request_reset(email: str) -> None:
    """Send a reset link when the address belongs to an account; say nothing otherwise."""
    user = find_by_email(email)
    if user is None:
        return
    link = mail.external_url(f"/auth/reset/{make_reset_token(user)}")
    mail.send(
        user.email,
        "Reset your password",
        f"Hello {user.display_name},\n\nsomeone asked to reset the password of your account. "
        f"Open this link within one hour to choose a new one:\n\n{link}\n\n"
        "The link works once. If it was not you, ignore this message; your password stays.\n",
    )


def user_for_reset(token: str) -> User:
    data = _load("reset", token, RESET_MAX_AGE)
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not hmac.compare_digest(str(data.get("p", "")), _pw_fingerprint(user)):
        raise Invalid("This link is not valid any more. Ask for a new one.")
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link; ends every session; the link dies."""
    user = user_for_reset(token)
    check_new_password(new_password, user.email)
    _set_password(user, new_password)
    end_all_sessions(user)
    # Following the link proves the address.
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
    mail.send(
        user.email,
        "Your password was changed",
        "The password of your SMP Clinic Directory account was reset. If this was not "
        "you, reset it again at once and contact us.\n",
    )
    return user


def change_password(user: User, current: str, new_password: str) -> None:
    if not check_password(user, current):
        raise NotAllowed("Your current password is not correct.")
    check_new_password(new_password, user.email)
    _set_password(user, new_password)
    end_all_sessions(user)
    mail.send(
        user.email,
        "Your password was changed",
        "The password of your SMP Clinic Directory account was changed. If this was not "
        "you, reset it at once.\n",
    )


def change_email(user: User, password: str, new_email: str) -> None:
    """Change the address (it must be verified again); the old address is told."""
    if not check_password(user, password):
        raise NotAllowed("Your password is not correct.")
    new_email = normalise_email(new_email)
    if not new_email or "@" not in new_email:
        raise Invalid("Enter a valid e-mail address.")
    if new_email == user.email:
        raise Invalid("That is already your address.")
    if email_taken(new_email, except_user=user):
        raise InvalidState("An account with this e-mail address already exists.")
    old = user.email
    user.email = new_email
    user.email_verified_at = None
    mail.send(
        old,
        "Your e-mail address was changed",
        f"The e-mail address of your SMP Clinic Directory account was changed to "
        f"{new_email}. If this was not you, reset your password at once.\n",
    )
    send_verification(user)


# --- roles and the second factor ----------------------------------------------------------


def create_user(
    email: str,
    password: str,
    role: str = "consumer",
    display_name: str | None = None,
    verified: bool = True,
) -> User:
    """Create an account from the command line (verified by default)."""
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    email = normalise_email(email)
    if not email or "@" not in email:
        raise Invalid("Enter a valid e-mail address.")
    check_new_password(password, email)
    if email_taken(email):
        raise InvalidState("An account with this e-mail address already exists.")
    user = User(
        email=email,
        display_name=(display_name or email.split("@")[0])[:80],
        role=role,
        email_verified_at=datetime.now(UTC) if verified else None,
    )
    _set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def set_role(user: User, role: str, *, by: User, statement: str) -> None:
    """An admin changes a user's role; logged in the audit log. An admin cannot
    change their own role (so the last admin cannot lock everyone out by mistake)."""
    if not by.is_admin:
        raise NotAllowed("Only admins change roles.")
    if role not in ROLES:
        raise Invalid("Unknown role.")
    if user.id == by.id:
        raise NotAllowed("You cannot change your own role.")
    if role == user.role:
        raise Invalid("The user already has that role.")
    previous = user.role
    user.role = role
    # Staff sessions must start again with the second factor; demoted sessions end too.
    end_all_sessions(user)
    audit.record_account(
        user,
        by=by,
        action="role_change",
        statement=statement,
        previous_status=previous,
        new_status=role,
    )


def totp_for(user: User) -> pyotp.TOTP | None:
    return pyotp.TOTP(user.totp_secret) if user.totp_secret else None


def check_totp(user: User, code: str) -> bool:
    code = "".join((code or "").split())
    totp = totp_for(user)
    # ASCII digits only: str.isdigit() also takes "١٢٣٤٥٦", which compare_digest refuses.
    if totp is None or numbers.parse(code) is None or len(code) != 6:
        return False
    # One step either side for clock drift; a step already used is refused, so an
    # observed code cannot be replayed within its validity window.
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            user.totp_last_step = step
            return True
    return False


# Second-factor lockout: after TOTP_MAX_FAILURES wrong codes in a row the factor is
# locked for TOTP_LOCK_FIRST, doubling with each further lockout up to TOTP_LOCK_MAX.
# A right code resets the count. Someone guessing has the password already, so the
# owner is told by mail at every lockout, and the event goes to the audit log.
TOTP_MAX_FAILURES = 5
TOTP_LOCK_FIRST = timedelta(minutes=1)
TOTP_LOCK_MAX = timedelta(hours=24)


class SecondFactorLocked(ServiceError):
    """Too many wrong codes: no code is checked until `until`."""

    status_code = 429

    def __init__(self, until: datetime):
        self.until = until
        super().__init__(
            "Too many wrong codes: your second factor is locked until "
            f"{until:%H:%M} UTC ({until:%d %B %Y}). We have told you by e-mail."
        )


def second_factor_locked_until(user: User, now: datetime | None = None) -> datetime | None:
    until = user.totp_locked_until
    if until is not None and until > (now or datetime.now(UTC)):
        return until
    return None


def lock_duration(failures: int) -> timedelta:
    """How long the lockout reached at `failures` wrong codes lasts (back-off)."""
    lockouts = max(1, failures // TOTP_MAX_FAILURES)
    return min(TOTP_LOCK_FIRST * 2 ** min(lockouts - 1, 20), TOTP_LOCK_MAX)


def verify_second_factor(user: User, code: str) -> bool:
    """Check a code for a login's second factor, counting wrong ones.

    True for a right, unused code (the count resets). False for a wrong one; the
    count rises in one atomic statement (parallel guesses cannot lose updates), and
    every TOTP_MAX_FAILURES-th wrong code locks the factor, audits the lockout and
    mails the owner. Raises SecondFactorLocked while locked, checking nothing.
    """
    now = datetime.now(UTC)
    until = second_factor_locked_until(user, now)
    if until is not None:
        raise SecondFactorLocked(until)
    if check_totp(user, code):
        user.totp_failures = 0
        user.totp_locked_until = None
        return True
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(totp_failures=User.totp_failures + 1)
        .returning(User.totp_failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(user, "totp_failures", failures)
    if failures % TOTP_MAX_FAILURES == 0:
        lock = lock_duration(failures)
        user.totp_locked_until = until = now + lock
        minutes = int(lock.total_seconds() // 60)
        audit.record_account(
            user,
            by=None,
            action="totp_lockout",
            statement=(
                f"{failures} wrong second-factor codes since the last right one; "
                f"second factor locked for {minutes} minute{'s' if minutes != 1 else ''}."
            ),
            previous_status=None,
            new_status="totp_locked",
        )
        mail.send(
            user.email,
            "Your second factor is locked after wrong codes",
            f"Hello {user.display_name},\n\n{TOTP_MAX_FAILURES} wrong codes in a row were "
            "entered for the second factor of your SMP Clinic Directory account, after a "
            "login with your password. The second factor is locked until "
            f"{until:%Y-%m-%d %H:%M} UTC; each further lockout lasts twice as long.\n\n"
            "If this was you, wait and try again with the current code from your app (check "
            "the time on your device). If it was not you, someone knows your password: "
            "change it at once.\n",
        )
    return False


def confirm_totp(user: User, code: str) -> None:
    if user.totp_confirmed_at is not None:
        raise InvalidState("Your second factor is already set up.")
    if not check_totp(user, code):
        raise Invalid("That code is not right. Check the time on your device and try again.")
    user.totp_confirmed_at = datetime.now(UTC)


# --- the account page, export and deletion -------------------------------------------------


@dataclass
class AccountOverview:
    reviews: list[Review]
    reports: list[Report]
    claims: list[ClinicClaim]
    decisions: list[ModerationDecision]


def overview(user: User) -> AccountOverview:
    return AccountOverview(
        newest_first(Review, Review.author_id == user.id),
        newest_first(Report, Report.reporter_id == user.id),
        newest_first(ClinicClaim, ClinicClaim.user_id == user.id),
        newest_first(ModerationDecision, ModerationDecision.subject_user_id == user.id),
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _row(obj, fields: tuple[str, ...]) -> dict:
    out = {}
    for f in fields:
        v = getattr(obj, f)
        out[f] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def export_data(user: User) -> tuple[dict, list[Photo]]:
    """Everything stored about the user (and only about them) plus their photos."""
    ov = overview(user)
    review_ids = [r.id for r in ov.reviews]
    followups = (
        list(
            db.session.execute(select(FollowUp).where(FollowUp.review_id.in_(review_ids))).scalars()
        )
        if review_ids
        else []
    )
    photos = list(
        db.session.execute(
            select(Photo).where(Photo.uploader_id == user.id).order_by(Photo.id)
        ).scalars()
    )
    appeals = list(
        db.session.execute(select(Appeal).where(Appeal.appellant_id == user.id)).scalars()
    )
    replies = list(
        db.session.execute(select(ClinicReply).where(ClinicReply.author_id == user.id)).scalars()
    )
    clinics = list(db.session.execute(select(Clinic).where(Clinic.owner_id == user.id)).scalars())
    review_fields = (
        "id",
        "clinic_id",
        *Review.CONTENT_FIELDS,
        "status",
        "verified_at",
        "created_at",
        "updated_at",
        "published_at",
    )
    data = {
        "exported_at": datetime.now(UTC).isoformat(),
        "profile": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "email_verified_at": _iso(user.email_verified_at),
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "password_changed_at": _iso(user.password_changed_at),
            "second_factor": user.totp_confirmed_at is not None,
        },
        "reviews": [{**_row(r, review_fields), "clinic_name": r.clinic.name} for r in ov.reviews],
        "followups": [
            _row(
                f,
                ("id", "review_id", "healing", "needed_correction", "text", "status", "created_at"),
            )
            for f in followups
        ],
        "reports": [
            _row(
                r,
                (
                    "id",
                    "target_type",
                    "target_id",
                    "reason",
                    "text",
                    "status",
                    "created_at",
                    "decided_at",
                ),
            )
            for r in ov.reports
        ],
        "claims": [
            _row(
                c,
                (
                    "id",
                    "clinic_id",
                    "role_at_clinic",
                    "business_email",
                    "phone",
                    "evidence_links",
                    "evidence",
                    "status",
                    "created_at",
                    "decided_at",
                ),
            )
            for c in ov.claims
        ],
        "decisions_about_you": [
            _row(
                d,
                (
                    "id",
                    "item_type",
                    "item_id",
                    "action",
                    "reason_code",
                    "statement",
                    "previous_status",
                    "new_status",
                    "automated",
                    "created_at",
                ),
            )
            for d in ov.decisions
        ],
        "appeals": [
            _row(a, ("id", "item_type", "item_id", "text", "status", "created_at", "decided_at"))
            for a in appeals
        ],
        "clinic_replies": [
            _row(r, ("id", "review_id", "clinic_id", "text", "status", "created_at"))
            for r in replies
        ],
        "clinics_owned": [{"id": c.id, "slug": c.slug, "name": c.name} for c in clinics],
        "photos": [
            {
                **_row(
                    p,
                    (
                        "id",
                        "review_id",
                        "clinic_id",
                        "kind",
                        "width",
                        "height",
                        "status",
                        "consent_confirmed",
                        "created_at",
                    ),
                ),
                "file": f"photos/{p.id}.jpg",
            }
            for p in photos
        ],
    }
    return data, photos


def export_zip(user: User) -> bytes:
    data, photos = export_data(user)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("account.json", json.dumps(data, indent=2, ensure_ascii=False))
        for p in photos:
            path = media.file_path(p, "web")
            if os.path.exists(path):
                zf.write(path, f"photos/{p.id}.jpg")
    return buf.getvalue()


def delete_account(user: User, password: str, *, keep_reviews: bool) -> list[int]:
    """Delete the account and its personal data.

    Published reviews are kept anonymised (author removed) when keep_reviews,
    otherwise removed; unpublished ones are always removed. Every photo the user
    uploaded to a review goes; photos of clinic result cases stay with the clinic
    without an uploader. Claims go, reports and audit rows stay pseudonymised.
    Returns the ids of the clinics whose scores were recomputed.
    """
    from directory import search
    from directory.services import scores

    if not check_password(user, password):
        raise NotAllowed("Your password is not correct.")
    affected: set[int] = set()
    reviews = list(db.session.execute(select(Review).where(Review.author_id == user.id)).scalars())
    for review in reviews:
        affected.add(review.clinic_id)
        for photo in list(review.photos):
            media.delete_photo(photo)
        if keep_reviews and review.status == "published":
            review.author_id = None
        else:
            db.session.delete(review)
    for photo in db.session.execute(select(Photo).where(Photo.uploader_id == user.id)).scalars():
        if photo.review_id is not None:
            affected.add(db.session.get(Review, photo.review_id).clinic_id)
            media.delete_photo(photo)
        else:
            photo.uploader_id = None
    for claim in db.session.execute(
        select(ClinicClaim).where(ClinicClaim.user_id == user.id)
    ).scalars():
        db.session.delete(claim)
    for clinic in db.session.execute(select(Clinic).where(Clinic.owner_id == user.id)).scalars():
        clinic.owner_id = None
        if clinic.status == "claimed":
            clinic.status = "listed"
        search.mark_dirty(clinic.id)
    end_all_sessions(user)
    db.session.flush()
    db.session.delete(user)
    db.session.flush()
    for clinic_id in sorted(affected):
        clinic = db.session.get(Clinic, clinic_id)
        if clinic is not None:
            scores.recompute_clinic(clinic)
    return sorted(affected)
