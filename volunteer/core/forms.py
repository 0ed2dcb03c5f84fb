"""Shared form pieces: field validators with translated messages."""

from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, Length, ValidationError

from . import phone as phones


def required():
    return DataRequired(message=_l("This field is required."))


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
