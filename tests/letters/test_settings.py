"""A community's letter settings: the service (texts, seal re-encoded as PNG) and the admin's settings page."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from volunteer.accounts.models import Role
from volunteer.core.audit import AuditEntry
from volunteer.core.errors import DomainError
from volunteer.extensions import db
from volunteer.letters import documents, pdf, queue
from volunteer.letters import settings as letter_settings
from volunteer.letters.models import LetterSettings

from .. import factories
from ..conftest import text
from ..credit.factories import jpeg_bytes
from .factories import letter_for, served, this_quarter

VALUES = {"signature": "中共东一社区委员会", "contact": "联系电话 0471-1234567", "closing": "特此致谢。"}


@pytest.fixture(autouse=True)
def _empty_queue():
    """The memory queue lives as long as the app: leave no task behind for the next test."""
    yield
    queue.get().huey.flush()


def image_bytes(fmt="PNG", size=(80, 80), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 20, 20, 128) if mode == "RGBA" else (200, 20, 20)).save(out, format=fmt)
    return out.getvalue()


def stored(community) -> LetterSettings | None:
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(select(LetterSettings).where(LetterSettings.community_id == community.id))


def audits() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "letter.settings"))


# --- the service -----------------------------------------------------------------------------------


def test_save_creates_then_updates_the_row_with_an_audit_entry(district):
    d = district
    row = letter_settings.save(d.admin_a, d.a.id, VALUES)
    assert (row.signature, row.contact, row.closing, row.seal_png) == (*VALUES.values(), None)
    letter_settings.save(d.admin_a, d.a.id, {**VALUES, "signature": "  东一社区  "})
    assert stored(d.a).signature == "东一社区" and audits() == 2
    letter_settings.save(d.admin_a, d.a.id, {**VALUES, "signature": "东一社区"})  # no change: no entry
    assert audits() == 1 + 1
    assert db.session.scalar(select(func.count()).select_from(LetterSettings)) == 1


def test_the_seal_is_decoded_and_stored_as_png(district):
    d = district
    row = letter_settings.save(d.admin_a, d.a.id, VALUES, seal=jpeg_bytes(size=(1200, 900)))
    image = Image.open(io.BytesIO(row.seal_png))
    assert image.format == "PNG" and max(image.size) == letter_settings.SEAL_MAX_SIDE
    transparent = letter_settings.seal_png(image_bytes("PNG"))
    assert Image.open(io.BytesIO(transparent)).mode == "RGBA"  # red ink on nothing stays that way
    row = letter_settings.save(d.admin_a, d.a.id, VALUES, remove_seal=True)
    assert stored(d.a).seal_png is None


@pytest.mark.parametrize(
    "data, code",
    [
        (b"%PDF-1.4 not a picture", "seal_invalid"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "seal_invalid"),
        (image_bytes("PNG")[:60], "seal_invalid"),  # cut short
        (image_bytes("BMP", mode="RGB"), "seal_invalid"),  # a picture, but not a format we take
    ],
)
def test_a_seal_that_is_no_usable_picture_is_refused(district, data, code):
    d = district
    with pytest.raises(DomainError) as refused:
        letter_settings.save(d.admin_a, d.a.id, VALUES, seal=data)
    assert refused.value.code == code and stored(d.a) is None


def test_limits_and_who_may_save(district):
    d = district
    with pytest.raises(DomainError) as too_large:
        letter_settings.read_seal(io.BytesIO(b"x" * (letter_settings.SEAL_MAX_BYTES + 1)))
    assert too_large.value.code == "seal_too_large"
    with pytest.raises(DomainError) as empty:
        letter_settings.read_seal(io.BytesIO(b""))
    assert empty.value.code == "seal_empty"
    with pytest.raises(DomainError) as long_text:
        letter_settings.save(d.admin_a, d.a.id, {**VALUES, "closing": "谢" * 601})
    assert long_text.value.code == "bad_closing"
    for outsider in (d.admin_b, d.steward_a):
        with pytest.raises(DomainError) as refused:
            letter_settings.save(outsider, d.a.id, VALUES)
        assert refused.value.status == 403
    assert stored(d.a) is None


def test_the_printed_letter_uses_the_settings(district):
    d = district
    served(d.member_a, d.a, 2)
    letter = letter_for(d.member_a, d.a, d.admin_a)
    assert "中共东一社区委员会" in pdf.html(letter)  # the default signature
    letter_settings.save(d.admin_a, d.a.id, {**VALUES, "signature": "东一社区党委"}, seal=image_bytes())
    # A letter keeps the wording it was issued with; the seal is the community's current image.
    page = pdf.html(letter)
    assert "中共东一社区委员会" in page and "东一社区党委" not in page
    assert 'class="seal" src="data:image/png;base64,' in page
    documents.revoke(letter, d.admin_a, "wording changed")
    reissued = letter_for(d.member_a, d.a, d.admin_a)
    page = pdf.html(reissued)
    assert "东一社区党委" in page and "0471-1234567" in page and "特此致谢。" in page
    assert reissued.facts["signed"]["signature"] == "东一社区党委"


# --- the page ----------------------------------------------------------------------------------------


def test_the_settings_page_saves_and_shows_the_seal(district, browse):
    d = district
    admin = browse(d.admin_a)
    page = admin.get("/letters/settings")
    assert page.status_code == 200 and 'name="signature"' in text(page) and "/letters/preview?community=" in text(page)
    response = admin.post(
        f"/letters/settings?community={d.a.id}",
        data={**VALUES, "seal": (io.BytesIO(jpeg_bytes()), "seal.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/letters/settings?community={d.a.id}"
    )
    row = stored(d.a)
    assert row.signature == VALUES["signature"] and row.seal_png.startswith(b"\x89PNG")
    page = text(admin.get(f"/letters/settings?community={d.a.id}"))
    assert "中共东一社区委员会" in page and 'src="data:image/png;base64,' in page and 'name="remove_seal"' in page
    # Keeping the seal while changing a text; then removing it.
    admin.post(f"/letters/settings?community={d.a.id}", data={**VALUES, "contact": ""})
    assert stored(d.a).seal_png is not None and stored(d.a).contact == ""
    admin.post(f"/letters/settings?community={d.a.id}", data={**VALUES, "remove_seal": "y"})
    assert stored(d.a).seal_png is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"seal": (io.BytesIO(b"GIF89a? no"), "seal.png")}, "The seal must be a PNG, JPEG, WebP or GIF picture."),
        ({"seal": (io.BytesIO(b""), "seal.png")}, "The seal image file is empty."),
        ({"signature": "<script>"}, "Please do not use &lt; or &gt; here."),
        ({"signature": "签" * 121}, "At most 120 characters."),
        ({"closing": "谢" * 601}, "At most 600 characters."),
        ({"seal": "text, not a file"}, "Choose an image file from your phone or computer."),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(district, browse, data, message):
    d = district
    letter_settings.save(d.admin_a, d.a.id, VALUES, seal=image_bytes())
    before = (stored(d.a).signature, stored(d.a).seal_png, audits())
    response = browse(d.admin_a).post(
        f"/letters/settings?community={d.a.id}", data={**VALUES, **data}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and message in text(response)
    assert (stored(d.a).signature, stored(d.a).seal_png, audits()) == before


def test_a_seal_over_the_size_limit_is_refused(district, browse):
    d = district
    big = b"\x89PNG" + b"0" * letter_settings.SEAL_MAX_BYTES
    response = browse(d.admin_a).post(
        f"/letters/settings?community={d.a.id}",
        data={**VALUES, "seal": (io.BytesIO(big), "seal.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "at most 2 MB" in text(response) and stored(d.a) is None


def test_only_the_communitys_admin_sees_its_settings(district, browse):
    d = district
    url = f"/letters/settings?community={d.a.id}"
    assert browse(d.admin_b).get(url).status_code == 404
    assert browse(d.admin_b).post(url, data=VALUES).status_code == 404
    assert browse(d.steward_a).get(url).status_code == 403
    assert browse(d.member_a).post(url, data=VALUES).status_code == 403
    assert stored(d.a) is None
    assert browse(d.admin_a).get("/letters/settings?community=x").status_code == 404


def test_the_preview_link_shows_the_saved_settings(district, browse):
    d = district
    served(d.member_a, d.a, 1)
    letter_settings.save(d.admin_a, d.a.id, {**VALUES, "signature": "东一社区党委"})
    page = browse(d.admin_a).get(f"/letters/preview?community={d.a.id}&period={this_quarter().key}")
    assert page.status_code == 200 and "东一社区党委" in text(page)


def test_a_resave_without_changes_writes_nothing(district):
    d = district
    letter_settings.save(d.admin_a, d.a.id, VALUES)
    other_admin = factories.staff(Role.ADMIN, d.a)
    letter_settings.save(other_admin, d.a.id, VALUES)
    row = stored(d.a)
    assert row.updated_by_id == d.admin_a.id and audits() == 1


def test_a_post_without_the_fields_does_not_blank_the_settings(district, browse):
    d = district
    letter_settings.save(d.admin_a, d.a.id, VALUES)
    response = browse(d.admin_a).post(f"/letters/settings?community={d.a.id}", data={})
    assert response.status_code == 400 and "Send the settings from the settings page." in text(response)
    row = stored(d.a)
    assert (row.signature, row.contact, row.closing) == tuple(VALUES.values()) and audits() == 1
    # Fields sent empty are a choice: the standard wording.
    blank = {"signature": "", "contact": "", "closing": ""}
    assert browse(d.admin_a).post(f"/letters/settings?community={d.a.id}", data=blank).status_code == 303
    assert stored(d.a).signature == "" and audits() == 2
