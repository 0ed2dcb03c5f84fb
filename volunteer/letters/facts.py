"""What a letter or certificate states, computed once from verified service records and then frozen."""

from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..ledger import stars
from ..org.models import Community, MemberReport
from ..service.models import TARGET, Activity, Order, Project, ServiceRecord
from ..service.tracker import expected_by

# The letter is a formal Chinese document whatever the reader's language.
KIND_NAMES = {"activity": "志愿活动", "order": "群众点单服务", "project": "认领项目与公益岗位", "other": "其他志愿服务"}
STATUS_NAMES = {"done": "已完成全年12次服务", "on_pace": "进度正常", "behind": "进度滞后", "none": "未报到"}
HIGHLIGHTS = 3


def _verified(user_id: int, start: date, end: date, community_id: int | None):
    stmt = select(ServiceRecord).where(
        ServiceRecord.volunteer_id == user_id,
        ServiceRecord.status == "verified",
        ServiceRecord.served_on.between(start, end),
    )
    if community_id is not None:
        stmt = stmt.where(ServiceRecord.community_id == community_id)
    return stmt


def service_totals(user_id: int, start: date, end: date, community_id: int | None = None) -> dict:
    """Count, minutes and count per kind of the member's verified services in the dates."""
    base = _verified(user_id, start, end, community_id).subquery()
    rows = db.session.execute(
        select(base.c.kind, func.count(), func.coalesce(func.sum(base.c.minutes), 0)).group_by(base.c.kind)
    ).all()
    kinds = {kind: count for kind, count, _ in rows}
    return {
        "services": sum(kinds.values()),
        "minutes": int(sum(minutes for *_, minutes in rows)),
        "kinds": {kind: kinds[kind] for kind in KIND_NAMES if kind in kinds},
    }


def highlights(user_id: int, start: date, end: date, community_id: int | None = None) -> list[dict]:
    """The longest few services with what they were: the record's own words, else its activity, order or project."""
    stmt = (
        _verified(user_id, start, end, community_id)
        .outerjoin(Activity, Activity.id == ServiceRecord.activity_id)
        .outerjoin(Order, Order.id == ServiceRecord.order_id)
        .outerjoin(Project, Project.id == ServiceRecord.project_id)
        .with_only_columns(
            ServiceRecord.served_on,
            ServiceRecord.minutes,
            ServiceRecord.kind,
            ServiceRecord.description,
            func.coalesce(Activity.title, Order.title, Project.title, ""),
        )
        .order_by(ServiceRecord.minutes.desc(), ServiceRecord.served_on.desc(), ServiceRecord.id)
    )
    found, seen = [], set()
    for served_on, minutes, kind, description, title in db.session.execute(stmt):
        what = (title or description or KIND_NAMES[kind]).strip()[:60]
        if what in seen:
            continue
        seen.add(what)
        found.append({"date": served_on.isoformat(), "minutes": minutes, "what": what})
        if len(found) == HIGHLIGHTS:
            break
    return sorted(found, key=lambda item: item["date"])


def standing(count: int, year: int, as_of: date) -> dict:
    """The 1112 standing of a member with `count` verified services in `year`, as of a date."""
    expected = expected_by(year, as_of)
    status = "done" if count >= TARGET else "on_pace" if count >= expected else "behind"
    return {"status": status, "count": count, "target": TARGET, "expected": expected}


def status_1112(user_id: int, year: int, as_of: date) -> dict:
    """The member's 1112 standing in their assigned community for `year`, counted up to `as_of`."""
    report = db.session.scalar(select(MemberReport).where(MemberReport.user_id == user_id, MemberReport.year == year))
    if report is None:
        return {"status": "none", "count": 0, "target": TARGET, "expected": 0}
    count = service_totals(user_id, date(year, 1, 1), as_of, report.community_id)["services"]
    return standing(count, year, as_of)


def for_letter(report: MemberReport, start: date, end: date, today: date) -> dict:
    """Everything a letter prints about one member's service to their community in the period."""
    as_of = min(end, today)
    rating = stars.rating(report.user_id, report.community_id, end.year)
    return {
        "name": report.user.name,
        "unit": report.unit.name,
        "community": report.community.name,
        **service_totals(report.user_id, start, end, report.community_id),
        "highlights": highlights(report.user_id, start, end, report.community_id),
        "tracker": status_1112(report.user_id, end.year, as_of),
        "stars": rating.stars,
        "score": rating.score,
    }


def for_certificate(user, start: date, end: date, today: date) -> dict:
    """A member's verified services in every community between two dates, for their own certificate."""
    per_community = db.session.execute(
        _verified(user.id, start, end, None)
        .with_only_columns(ServiceRecord.community_id, func.count())
        .group_by(ServiceRecord.community_id)
        .order_by(func.count().desc())
    ).all()
    ids = [community_id for community_id, _ in per_community]
    names = dict(db.session.execute(select(Community.id, Community.name).where(Community.id.in_(ids))).all())
    return {
        "name": user.name,
        "communities": [{"name": names[c], "services": n} for c, n in per_community],
        **service_totals(user.id, start, end),
        "highlights": highlights(user.id, start, end),
        "tracker": status_1112(user.id, end.year, min(end, today)),
    }
