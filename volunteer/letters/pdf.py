"""Letters and certificates as PDF (WeasyPrint, Noto CJK fonts embedded as subsets) and as HTML previews."""

import base64
import threading
from datetime import date

from flask import current_app, render_template
from markupsafe import Markup

from ..core import qr
from ..extensions import db
from .facts import KIND_NAMES, STATUS_NAMES
from .models import Document, LetterSettings

_local = threading.local()  # WeasyPrint's font set-up is slow to build: one per thread, reused


def verify_url(document: Document) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/v/{document.number}"


def filename(document: Document) -> str:
    title = "感谢函" if document.kind == "letter" else "志愿服务记录证明"
    return f"{title}-{document.facts['name']}-{document.number}.pdf"


def chinese_date(day: date | str) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.year}年{day.month}月{day.day}日"


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".removesuffix(".0")


def _data_uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def settings_for(community_id: int | None) -> LetterSettings | None:
    if community_id is None:
        return None
    return db.session.scalar(db.select(LetterSettings).where(LetterSettings.community_id == community_id))


def html(document: Document, settings: LetterSettings | None = None, *, preview: bool = False) -> str:
    """The document as a standalone HTML page: what the PDF prints, and the admin's preview."""
    settings = settings if settings is not None else settings_for(document.community_id)
    seal = settings.seal_png if settings is not None else None
    # A letter prints the wording it was issued with; the seal image is the community's current one.
    signed = document.facts.get("signed") or signed_by(settings)
    template = "letters/pdf/letter.html" if document.kind == "letter" else "letters/pdf/certificate.html"
    return render_template(
        template,
        document=document,
        facts=document.facts,
        signature=signed["signature"] or _default_signature(document),
        contact=signed["contact"],
        closing=signed["closing"],
        seal=_data_uri("image/png", seal) if seal else None,
        qr=_data_uri("image/png", qr.png(verify_url(document), box_size=6)),
        verify_url=verify_url(document),
        kind_names=KIND_NAMES,
        status_names=STATUS_NAMES,
        chinese_date=chinese_date,
        hours=hours,
        stars=Markup("★" * document.facts.get("stars", 0) + "☆" * (5 - document.facts.get("stars", 0))),
        preview=preview,
    )


def signed_by(settings: LetterSettings | None) -> dict:
    """The community's wording for its letters, as frozen into a letter's facts when it is issued."""
    return {
        "signature": settings.signature if settings else "",
        "contact": settings.contact if settings else "",
        "closing": settings.closing if settings else "",
    }


def _default_signature(document: Document) -> str:
    if document.kind == "certificate":
        return "社区志愿服务积分管理平台"
    return f"中共{document.facts['community']}委员会"


def render(document: Document, settings: LetterSettings | None = None) -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    if getattr(_local, "fonts", None) is None:
        _local.fonts = FontConfiguration()
    return HTML(string=html(document, settings)).write_pdf(font_config=_local.fonts)
