"""Forms of the resident's pages: reserving an item (with its one-time request key) and one-button posts."""

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Regexp


class ActionForm(FlaskForm):
    """A one-button post (cancel a voucher): nothing but the CSRF token."""


class ReserveForm(FlaskForm):
    # Made when the page renders: a double click or a retried POST carries the same key,
    # and the service answers it with the voucher the first one made.
    request_key = HiddenField(
        validators=[
            InputRequired(message=_l("This form is incomplete. Please reload the page and try again.")),
            Regexp(r"^[0-9a-f]{32}$", message=_l("This form is incomplete. Please reload the page and try again.")),
        ]
    )

    @classmethod
    def fresh(cls) -> "ReserveForm":
        return cls(formdata=None, request_key=uuid.uuid4().hex)
