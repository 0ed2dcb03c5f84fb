"""Account rules: registration, login, passwords and role grants. Views call these only."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core import phone as phones
from ..core.audit import record
from ..core.errors import DomainError
from ..extensions import db
from ..org.models import Building, Compound
from .auth import dummy_verify, hash_password, verify_password
from .models import Role, RoleGrant, User

MIN_PASSWORD = 8


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError("weak_password", _l("The password needs at least 8 characters."))
    if not (any(ch.isalpha() for ch in password) and any(ch.isdigit() for ch in password)):
        raise DomainError("weak_password", _l("The password needs both letters and digits."))


def _clean_phone(raw: str) -> str:
    phone = phones.normalise(raw)
    if not phones.is_valid(phone):
        raise DomainError("bad_phone", _l("Enter an 11-digit mainland mobile number, such as 13812345678."))
    return phone


def find_by_phone(raw: str) -> User | None:
    phone = phones.normalise(raw)
    if not phones.is_valid(phone):  # never send junk (a NUL, an essay) to the database
        return None
    return db.session.scalar(select(User).where(User.phone == phone))


def register_resident(
    *, phone: str, name: str, password: str, building: Building, party_member=False, actor=None
) -> User:
    """Create a user living in `building` with the resident role in its community."""
    phone = _clean_phone(phone)
    name = name.strip()
    if not name:
        raise DomainError("bad_name", _l("Enter your name."))
    check_password_rules(password)
    if find_by_phone(phone):
        raise DomainError("phone_taken", _l("This phone number is already registered. Please log in."))
    user = User(
        phone=phone,
        name=name,
        password_hash=hash_password(password),
        building_id=building.id,
        is_party_member=party_member,
    )
    db.session.add(user)
    community_id = building.compound.community_id
    user.roles.append(
        RoleGrant(role=Role.RESIDENT, community_id=community_id, scope_key=RoleGrant.make_scope_key(community_id))
    )
    try:
        db.session.flush()
    except IntegrityError:  # two registrations of one phone at once
        db.session.rollback()
        raise DomainError("phone_taken", _l("This phone number is already registered. Please log in.")) from None
    if actor is not None:
        record(actor, "user.register_at_desk", user, community_id=community_id, after={"name": name})
    db.session.commit()
    return user


def authenticate(phone: str, password: str) -> User:
    user = find_by_phone(phone)
    if user is None:
        dummy_verify(password)
    if user is None or not verify_password(user.password_hash, password):
        raise DomainError("bad_login", _l("Wrong phone number or password."), status=401)
    if not user.active:
        raise DomainError("inactive", _l("This account is disabled. Please contact your community."), status=403)
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise DomainError("bad_password", _l("The current password is not correct."))
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(user, "user.password_change", user)
    db.session.commit()


def reset_password(user: User, new: str, actor: User, community_id: int) -> None:
    """A community admin sets a new password; the user's other sessions end."""
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(actor, "user.password_reset", user, community_id=community_id)
    db.session.commit()


def set_active(user: User, active: bool, actor: User, community_id: int) -> None:
    if user.id == actor.id:
        raise DomainError("self", _l("You cannot disable your own account."))
    before = {"active": user.active}
    user.active = active
    user.session_version += 1
    record(actor, "user.set_active", user, community_id=community_id, before=before, after={"active": active})
    db.session.commit()


def grant_role(
    user: User, role: str, actor: User, *, community_id=None, compound_id=None, unit_id=None, street_id=None
) -> RoleGrant:
    if role not in Role.ALL:
        raise DomainError("bad_role", _l("Unknown role."))
    if role == Role.VOLUNTEER and not user.is_party_member:
        raise DomainError("not_member", _l("Only party members can be volunteers in the 1112 scheme."))
    if compound_id is not None:
        compound = db.session.get(Compound, compound_id)
        if compound is None or compound.community_id != community_id:
            raise DomainError("bad_compound", _l("That compound is not in this community."))
    if role not in Role.COMPOUND_SCOPED:
        compound_id = None
    key = RoleGrant.make_scope_key(community_id, compound_id, unit_id, street_id)
    if any(g.role == role and g.scope_key == key for g in user.roles):
        raise DomainError("role_exists", _l("This user already holds that role here."))
    grant = RoleGrant(
        role=role,
        community_id=community_id,
        compound_id=compound_id,
        unit_id=unit_id,
        street_id=street_id,
        scope_key=key,
        granted_by_id=actor.id,
    )
    user.roles.append(grant)
    try:
        db.session.flush()
    except IntegrityError:  # the same grant submitted twice at once
        db.session.rollback()
        raise DomainError("role_exists", _l("This user already holds that role here.")) from None
    record(actor, "role.grant", user, community_id=community_id, after=_grant_facts(grant))
    db.session.commit()
    return grant


def revoke_role(grant: RoleGrant, actor: User) -> None:
    if grant.user_id == actor.id and grant.role in (Role.ADMIN, Role.ORGANISER):
        raise DomainError("self", _l("You cannot remove your own administrator role."))
    record(actor, "role.revoke", grant.user, community_id=grant.community_id, before=_grant_facts(grant))
    db.session.delete(grant)
    db.session.commit()


def _grant_facts(grant: RoleGrant) -> dict:
    return {
        "role": grant.role,
        "community_id": grant.community_id,
        "compound_id": grant.compound_id,
        "unit_id": grant.unit_id,
        "street_id": grant.street_id,
    }
