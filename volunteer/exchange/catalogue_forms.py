"""Forms of the steward's catalogue pages: an item, adding stock, a stock-take, the community's settings."""

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from ..core.forms import PlaceholderSelect, clean, lines_field, max_len, no_markup, plain_text, required
from .catalogue import MAX_COUNT, MAX_LIMIT, MAX_PRICE, MAX_QUANTITY, NOTE_MAX
from .models import CATEGORIES, LIMIT_PERIODS
from .views import CATEGORY_LABELS

PERIOD_CHOICES = {"none": _l("in all (no period)"), "month": _l("per month"), "year": _l("per year")}


def _number(label, low: int, high: int, *, optional=False, **kw):
    first = Optional() if optional else InputRequired(message=_l("This field is required."))
    message = _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    return IntegerField(
        label,
        validators=[first, NumberRange(low, high, message=message)],
        render_kw={"inputmode": "numeric", "min": low, "max": high},
        **kw,
    )


def _note(label, length: int, *, optional=True, **kw):
    return lines_field(label, length, optional=optional, rows=2, **kw)


def file_only(form, field):
    """A file box sends a file. Text under its name is not a photo (and browsers never send it)."""
    if any(v for v in request.form.getlist(field.name)):
        raise ValidationError(_l("Choose a photo from your phone or computer."))


class ItemForm(FlaskForm):
    # A service's error code -> the field it belongs to.
    field_of = {
        "bad_name": "name",
        "bad_category": "category",
        "bad_description": "description",
        "bad_price": "price",
        "bad_limit": "per_person_limit",
        "bad_period": "limit_period",
        "bad_window": "available_until",
        "photo_invalid": "photo",
        "photo_too_large": "photo",
        "photo_too_big": "photo",
        "photo_empty": "photo",
    }
    name = StringField(
        _l("Name"),
        filters=[clean],
        validators=[required(), max_len(80), no_markup, plain_text],
        render_kw={"maxlength": 80},
    )
    category = SelectField(_l("Category"), validators=[required()], widget=PlaceholderSelect(_l("Choose a category")))
    description = _note(_l("Description"), 500, description=_l("What it is, its size or brand, how to use it."))
    price = _number(_l("Price in points"), 1, MAX_PRICE)
    per_person_limit = _number(
        _l("Limit per person"), 1, MAX_LIMIT, optional=True, description=_l("Leave empty for no limit.")
    )
    limit_period = SelectField(_l("Limit period"), default="none")
    available_from = DateField(_l("On sale from"), validators=[Optional()], description=_l("Leave empty: from now."))
    available_until = DateField(
        _l("On sale until"), validators=[Optional()], description=_l("Leave empty: until taken off sale.")
    )
    active = BooleanField(_l("On sale"), default=True)
    photo = FileField(
        _l("Photo"),
        validators=[file_only],
        description=_l("Optional: JPEG, PNG or WebP, at most 5 MB. Location data is removed."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    remove_photo = BooleanField(_l("Remove the current photo"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]
        self.limit_period.choices = [(p, PERIOD_CHOICES[p]) for p in LIMIT_PERIODS]

    def validate_available_until(self, field):
        if field.data and self.available_from.data and field.data < self.available_from.data:
            raise ValidationError(_l("The last day must be on or after the first day."))

    def fields(self) -> dict:
        return {
            "name": self.name.data,
            "category": self.category.data,
            "description": self.description.data or "",
            "price": self.price.data,
            "per_person_limit": self.per_person_limit.data,
            "limit_period": self.limit_period.data,
            "available_from": self.available_from.data,
            "available_until": self.available_until.data,
            "active": bool(self.active.data),
            "remove_photo": bool(self.remove_photo.data),
        }


class NewItemForm(ItemForm):
    community = SelectField(
        _l("Community"), coerce=int, validators=[required()], widget=PlaceholderSelect(_l("Choose a community"))
    )


class StockForm(FlaskForm):
    field_of = {"bad_kind": "kind", "bad_quantity": "quantity", "bad_unit": "unit", "bad_note": "note"}
    kind = RadioField(
        _l("Where the goods come from"),
        choices=[("restock", _l("Restock: bought by the community")), ("donation", _l("Donation from a unit"))],
        default="restock",
        validators=[InputRequired(message=_l("Choose restock or donation."))],
    )
    unit = SelectField(_l("Donated by"), coerce=int, default=0, description=_l("Required for a donation."))
    quantity = _number(_l("Quantity"), 1, MAX_QUANTITY)
    note = _note(_l("Note"), NOTE_MAX, description=_l("Optional: an invoice number, a batch, who delivered it."))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        # 0 stands for "no unit": an empty select value would not coerce to int.
        self.unit.choices = [(0, _l("No unit (a restock)")), *((u.id, u.name) for u in units)]

    def validate_unit(self, field):
        if self.kind.data == "donation" and not field.data:
            raise ValidationError(_l("Choose the unit that donated the goods."))


class StocktakeForm(FlaskForm):
    """One reason for the whole count; count_<id> and seen_<id> fields are added per item by stocktake_form()."""

    field_of = {"bad_reason": "reason"}
    reason = _note(
        _l("Reason for the count"),
        NOTE_MAX,
        optional=False,
        description=_l("For example: monthly stock-take, or goods found damaged."),
    )


def stocktake_form(items, **kwargs) -> StocktakeForm:
    """A stock-take form with a count box per item, and the expected count the page showed (hidden)."""

    class Form(StocktakeForm):
        pass

    for item in items:
        setattr(Form, f"count_{item.id}", _number(item.name, 0, MAX_COUNT, optional=True))
        setattr(Form, f"seen_{item.id}", HiddenField(filters=[_int_or_none]))
    return Form(**kwargs)


def _int_or_none(value):
    """The expected count the page showed; anything else is ignored (then the count is not cross-checked)."""
    if isinstance(value, int):
        return value
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class SettingsForm(FlaskForm):
    field_of = {"bad_days": "voucher_days"}
    voucher_days = _number(
        _l("Days a voucher stays valid"),
        1,
        90,
        description=_l("After this many days an unused voucher expires: its points and stock are given back."),
    )
