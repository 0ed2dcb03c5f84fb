"""The benchmark's world, built in-process through the services, and what is measured in-process.

One community with an admin and a steward, residents with points, items with stock; then the SQL
statements of one hand-over (desk.hand_over alone, and a whole POST /exchange/desk/handover
request), and whether the books still balance after the load.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event, func, select
from sqlalchemy.orm import joinedload

from volunteer import create_app
from volunteer.accounts import services as accounts
from volunteer.accounts.models import Role, User
from volunteer.exchange import catalogue, desk, vouchers
from volunteer.exchange.models import Item, StockMovement, Voucher
from volunteer.extensions import db
from volunteer.ledger import services as ledger
from volunteer.ledger.verify import mismatches
from volunteer.org import services as org
from volunteer.org.models import Building, Community, Compound, Street

PASSWORD = "bench-pass-123"
PRICE = 10
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def make_app(url: str, secret: str):
    """The app in this process, on the bench database: cheap password hashes (logins are not what is timed)."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secret,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,  # only the in-process test client posts here; gunicorn keeps CSRF on
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
        }
    )


@dataclass
class World:
    community_id: int
    admin_id: int
    steward_id: int
    steward_phone: str
    resident_ids: list[int]
    resident_phones: list[str]
    item_ids: list[int]


def build(app, *, residents: int, items: int, reservations: int) -> World:
    """Seed enough residents, points and stock for `reservations` vouchers plus two measured in-process."""
    each = math.ceil(reservations / residents) + 2
    with app.app_context():
        community, building, admin, steward = one_community()
        people = [resident(building, f"137{i:08d}", f"居民{i}") for i in range(1, residents + 1)]
        for person in people:
            ledger.adjust_points(person, community.id, each * PRICE, "压测积分", admin, key=f"bench:{person.id}")
        stocked = [_item(steward, community.id, f"压测物品{i}", reservations + 10) for i in range(1, items + 1)]
        world = World(
            community.id,
            admin.id,
            steward.id,
            steward.phone,
            [p.id for p in people],
            [p.phone for p in people],
            stocked,
        )
        db.session.remove()
    return world


def one_community():
    """A street, its community, a compound with one building, the community's admin and steward (in an app context)."""
    street = org.create(Street, None, name="压测街道")
    community = org.create(Community, None, street_id=street.id, name="压测社区")
    compound = org.create(Compound, None, community_id=community.id, name="压测小区")
    building = org.create(Building, None, compound_id=compound.id, name="1栋")
    admin = resident(building, "13600000001", "压测主任")
    accounts.grant_role(admin, Role.ADMIN, admin, community_id=community.id)  # the founding admin
    steward = resident(building, "13600000002", "压测管家")
    accounts.grant_role(steward, Role.STEWARD, admin, community_id=community.id)
    return community, building, admin, steward


def resident(building: Building, phone: str, name: str, party_member: bool = False) -> User:
    return accounts.register_resident(
        phone=phone, name=name, password=PASSWORD, building=building, party_member=party_member
    )


def _item(steward, community_id: int, name: str, units: int) -> int:
    item = catalogue.save_item(steward, community_id, {"name": name, "category": "daily", "price": PRICE})
    catalogue.add_stock(steward, item.id, units, kind="restock", note="压测上架")
    return item.id


def open_tokens(app) -> list[str]:
    """The QR token of every reserved voucher, oldest first: what the stewards will scan."""
    with app.app_context():
        found = db.session.scalars(select(Voucher).where(Voucher.state == "reserved").order_by(Voucher.id))
        tokens = [vouchers.qr_token(v) for v in found]
        db.session.remove()
    return tokens


# --- counting statements ---------------------------------------------------------------------------


@dataclass
class Statements:
    """What the database was sent while counting: statements, and transactions as the driver ran them."""

    sent: list[str] = field(default_factory=list)
    begun: int = 0
    committed: int = 0
    rolled_back: int = 0
    checkouts: int = 0  # connections taken from the pool: with pool_pre_ping each is a SELECT 1 first

    @property
    def control(self) -> list[str]:
        return [s for s in self.sent if s.lstrip().upper().startswith(CONTROL)]

    @property
    def data(self) -> list[str]:
        return [s for s in self.sent if not s.lstrip().upper().startswith(CONTROL)]

    def as_dict(self) -> dict:
        return {
            "total": len(self.sent),
            "data": len(self.data),
            "control": [" ".join(s.split()) for s in self.control],
            "transactions_begun": self.begun,
            "commits": self.committed,
            "rollbacks": self.rolled_back,
            "pool_checkouts": self.checkouts,
            "sql": [" ".join(s.split()) for s in self.sent],
        }


@contextmanager
def counting(engine) -> Iterator[Statements]:
    seen = Statements()

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.sent.append(statement)

    def on_begin(conn):
        seen.begun += 1

    def on_commit(conn):
        seen.committed += 1

    def on_rollback(conn):
        seen.rolled_back += 1

    def on_checkout(dbapi_conn, record, proxy):
        seen.checkouts += 1

    hooks = [("before_cursor_execute", on_execute), ("begin", on_begin), ("commit", on_commit)]
    hooks += [("rollback", on_rollback), ("checkout", on_checkout)]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield seen
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


def _reserve_one(app, world: World, n: int) -> str:
    with app.app_context():
        resident = db.session.get(User, world.resident_ids[n % len(world.resident_ids)])
        token = vouchers.qr_token(vouchers.reserve(resident, world.item_ids[0]))
        db.session.remove()
    return token


def reserve_tokens(app, world: World, count: int) -> list[str]:
    """`count` more vouchers reserved in-process (residents and items in turn): their QR tokens."""
    with app.app_context():
        residents = [db.session.get(User, user_id) for user_id in world.resident_ids]
        tokens = []
        for n in range(count):
            voucher = vouchers.reserve(residents[n % len(residents)], world.item_ids[n % len(world.item_ids)])
            tokens.append(vouchers.qr_token(voucher))
        db.session.remove()
    return tokens


def handover_statements(app, world: World) -> Statements:
    """desk.hand_over() alone, with the steward loaded first as a request's user loader does (roles included)."""
    token = _reserve_one(app, world, 0)
    with app.app_context():
        steward = db.session.get(User, world.steward_id, options=[joinedload(User.roles)])
        with counting(db.engine) as seen:
            answer = desk.hand_over(steward, token)
        if not answer.ok:
            raise RuntimeError(f"the measured hand-over was refused: {answer.reason}")
        db.session.remove()
    return seen


def request_statements(app, world: World) -> Statements:
    """A whole POST /exchange/desk/handover (JSON) through the in-process test client: login, session, answer."""
    token = _reserve_one(app, world, 1)
    client = app.test_client()
    login = client.post("/login", data={"phone": world.steward_phone, "password": PASSWORD})
    if login.status_code not in (302, 303):
        raise RuntimeError(f"in-process login answered {login.status_code}")
    with app.app_context():
        engine = db.engine
    with counting(engine) as seen:
        answer = client.post("/exchange/desk/handover", json={"value": token}, headers={"Accept": "application/json"})
    if answer.status_code != 200:
        raise RuntimeError(f"the measured hand-over request answered {answer.status_code}")
    return seen


# --- the books after the load ----------------------------------------------------------------------


def books(app) -> dict:
    """Ledger mismatches, items whose counters differ from their movements, and voucher states."""
    with app.app_context():
        sums = (
            select(
                StockMovement.item_id,
                func.sum(StockMovement.stock_delta).label("s"),
                func.sum(StockMovement.reserved_delta).label("r"),
                func.sum(StockMovement.issued_delta).label("i"),
            )
            .group_by(StockMovement.item_id)
            .subquery()
        )
        rows = db.session.execute(
            select(Item.stock, Item.reserved, Item.issued, sums.c.s, sums.c.r, sums.c.i).outerjoin(
                sums, sums.c.item_id == Item.id
            )
        )
        off = sum(1 for a, b, c, x, y, z in rows if (a, b, c) != (x or 0, y or 0, z or 0))
        states = dict(db.session.execute(select(Voucher.state, func.count(Voucher.id)).group_by(Voucher.state)).all())
        result = {"ledger_mismatches": len(mismatches()), "items_off": off, "vouchers": states}
        db.session.remove()
        db.engine.dispose()
    return result
