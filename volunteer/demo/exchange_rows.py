"""Writing the planned demo supermarket as rows: vouchers, ledger entries, stock movements and audits."""

import secrets
from datetime import timedelta

from sqlalchemy import bindparam

from ..core.audit import record as audit
from ..core.audit import snapshot
from ..exchange.models import StockMovement, Voucher
from ..exchange.vouchers import new_code
from ..extensions import db
from ..ledger.models import LedgerEntry, PointsAccount
from .exchange_plans import ITEM_FIELDS, Move, Planned


class RowsPart:
    """The rows of what ExchangeBuilder planned, in the shapes the exchange services write them."""

    def write(self) -> dict[str, int]:
        for shelves in self.shelves.values():  # the eggs: exactly as many as were reserved, all gone
            for shelf in shelves:
                if shelf.sold_out and (taken := sum(p.shelf is shelf for p in self.planned)):
                    self._stock_in(shelf.community, shelf, shelf.opens, taken)
        db.session.flush()  # item ids
        self.planned.sort(key=lambda p: p.at)
        for planned in self.planned:
            planned.voucher = self._voucher(planned)
        db.session.flush()  # voucher ids, for the ledger keys and the movements
        self._post_points()
        stock_ins = self._write_movements()
        db.session.flush()  # movement ids, for the audit entries
        self._audits(stock_ins)
        return self._counts()

    def _voucher(self, p: Planned) -> Voucher:
        redeemed = p.state == "redeemed"
        voucher = Voucher(
            public_id=secrets.token_urlsafe(16),
            code=new_code(),
            community_id=p.shelf.item.community_id,
            item_id=p.shelf.item.id,
            user_id=p.account.user_id,
            price=p.shelf.item.price,
            state=p.state,
            expires_at=p.expires_at,
            redeemed_at=(p.end + timedelta(minutes=5) if p.undo else p.end) if redeemed else None,
            redeemed_by_id=self.stewards[p.shelf.item.community_id].id if redeemed else None,
            closed_at=p.end if p.state in ("cancelled", "expired") else None,
            reserved_by_id=getattr(p.reserved_by, "id", None),
            handovers=(2 if p.undo else 1) if redeemed else 0,
            created_at=p.at,
        )
        db.session.add(voucher)
        return voucher

    def _steps(self, p: Planned):
        """(at, step) for what happened to a voucher, in order: as reserve, hand_over, undo, cancel, expire_due do."""
        yield p.at, "reserve"
        if p.state == "redeemed":
            yield p.end, "handover"
            if p.undo:
                yield p.end + timedelta(minutes=3), "undo"
                yield p.end + timedelta(minutes=5), "handover"
        elif p.state in ("cancelled", "expired"):
            yield p.end, "release"

    def _post_points(self) -> None:
        """The entries ledger.services would post, in time order, then each account moved by their sums at once.

        Posting them one by one through ledger.post costs a second on PostgreSQL; the history Timelines
        have already shown every step affordable at its moment, and the accounts' CHECKs guard the result."""
        steps = [(at, n, i, step) for i, p in enumerate(self.planned) for n, (at, step) in enumerate(self._steps(p))]
        spent: dict[int, LedgerEntry] = {}
        moved: dict[int, list[int]] = {}  # account id -> [amount, held]
        for at, _n, index, step in sorted(steps):
            p = self.planned[index]
            voucher, price, steward = p.voucher, p.voucher.price, self.stewards[p.voucher.community_id]
            if step == "reserve":
                actor = p.reserved_by or p.account.user
                entry = self._entry(p, "hold", "hold", 0, price, at, actor, memo=p.shelf.item.name)
            elif step == "handover":
                key = f"spend:{2 if index in spent else 1}"
                entry = spent[index] = self._entry(p, "spend", key, -price, -price, at, steward)
            elif step == "undo":
                db.session.flush()  # the spend's id, which the reversal points at
                first = spent[index]
                entry = self._entry(p, "reversal", "", price, price, at, steward, memo=p.undo, reverses=first)
                before = {"redeemed_at": p.end.isoformat(), "redeemed_by_id": steward.id}
                audit(steward, "exchange.handover_undo", voucher, before=before, after={"reason": p.undo}).at = at
            else:
                actor = p.account.user if p.state == "cancelled" else None
                entry = self._entry(p, "release", "release", 0, -price, at, actor, memo=p.state)
            total = moved.setdefault(p.account.id, [0, 0])
            total[0] += entry.amount
            total[1] += entry.held_delta
        if not moved:
            return
        table = PointsAccount.__table__
        db.session.execute(
            table.update()
            .where(table.c.id == bindparam("account"))
            .values(balance=table.c.balance + bindparam("amount"), held=table.c.held + bindparam("held")),
            [{"account": key, "amount": amount, "held": held} for key, (amount, held) in moved.items()],
        )
        for account in (a for accounts in self.accounts.values() for a in accounts if a.id in moved):
            db.session.expire(account, ["balance", "held"])

    @staticmethod
    def _entry(p: Planned, kind, key, amount, held, at, actor, memo="", reverses=None) -> LedgerEntry:
        """One entry as the exchange services write it: keyed by its voucher and step, or a reversal's key."""
        source = reverses or p.voucher
        entry = LedgerEntry(
            account_id=p.account.id,
            kind=kind,
            amount=amount,
            held_delta=held,
            source_type=type(source).__name__,
            source_id=source.id,
            idempotency_key=f"reversal:{reverses.id}" if reverses else f"voucher:{p.voucher.id}:{key}",
            reverses_id=getattr(reverses, "id", None),
            actor_id=getattr(actor, "id", None),
            memo=memo[:300],
            at=at,
        )
        db.session.add(entry)
        return entry

    def _write_movements(self) -> list:
        """Each voucher's movements beside the items' own, then every item's counters from their sums;
        the stock-ins and stock-take counts, with the shelf's stock before them, for their audit entries."""
        for p in self.planned:
            steward = self.stewards[p.voucher.community_id]
            for at, step in self._steps(p):
                if step == "reserve":
                    move = Move(at, "reserve", -1, 1, 0, None, p, p.reserved_by or p.account.user, "")
                elif step == "handover":
                    move = Move(at, "handover", 0, -1, 1, None, p, steward, "")
                elif step == "undo":
                    move = Move(at, "undo", 0, 1, -1, None, p, steward, p.undo)
                else:
                    actor = p.account.user if p.state == "cancelled" else None
                    move = Move(at, "release", 1, -1, 0, None, p, actor, p.state)
                p.shelf.moves.append(move)
        stock_ins = []
        for shelf in (s for shelves in self.shelves.values() for s in shelves):
            moves = sorted(shelf.moves, key=lambda m: m.at)
            rows = [self._movement(shelf.item, move) for move in moves]
            db.session.add_all(rows)
            on_shelf = 0  # stock + reserved: what a stock-take counts
            for move, row in zip(moves, rows, strict=True):
                if row.kind in ("donation", "restock", "count"):
                    stock_ins.append((shelf, move.actor, row, on_shelf))
                on_shelf += row.stock_delta + row.reserved_delta
            shelf.item.stock = sum(m.stock_delta for m in rows)
            shelf.item.reserved = sum(m.reserved_delta for m in rows)
            shelf.item.issued = sum(m.issued_delta for m in rows)
        return stock_ins

    def _audits(self, stock_ins) -> None:
        """The entries volunteer.exchange.catalogue writes: the settings, each item saved (and the seasonal one
        taken off the shelf), each restock and donation, and each stock-take."""
        for community in self.communities:
            admin, days = self.admins[community.id], self.settings[community.id].voucher_days
            entry = audit(admin, "exchange.settings", self.settings[community.id], community_id=community.id)
            entry.after, entry.at = {"voucher_days": days}, self.at(self.start, 9)
        for shelf in (s for shelves in self.shelves.values() for s in shelves):
            admin = self.admins[shelf.item.community_id]
            saved = snapshot(shelf.item, *ITEM_FIELDS)
            audit(admin, "exchange.item_save", shelf.item, after=saved | {"active": True}).at = shelf.opens
            if shelf.closes:
                audit(
                    admin, "exchange.item_save", shelf.item, before=saved | {"active": True}, after=saved
                ).at = shelf.closes
        for shelf, actor, row, on_shelf in stock_ins:
            if row.kind == "count":
                counted = {"expected": on_shelf, "counted": on_shelf + row.stock_delta}
                after = {"reason": row.reason, "counted": 1, "differences": {str(shelf.item.id): counted}}
                entry = audit(
                    actor, "exchange.stocktake", shelf.community, community_id=shelf.community.id, after=after
                )
            else:
                after = {"kind": row.kind, "quantity": row.stock_delta, "unit_id": row.unit_id, "note": row.reason}
                entry = audit(actor, f"exchange.{row.kind}", shelf.item, after=after | {"movement_id": row.id})
            entry.at = row.at

    @staticmethod
    def _movement(item, move: Move) -> StockMovement:
        return StockMovement(
            item_id=item.id,
            kind=move.kind,
            stock_delta=move.stock,
            reserved_delta=move.reserved,
            issued_delta=move.issued,
            unit_id=getattr(move.unit, "id", None),
            voucher_id=move.planned.voucher.id if move.planned else None,
            actor_id=getattr(move.actor, "id", None),
            reason=move.reason,
            at=move.at,
        )

    def _counts(self) -> dict[str, int]:
        moves = [m for shelves in self.shelves.values() for s in shelves for m in s.moves]
        return {
            "exchange items": sum(len(s) for s in self.shelves.values()),
            "vouchers": len(self.planned),
            "hand-overs": sum(p.state == "redeemed" for p in self.planned),
            "donations": sum(m.kind == "donation" for m in moves),
        }
