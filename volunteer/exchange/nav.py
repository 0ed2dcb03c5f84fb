"""Menu links of the supermarket: shopping and vouchers for members, the desk and catalogue for its staff."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..service.nav import desk_community_ids
from .access import shop_community_ids


def exchange_links(user) -> list[tuple[str, object]]:
    items = []
    if shop_community_ids(user):
        items += [(url_for("exchange.shop"), _l("Supermarket")), (url_for("exchange.my_vouchers"), _l("My vouchers"))]
    if desk_community_ids(user):  # one's own steward or admin grant: organisers do not staff a desk
        items += [(url_for("exchange.desk"), _l("Exchange desk")), (url_for("exchange.items"), _l("Catalogue"))]
    return items
