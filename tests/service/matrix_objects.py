"""One object of each 1112 service kind in a community, its texts private markers, for the cross-cutting crawls."""

from dataclasses import dataclass, field
from datetime import timedelta

from volunteer.credit import photos
from volunteer.extensions import db
from volunteer.service import cards
from volunteer.service.models import OrderTake, ProjectClaim, Resource

from .. import factories
from ..credit import factories as credit_factories
from . import factories as service


@dataclass
class Objects:
    """Ids of a community's service objects (candidate URL arguments) and the text that must not leak."""

    activity: int
    signup: int
    need: int
    order: int
    resource: int
    project: int
    record: int
    token: str  # the volunteer's member card
    markers: list[str] = field(default_factory=list)


def evidence_photo() -> str:
    """A real processed photo on disk, as a service record names it."""
    return photos.save(photos.process(credit_factories.jpeg_bytes()))


def claimed_project(community, volunteer, **kw):
    row = service.project(community, **kw)
    factories._commit(ProjectClaim(project_id=row.id, volunteer_id=volunteer.id))
    row.claimed = 1
    return factories._commit(row)


def taken_order(community, volunteers, need_=None, **kw):
    """An order with one place taken by each of `volunteers`; "taken" once every place is."""
    kw.setdefault("places", max(1, len(volunteers)))
    row = service.order(community, need_, taken=len(volunteers), **kw)
    if len(volunteers) == row.places:
        row.state = "taken"
    for v in volunteers:
        db.session.add(OrderTake(order_id=row.id, volunteer_id=v.id))
    return factories._commit(row)


def create(community, volunteer, resident, text: str, mark: str) -> Objects:
    """Each object in a state where a foreign actor's step would succeed if access were not checked:
    an activity on now with the volunteer confirmed, an open need, an open order the volunteer took
    one of two places of, a shown resource, a running project the volunteer claimed, and a pending
    service record of theirs with a photo. Every text is "<text><kind><mark>", e.g. 和平活动乙."""
    words = {k: f"{text}{k}{mark}" for k in ("活动", "广场", "需求", "订单", "订单说明", "资源", "项目", "服务")}
    activity = service.activity(
        community, starts_in=-timedelta(minutes=10), title=words["活动"], place=words["广场"], places=3
    )
    signup = service.signup(activity, volunteer)
    need = service.need(resident, community, description=words["需求"])
    order = taken_order(community, [volunteer], places=2, title=words["订单"], description=words["订单说明"])
    resource = factories._commit(Resource(community_id=community.id, kind="venue", title=words["资源"]))
    project = claimed_project(community, volunteer, title=words["项目"])
    record = service.record(volunteer, community, description=words["服务"], minutes=60, photo=evidence_photo())
    return Objects(
        activity=activity.id,
        signup=signup.id,
        need=need.id,
        order=order.id,
        resource=resource.id,
        project=project.id,
        record=record.id,
        token=cards.card_token(volunteer),
        markers=list(words.values()),
    )
