"""Factories for credit indicators, declarations in any state, and real evidence photos."""

import io

from PIL import Image

from volunteer.credit import photos
from volunteer.credit.models import Declaration, DeclarationEvent, DeclarationPhoto, Indicator

from .. import factories


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None, fmt="JPEG") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def indicator(community, **kw) -> Indicator:
    kw.setdefault("name", f"指标{factories.n()}")
    kw.setdefault("points", 10)
    kw.setdefault("period", "year")
    kw.setdefault("description", "")
    return factories._commit(Indicator(community_id=community.id, **kw))


def declaration(user, indicator_, state="submitted", *, description=None, photos_=0, **kw) -> Declaration:
    """A declaration already in `state`, written directly (the flow itself is tested through the service)."""
    if state == "approved":
        kw.setdefault("points_awarded", indicator_.points)
    d = Declaration(
        community_id=indicator_.community_id,
        compound_id=user.building.compound_id,
        user_id=user.id,
        indicator_id=indicator_.id,
        description=description or f"申报说明{factories.n()}",
        state=state,
        **kw,
    )
    factories._commit(d)
    factories._commit(DeclarationEvent(declaration_id=d.id, actor_id=user.id, to_state=state))
    for _ in range(photos_):
        photo(d)
    return d


def photo(declaration_) -> DeclarationPhoto:
    processed = photos.process(jpeg_bytes())
    name = photos.save(processed)
    return factories._commit(
        DeclarationPhoto(
            declaration_id=declaration_.id,
            filename=name,
            width=processed.width,
            height=processed.height,
            size=len(processed.data),
        )
    )
