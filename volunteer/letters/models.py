"""Letters and certificates (documents), their email outbox, generation batches and community letter settings."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin, one_of, utcnow
from ..extensions import db

DOCUMENT_KINDS = ("letter", "certificate")
EMAIL_STATES = ("queued", "sending", "sent", "failed")
BATCH_STATES = ("running", "done", "failed")


class Document(TimestampMixin, db.Model):
    """A letter to a member's employer or a member's own certificate, frozen when issued.

    `facts` holds what the PDF and the public verification page say (counts, hours, highlights,
    1112 status), so a later correction of the records never changes a document already issued.
    """

    __tablename__ = "letter_documents"
    __table_args__ = (
        CheckConstraint(one_of("kind", DOCUMENT_KINDS), name="kind"),
        CheckConstraint("period_start <= period_end", name="period"),
        CheckConstraint("kind = 'certificate' OR unit_id IS NOT NULL", name="letter_unit"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    # Printed on the document and in its verification URL; random, so numbers cannot be enumerated.
    number: Mapped[str] = mapped_column(String(24), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("letter_batches.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    period_label: Mapped[str] = mapped_column(String(40))
    # One live letter per member, community and period; cleared on revocation so it can be reissued.
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    facts: Mapped[dict] = mapped_column(JSON)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str] = mapped_column(String(300), default="")

    user = relationship("User", foreign_keys=[user_id])
    community = relationship("Community")
    unit = relationship("Unit")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    emails: Mapped[list["Email"]] = relationship(back_populates="document", order_by="Email.id")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class Email(TimestampMixin, db.Model):
    """One email of the outbox: written in the transaction that creates its document, sent by a worker.

    `message_id` is fixed when the row is written, so every attempt carries the same Message-ID;
    the state says how far sending got (queued → sending → sent, or failed after the last retry).
    """

    __tablename__ = "letter_emails"
    __table_args__ = (
        CheckConstraint(one_of("state", EMAIL_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        UniqueConstraint("document_id", "recipient"),  # never twice to the same address
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("letter_documents.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(500), default="")

    document: Mapped[Document] = relationship(back_populates="emails")


class LetterBatch(TimestampMixin, db.Model):
    """An admin's "generate the letters of this period" run, with its progress for the progress bar."""

    __tablename__ = "letter_batches"
    __table_args__ = (
        CheckConstraint(one_of("state", BATCH_STATES), name="state"),
        CheckConstraint("done <= total", name="progress"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    period_key: Mapped[str] = mapped_column(String(10))  # 2026-Q3 or 2026
    state: Mapped[str] = mapped_column(String(10), default="running")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)  # letters written (the rest already had one)
    error: Mapped[str] = mapped_column(String(500), default="")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by the run that holds the batch, at its start and after each chunk: a run whose
    # heartbeat is older than LETTER_STALE_SECONDS died, and the sweep may start another.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    community = relationship("Community")
    started_by = relationship("User")


class LetterSettings(TimestampMixin, db.Model):
    """How a community signs its letters: the signature line, a contact line and an optional seal image."""

    __tablename__ = "letter_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), unique=True)
    signature: Mapped[str] = mapped_column(String(120), default="")  # e.g. 中共玉泉社区委员会
    contact: Mapped[str] = mapped_column(String(200), default="")
    closing: Mapped[str] = mapped_column(Text, default="")  # an extra paragraph of thanks, optional
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
