"""The demo's thank-you letters: last quarter's round in every community, mostly sent, one failed, one revoked.

Letters are written through volunteer.letters.documents (facts frozen from the demo's verified records,
each with its queued email), inside the demo's one transaction; then the outbox rows are set to where a
worker would have left them, so the admin pages show every state without any mail leaving the machine.
"""

import io
import math
from datetime import UTC, datetime, time, timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from ..core import audit
from ..extensions import db
from ..letters import documents, periods
from ..letters.models import Document, Email, LetterBatch, LetterSettings
from ..org.models import MemberReport

SEAL_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
FAILED_ERROR = "550 5.1.1 <{to}>: Recipient address rejected: User unknown in local recipient table"
REVOKE_REASON = "服务次数统计有误，更正后重新出具"


def demo_period(today) -> periods.Period:
    """Last quarter, unless that was last year (the demo's 双报到 reports are this year's)."""
    last = periods.last_quarter(today)
    return last if last.year == today.year else periods.quarter(today.year, 1)


def seal_png(name: str) -> bytes:
    """A round red seal: a ring, a star, the community's name along the top arc, 专用章 below."""
    size, red = 400, (200, 20, 30, 255)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, size - 10, size - 10), outline=red, width=12)
    centre = size / 2
    star = [
        (centre + radius * math.cos(math.radians(-90 + 36 * i)), centre + radius * math.sin(math.radians(-90 + 36 * i)))
        for i, radius in zip(range(10), [70, 28] * 5, strict=True)
    ]
    draw.polygon(star, fill=red)
    try:
        font = ImageFont.truetype(SEAL_FONT, 50)
    except OSError:
        font = None  # no CJK font on this machine: a seal without words
    if font is not None:
        _arc_text(image, name[:10], font, red)
        draw.text((centre, size * 0.76), "专用章", fill=red, font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _arc_text(image: Image.Image, text: str, font, colour) -> None:
    """Each character upright towards the centre, spread over the seal's upper arc."""
    size = image.width
    span = min(250, 28 * len(text))
    for i, char in enumerate(text):
        angle = -90 - span / 2 + span * (i + 0.5) / len(text)
        glyph = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((32, 32), char, fill=colour, font=font, anchor="mm")
        glyph = glyph.rotate(-(angle + 90), resample=Image.BICUBIC)
        x = size / 2 + 140 * math.cos(math.radians(angle)) - 32
        y = size / 2 + 140 * math.sin(math.radians(angle)) - 32
        image.alpha_composite(glyph, (round(x), round(y)))


def build_letters(*, communities, admins, today) -> dict:
    period = demo_period(today)
    sent_at = datetime.combine(period.end + timedelta(days=8), time(2, 30), tzinfo=UTC)
    counts = {"letters": 0, "letters sent": 0}
    for community in communities:
        admin = admins[community.id]
        db.session.add(
            LetterSettings(
                community_id=community.id,
                signature=f"中共{community.name}委员会",
                contact=f"{community.name}党群服务中心　电话 {community.phone}",
                seal_png=seal_png(f"{community.name}居民委员会"),
                updated_by_id=admin.id,
            )
        )
        batch = _batch(community, admin, period, sent_at)
        for report_id in documents.eligible_reports(community.id, period):
            report = db.session.get(MemberReport, report_id)
            document = documents.build_letter(report, period, admin, batch.id)
            document.issued_on = sent_at.date()
            counts["letters"] += 1
            batch.total += 1
            batch.done += 1
            batch.created += 1
        db.session.flush()
    counts["letters sent"] = _settle_emails(sent_at)
    _revoke_one(admins, sent_at)
    return counts


def _batch(community, admin, period, at) -> LetterBatch:
    batch = LetterBatch(
        community=community,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        state="done",
        started_by_id=admin.id,
        created_at=at - timedelta(minutes=5),
        finished_at=at - timedelta(minutes=4),
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def _settle_emails(sent_at) -> int:
    """Every email sent, except the first one, which failed: its unit's address bounced."""
    emails = list(db.session.scalars(select(Email).order_by(Email.id)))
    for number, email in enumerate(emails):
        email.attempts, email.claimed_at = 1, sent_at
        if number == 0:
            email.state, email.last_error = "failed", FAILED_ERROR.format(to=email.recipient)
        else:
            email.state, email.sent_at = "sent", sent_at + timedelta(seconds=number)
    return len(emails) - 1 if emails else 0


def _revoke_one(admins, at) -> None:
    """The last letter was revoked after it was sent (a miscount), as an admin would."""
    document = db.session.scalar(select(Document).order_by(Document.id.desc()))
    if document is None:
        return
    admin = admins[document.community_id]
    document.revoked_at, document.revoked_by_id = at + timedelta(days=2), admin.id
    document.revoke_reason, document.dedupe_key = REVOKE_REASON, None
    audit.record(admin, "letter.revoke", document, after={"number": document.number, "reason": REVOKE_REASON})
