"""The audit log: who did what to which object, when, with before/after where it matters."""

from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .models import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    # The community the object belongs to, so admins read only their own community's log.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str] = mapped_column(String(45), default="")

    actor = relationship("User")
    community = relationship("Community")


def record(actor, action: str, obj, *, community_id=None, before=None, after=None) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with the change)."""
    if community_id is None:
        community_id = getattr(obj, "community_id", None)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        community_id=community_id,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        before=before,
        after=after,
        ip=(request.remote_addr or "")[:45] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry


def snapshot(obj, *fields: str) -> dict:
    """The named fields of an object as JSON-able values, for before/after."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out
