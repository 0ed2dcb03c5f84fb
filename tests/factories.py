"""Factories for every model. Each commits and returns the object; names and phones are unique."""

import itertools
from datetime import date

from volunteer.accounts.auth import hash_password
from volunteer.accounts.models import Role, RoleGrant, User
from volunteer.core.audit import AuditEntry
from volunteer.extensions import db
from volunteer.org.models import Agreement, Building, Community, Compound, MemberReport, Street, Unit

PASSWORD = "password123"
_seq = itertools.count(1)
_hash: dict[str, str] = {}


def reset() -> None:
    global _seq
    _seq = itertools.count(1)


def n() -> int:
    return next(_seq)


def _commit(obj):
    db.session.add(obj)
    db.session.commit()
    return obj


def street(**kw) -> Street:
    return _commit(Street(name=kw.pop("name", f"街道{n()}"), **kw))


def community(street_=None, **kw) -> Community:
    street_ = street_ or street()
    return _commit(Community(street_id=street_.id, name=kw.pop("name", f"社区{n()}"), **kw))


def compound(community_=None, **kw) -> Compound:
    community_ = community_ or community()
    return _commit(Compound(community_id=community_.id, name=kw.pop("name", f"小区{n()}"), **kw))


def building(compound_=None, **kw) -> Building:
    compound_ = compound_ or compound()
    return _commit(Building(compound_id=compound_.id, name=kw.pop("name", f"{n()}栋"), **kw))


def unit(**kw) -> Unit:
    i = n()
    kw.setdefault("name", f"单位{i}")
    kw.setdefault("contact_person", f"联系人{i}")
    kw.setdefault("contact_email", f"unit{i}@example.org")
    return _commit(Unit(**kw))


def password_hash() -> str:
    # One hash for every test user: argon2 is slow on purpose.
    if "h" not in _hash:
        _hash["h"] = hash_password(PASSWORD)
    return _hash["h"]


def user(building_=None, *, party_member=False, **kw) -> User:
    i = n()
    kw.setdefault("name", f"用户{i}")
    kw.setdefault("phone", f"139{i:08d}")
    u = User(
        password_hash=password_hash(),
        is_party_member=party_member,
        building_id=building_.id if building_ else None,
        **kw,
    )
    return _commit(u)


def grant(user_: User, role: str, *, community_=None, compound_=None, unit_=None, street_=None) -> RoleGrant:
    cid = community_.id if community_ else None
    pid = compound_.id if compound_ else None
    uid = unit_.id if unit_ else None
    sid = street_.id if street_ else None
    g = RoleGrant(
        user_id=user_.id,
        role=role,
        community_id=cid,
        compound_id=pid,
        unit_id=uid,
        street_id=sid,
        scope_key=RoleGrant.make_scope_key(cid, pid, uid, sid),
    )
    _commit(g)
    db.session.refresh(user_)
    return g


def resident(building_=None, **kw) -> User:
    building_ = building_ or building()
    u = user(building_, **kw)
    grant(u, Role.RESIDENT, community_=building_.compound.community)
    return u


def staff(role: str, community_: Community, compound_=None, **kw) -> User:
    u = user(**kw)
    grant(u, role, community_=community_, compound_=compound_)
    return u


def report(user_: User, community_: Community, unit_=None, year=None) -> MemberReport:
    unit_ = unit_ or unit()
    r = MemberReport(user_id=user_.id, community_id=community_.id, unit_id=unit_.id, year=year or date.today().year)
    _commit(r)
    grant(user_, Role.VOLUNTEER, community_=community_)
    return r


def agreement(unit_=None, community_=None, **kw) -> Agreement:
    unit_ = unit_ or unit()
    community_ = community_ or community()
    kw.setdefault("signed_on", date(2026, 1, 1))
    return _commit(Agreement(unit_id=unit_.id, community_id=community_.id, **kw))


def audit(actor=None, community_=None, **kw) -> AuditEntry:
    kw.setdefault("action", "test.action")
    kw.setdefault("object_type", "User")
    return _commit(
        AuditEntry(actor_id=actor.id if actor else None, community_id=community_.id if community_ else None, **kw)
    )


class District:
    """Named handles on a small district for tests that need two communities."""


def district() -> District:
    d = District()
    d.street_a = street(name="东街道")
    d.street_b = street(name="西街道")
    d.a = community(d.street_a, name="东一社区")
    d.b = community(d.street_a, name="东二社区")
    d.c = community(d.street_b, name="西一社区")
    d.compound_a = compound(d.a, name="幸福小区")
    d.compound_b = compound(d.b, name="和平小区")
    d.building_a = building(d.compound_a, name="1栋")
    d.building_b = building(d.compound_b, name="2栋")
    d.unit_a = unit(name="东城供电局")
    d.unit_b = unit(name="西城税务所")
    d.resident_a = resident(d.building_a, name="张三")
    d.resident_b = resident(d.building_b, name="李四")
    d.member_a = resident(d.building_a, name="王党员", party_member=True)
    report(d.member_a, d.a, d.unit_a)
    d.member_b = resident(d.building_b, name="赵党员", party_member=True)
    report(d.member_b, d.b, d.unit_b)
    d.collector_a = staff(Role.COLLECTOR, d.a, d.compound_a, name="钱信息")
    d.council_a = staff(Role.COUNCIL, d.a, d.compound_a, name="孙议事")
    d.steward_a = staff(Role.STEWARD, d.a, name="周管家")
    d.steward_b = staff(Role.STEWARD, d.b, name="吴管家")
    d.admin_a = staff(Role.ADMIN, d.a, name="郑主任")
    d.admin_b = staff(Role.ADMIN, d.b, name="冯主任")
    d.employer_a = user(name="陈人事")
    grant(d.employer_a, Role.EMPLOYER, unit_=d.unit_a)
    d.organiser_a = user(name="褚组织")
    grant(d.organiser_a, Role.ORGANISER, street_=d.street_a)
    d.organiser_all = user(name="卫区委")
    grant(d.organiser_all, Role.ORGANISER)
    return d
