"""Shared form pieces: field validators with translated messages."""

import unicodedata

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError
from wtforms.widgets import Select

from . import phone as phones


class Required(DataRequired):
    """Data must be present and must come from this request.

    DataRequired alone passes an empty POST to an edit form, since the form is filled from the
    object being edited; that would "save" nothing and audit it.
    """

    def __call__(self, form, field):
        if not field.raw_data or not any(str(v).strip() for v in field.raw_data):
            field.errors[:] = []
            raise StopValidation(self.message)
        super().__call__(form, field)


def required():
    return Required(message=_l("This field is required."))


def max_len(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def mobile(form, field):
    value = phones.normalise(field.data)
    if not phones.is_valid(value):
        raise ValidationError(_l("Enter an 11-digit mainland mobile number, such as 13812345678."))
    field.data = value


def no_markup(form, field):
    """Names and titles are plain text: refuse angle brackets rather than store markup."""
    if field.data and any(ch in field.data for ch in "<>"):
        raise ValidationError(_l("Please do not use < or > here."))


def clean(value):
    """Trim and compose Unicode (NFC) so look-alike spellings of one name compare equal."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def _plain(multiline: bool):
    allowed = "\n\r\t" if multiline else ""

    def check(form, field):
        # Control, format (zero-width, bidi overrides), private-use and unassigned characters
        # hide or reorder text on other people's screens; nobody types them on purpose.
        for ch in field.data or "":
            if ch not in allowed and unicodedata.category(ch).startswith("C"):
                raise ValidationError(_l("This contains invisible or control characters. Please retype it."))

    return check


plain_text = _plain(multiline=False)
plain_lines = _plain(multiline=True)


class PlaceholderSelect(Select):
    """A <select> that starts on "choose one" instead of silently on its first option."""

    def __init__(self, placeholder):
        super().__init__()
        self.placeholder = placeholder

    def __call__(self, field, **kwargs):
        html = str(super().__call__(field, **kwargs))
        selected = " selected" if field.data in (None, "", 0) else ""
        option = f'<option value=""{selected}>{escape(str(self.placeholder))}</option>'
        cut = html.index(">") + 1
        return Markup(html[:cut] + option + html[cut:])


def text_field(label, length: int, *, optional: bool = False, **kw):
    """A one-line text field: trimmed, at most `length` characters, no markup or control characters."""
    first = [] if optional else [required()]
    return StringField(
        label,
        filters=[clean],
        validators=[*first, max_len(length), no_markup, plain_text],
        render_kw={"maxlength": length},
        **kw,
    )


def lines_field(label, length: int, *, optional: bool = False, rows: int = 3, **kw):
    """A multi-line text field with the same rules, line breaks allowed."""
    first = [] if optional else [required()]
    return TextAreaField(
        label,
        filters=[clean],
        validators=[*first, max_len(length), no_markup, plain_lines],
        render_kw={"rows": rows, "maxlength": length},
        **kw,
    )
