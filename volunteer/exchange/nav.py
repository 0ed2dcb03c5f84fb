"""Menu links of the supermarket: shopping and vouchers for members, the desk and catalogue for its staff."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..accounts.models import Role
from .access import shop_community_ids


def exchange_links(user) -> list[tuple[str, object]]:
    items = []
    if shop_community_ids(user):
        items += [(url_for("exchange.shop"), _l("Supermarket")), (url_for("exchange.my_vouchers"), _l("My vouchers"))]
    # Organisers oversee communities but do not staff a desk: only a steward or admin grant of one's own.
    if any(r.role in (Role.STEWARD, Role.ADMIN) and r.community_id for r in user.roles):
        items += [(url_for("exchange.desk"), _l("Exchange desk")), (url_for("exchange.items"), _l("Catalogue"))]
    return items
