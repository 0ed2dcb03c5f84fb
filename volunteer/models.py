"""Import every model so SQLAlchemy metadata (and Alembic) sees the whole schema."""

from .accounts.models import RoleGrant, User  # noqa: F401
from .core.audit import AuditEntry  # noqa: F401
from .credit.models import Declaration, DeclarationEvent, DeclarationPhoto, Indicator  # noqa: F401
from .exchange.models import ExchangeSettings, Item, StockMovement, Voucher  # noqa: F401
from .ledger.models import LedgerEntry, PointsAccount, PointsPolicy  # noqa: F401
from .letters.models import Document, Email, LetterBatch, LetterSettings  # noqa: F401
from .org.models import Agreement, Building, Community, Compound, MemberReport, Street, Unit  # noqa: F401
from .service.models import (  # noqa: F401
    Activity,
    Need,
    Order,
    OrderTake,
    Project,
    ProjectClaim,
    Resource,
    ServicePolicy,
    ServiceRecord,
    Signup,
)
