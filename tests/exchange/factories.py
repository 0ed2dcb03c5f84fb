"""Factories for the exchange: items with stock, funded accounts."""

from volunteer.core.database import begin_write
from volunteer.exchange import stock
from volunteer.exchange.models import Item
from volunteer.extensions import db
from volunteer.ledger import services as ledger

from .. import factories


def item(community, *, units=10, price=20, **kw) -> Item:
    kw.setdefault("name", f"物品{factories.n()}")
    kw.setdefault("category", "daily")
    row = factories._commit(Item(community_id=community.id, price=price, stock=0, reserved=0, issued=0, **kw))
    if units:
        begin_write()
        stock.move(row.id, "restock", stock=units, reason="上架")
        db.session.commit()
        db.session.refresh(row)
    return row


def fund(user, community, points: int) -> None:
    begin_write()
    account = ledger.account_for(user.id, community.id)
    ledger.earn(account, points, kind="earn_credit", key=f"fund:{user.id}:{community.id}:{factories.n()}")
    db.session.commit()
