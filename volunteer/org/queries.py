"""Read helpers for the organisation used by forms across domains."""

from sqlalchemy import select

from ..extensions import db
from .models import Building, Community, Compound, Street


def building_choices(community_ids: set[int] | None = None) -> dict[str, list[tuple[int, str]]]:
    """Buildings grouped by community for a <select> with optgroups."""
    stmt = (
        select(Building, Compound, Community)
        .join(Compound, Building.compound_id == Compound.id)
        .join(Community, Compound.community_id == Community.id)
        .join(Street, Community.street_id == Street.id)
        .order_by(Street.name, Community.name, Compound.name, Building.name)
    )
    if community_ids is not None:
        stmt = stmt.where(Community.id.in_(community_ids))
    groups: dict[str, list[tuple[int, str]]] = {}
    for building, compound, community in db.session.execute(stmt):
        label = f"{community.street.name} · {community.name}"
        groups.setdefault(label, []).append((building.id, f"{compound.name} {building.name}"))
    return groups


def community_choices(community_ids: set[int] | None = None) -> list[tuple[int, str]]:
    stmt = select(Community).join(Street).order_by(Street.name, Community.name)
    if community_ids is not None:
        stmt = stmt.where(Community.id.in_(community_ids))
    return [(c.id, f"{c.street.name} · {c.name}") for c in db.session.scalars(stmt)]


def compound_choices(community_ids: set[int]) -> list[tuple[int, str]]:
    stmt = (
        select(Compound).where(Compound.community_id.in_(community_ids)).order_by(Compound.community_id, Compound.name)
    )
    return [(c.id, f"{c.community.name} · {c.name}") for c in db.session.scalars(stmt)]
