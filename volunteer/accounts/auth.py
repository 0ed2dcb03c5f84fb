"""Password hashing (argon2) and the Flask-Login user loader."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the phone is unknown, so timing does not reveal accounts.
_DUMMY: dict[str, str] = {}


def dummy_verify(password: str) -> None:
    key = "hash"
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-real-password")
    verify_password(_DUMMY[key], password)


@cache
def _user_with_roles():
    """Built once: every request loads its user, and Session.get would build the query and its options anew."""
    from .models import User

    # Roles in the same query: nearly every page asks what the user may do.
    return select(User).options(joinedload(User.roles)).where(User.id == bindparam("id"))


def load_user(session_id: str):
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.execute(_user_with_roles(), {"id": user_id}).unique().scalar_one_or_none()
    if user is None or user.session_version != version or not user.active:
        return None
    return user
