"""Menu links of the credit pages, per role, with the number of declarations waiting."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..accounts.models import Role
from ..core import permissions as perm
from .access import resident_community


def credit_links(user) -> list[tuple[str, str]]:
    from .views import queue_count  # noqa: PLC0415 - views import this package at load

    items = []
    if resident_community(user) is not None:
        items += [(url_for("credit.declare"), _l("Declare")), (url_for("credit.mine"), _l("My declarations"))]
    if perm.community_ids(user, Role.COLLECTOR):
        n = queue_count(user, Role.COLLECTOR)
        items.append((url_for("credit.collector_queue"), _l("To check (%(n)d)", n=n)))
    if perm.community_ids(user, Role.COUNCIL):
        n = queue_count(user, Role.COUNCIL)
        items.append((url_for("credit.council_queue"), _l("To assess (%(n)d)", n=n)))
    if perm.community_ids(user, Role.ADMIN):
        n = queue_count(user, Role.ADMIN)
        items += [
            (url_for("credit.admin_queue"), _l("To decide (%(n)d)", n=n)),
            (url_for("credit.indicators"), _l("Indicators")),
        ]
    return items
