"""Password hashing: argon2id at the OWASP minimum or above (19 MiB, t=2, p=1)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)
# A real hash of a random secret, verified against when the account does not
# exist so that unknown emails cost the same work as wrong passwords.
_DUMMY = None


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    global _DUMMY
    if not stored:
        if _DUMMY is None:
            _DUMMY = HASHER.hash("not-a-real-password-for-timing")
        stored = _DUMMY
        with contextlib.suppress(VerificationError, InvalidHashError):
            HASHER.verify(stored, password)
        return False
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
