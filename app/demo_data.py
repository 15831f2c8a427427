"""Sample data for `fidus demo`, made through the same use cases the API runs (so the
ledger, fund arithmetic, audit trail and live updates hold as for real data).

Idempotent: everything is looked up by a natural key (email, name, idempotency key)
first, so a second run adds nothing. Every run sets new generated passwords for the
tenant's ADMIN and the first investor, and returns them to be shown."""

import contextlib
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from beanie import PydanticObjectId
from starlette.datastructures import UploadFile

from models.crm import FUNNEL, Prospect, ProspectStage
from models.documents.records import DocumentCategory, DocumentRecord
from models.errors import Conflict
from models.events import Event, EventStatus
from models.funds.payouts import add_months
from models.investments import Investment
from models.opportunities import Opportunity, OpportunityStatus
from models.portfolios.ledger import TransactionType
from models.tenants import Tenant
from models.users import KycStatus, Role, User
from resolvers.core.context import Principal, RequestContext, Services
from resolvers.crm import pipeline as crm
from resolvers.documents import library as documents
from resolvers.documents import signing as document_signing
from resolvers.events import catalog as events
from resolvers.identity.passwords import reset_password_by_operator
from resolvers.identity.tenants import NewTenant, create_tenant
from resolvers.investments.investing import NewInvestment, create_investment, readiness_gaps
from resolvers.opportunities import deals as opportunities
from resolvers.portfolios.defaults import default_portfolio
from resolvers.portfolios.ledger import NewTransaction, record_transaction
from resolvers.users.people import NewUser, create_user, review_kyc

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "XAGUSD", "US500", "BTCUSD", "ETHUSD"]
REASON = "demo data"


@dataclass(frozen=True)
class Holding:
    symbol: str
    quantity: str
    price: str  # cost price, near the simulator's start price


@dataclass(frozen=True)
class Investor:
    name: str
    cash: str  # deposited into the main portfolio, then partly spent on the holdings
    holdings: tuple[Holding, ...]
    funds: tuple[tuple[str, str, int], ...]  # (fund code, amount, deposited months ago)


INVESTORS = (
    Investor(
        "Amelia Hart",
        "60000.00",
        (
            Holding("EURUSD", "20000", "1.0815"),
            Holding("XAUUSD", "5", "2285.40"),
            Holding("US500", "2", "5150.25"),
            Holding("BTCUSD", "0.1", "58750.00"),
        ),
        (("CORE", "25000.00", 5), ("BALANCE", "50000.00", 3)),
    ),
    Investor(
        "Daniel Okafor",
        "30000.00",
        (
            Holding("GBPUSD", "10000", "1.2650"),
            Holding("XAGUSD", "200", "26.850"),
            Holding("ETHUSD", "2", "2950.00"),
        ),
        (("CORE", "15000.00", 4),),
    ),
    Investor(
        "Sofia Lindqvist",
        "40000.00",
        (Holding("XAUUSD", "8", "2310.10"), Holding("US500", "3", "5185.50")),
        (("BALANCE", "75000.00", 6),),
    ),
)
ADVISOR = "Marcus Reed"
PROSPECTS = (
    ("Olivia Brennan", "50000.00", ProspectStage.LEAD),
    ("Hiro Tanaka", "120000.00", ProspectStage.QUALIFIED),
    ("Lena Fischer", "250000.00", ProspectStage.PROPOSAL),
    ("Mateo Rossi", "80000.00", ProspectStage.NEGOTIATION),
    ("Grace Mwangi", "30000.00", ProspectStage.LOST),
)
OPPORTUNITY = "Alpine Solar Portfolio II"
EVENT = "Quarterly market outlook"
AGREEMENT = b"Fidus subscription agreement (demo)\n\nThe investor subscribes to Fidus funds.\n"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    tenant_id: PydanticObjectId
    admin: DemoLogin
    investor: DemoLogin
    portfolio_id: str  # the investor's main portfolio


def _email(name: str, slug: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{slug}.fidus.local"


async def seed_demo(services: Services, slug: str) -> DemoTenant:
    """Create tenant ``slug`` if needed and fill it; returns fresh credentials."""
    tenant = await Tenant.find_one({"slug": slug})
    if tenant is None:
        new = NewTenant(slug, f"admin@{slug}.fidus.local", secrets.token_urlsafe(18), "Demo")
        with contextlib.suppress(Conflict):  # created meanwhile (the server's first start)
            await create_tenant(services, new)
        tenant = await Tenant.find_one({"slug": slug})
    assert tenant is not None and tenant.id is not None
    admins = User.find({"tenant_id": tenant.id, "role": Role.ADMIN.value, "erasure": None})
    admin = await admins.sort("_id").first_or_none()
    assert admin is not None, f"tenant '{slug}' has no ADMIN"
    ctx = RequestContext(services, request_id="fidus-demo", user_agent="fidus demo")
    ctx.principal = Principal(admin, None)
    advisor = await _user(ctx, _email(ADVISOR, slug), ADVISOR, Role.MANAGER)
    investors = [await _investor(ctx, slug, spec) for spec in INVESTORS]
    await _pipeline(ctx, advisor)
    await _opportunity(ctx)
    await _event(ctx)
    logins = []
    for user in (admin, investors[0]):
        password = secrets.token_urlsafe(18)
        await reset_password_by_operator(ctx, slug, user.email, password)
        logins.append(DemoLogin(user.email, password))
    portfolio = await default_portfolio(investors[0])
    return DemoTenant(slug, tenant.id, logins[0], logins[1], str(portfolio.id))


async def _user(ctx: RequestContext, email: str, name: str, role: Role) -> User:
    """Created without a password: they get an invitation, as from the API."""
    assert ctx.principal is not None
    found = await User.find_one({"tenant_id": ctx.principal.tenant_id, "email": email})
    return found or await create_user(ctx, NewUser(email=email, full_name=name, role=role))


async def _investor(ctx: RequestContext, slug: str, spec: Investor) -> User:
    investor = await _user(ctx, _email(spec.name, slug), spec.name, Role.INVESTOR)
    if investor.kyc_status is not KycStatus.APPROVED:
        investor = await review_kyc(ctx, str(investor.id), KycStatus.APPROVED, REASON)
    if await readiness_gaps(investor):
        await _sign_agreement(ctx, investor)
    for fund, amount, months_ago in spec.funds:
        await _invest(ctx, investor, fund, Decimal(amount), months_ago)
    await _holdings(ctx, investor, spec)
    return investor


async def _sign_agreement(ctx: RequestContext, investor: User) -> None:
    """Issued by the ADMIN, signed by the investor (typed name and consent)."""
    agreement = await DocumentRecord.find_one(
        {
            "tenant_id": investor.tenant_id,
            "owner_id": investor.id,
            "category": DocumentCategory.AGREEMENT.value,
        }
    )
    if agreement is None:
        upload = UploadFile(io.BytesIO(AGREEMENT), filename="subscription-agreement.txt")
        agreement = await documents.upload(
            ctx, upload, DocumentCategory.AGREEMENT, str(investor.id)
        )
    as_investor = RequestContext(ctx.services, ctx.request_id, user_agent=ctx.user_agent)
    as_investor.principal = Principal(investor, None)
    await document_signing.sign(as_investor, str(agreement.id), investor.full_name, True)


async def _invest(
    ctx: RequestContext, investor: User, fund: str, amount: Decimal, months_ago: int
) -> None:
    key = f"demo-{investor.id}-{fund.lower()}"
    if await Investment.find_one({"tenant_id": investor.tenant_id, "idempotency_key": key}):
        return  # made by an earlier run (perhaps on another day: another deposit date)
    deposit = add_months(ctx.now().date(), -months_ago)
    reason = f"{REASON}: a deposit made before the demo started"
    new = NewInvestment(str(investor.id), fund, amount, deposit, key, backdate_reason=reason)
    await create_investment(ctx, new)


async def _holdings(ctx: RequestContext, investor: User, spec: Investor) -> None:
    """A deposit into the main portfolio, then one purchase per holding (a replay of the
    same idempotency key returns the first transaction, so nothing is bought twice)."""
    portfolio = str((await default_portfolio(investor)).id)
    deposit = NewTransaction(
        portfolio, TransactionType.DEPOSIT, "demo-deposit", amount=Decimal(spec.cash)
    )
    await record_transaction(ctx, deposit)
    for held in spec.holdings:
        buy = NewTransaction(
            portfolio,
            TransactionType.BUY,
            f"demo-buy-{held.symbol.lower()}",
            symbol=held.symbol,
            quantity=Decimal(held.quantity),
            price=Decimal(held.price),
        )
        await record_transaction(ctx, buy)


async def _pipeline(ctx: RequestContext, advisor: User) -> None:
    """Prospects owned by the advisor, each moved step by step to its stage when created
    (later moves, say in GraphiQL, are left alone)."""
    assert ctx.principal is not None
    for name, expected, stage in PROSPECTS:
        email = f"{name.lower().replace(' ', '.')}@example.com"
        criteria = {"tenant_id": ctx.principal.tenant_id, "email": email}
        if await Prospect.find_one(criteria) is not None:
            continue
        new = crm.NewProspect(name, email, Decimal(expected), str(advisor.id))
        prospect = await crm.create(ctx, new)
        path = [ProspectStage.LOST] if stage is ProspectStage.LOST else FUNNEL[1:]
        for step in path:
            if prospect.stage is stage:
                break
            prospect = await crm.move(ctx, str(prospect.id), step)


async def _opportunity(ctx: RequestContext) -> None:
    assert ctx.principal is not None
    found = await Opportunity.find_one({"tenant_id": ctx.principal.tenant_id, "name": OPPORTUNITY})
    if found is None:
        fields = opportunities.OpportunityFields(
            name=OPPORTUNITY,
            description="Utility-scale solar parks in the Alps with 20-year feed-in contracts.",
            sector="Renewable energy",
            target_raise=Decimal("2500000.00"),
            minimum_investment=Decimal("25000.00"),
            closes_at=ctx.now() + timedelta(days=90),
        )
        found = await opportunities.create(ctx, fields)
    if found.status is OpportunityStatus.DRAFT:
        await opportunities.publish(ctx, str(found.id))


async def _event(ctx: RequestContext) -> None:
    """An upcoming webinar (a new one once the last has ended)."""
    assert ctx.principal is not None
    found = await Event.find_one(
        {"tenant_id": ctx.principal.tenant_id, "title": EVENT, "ends_at": {"$gt": ctx.now()}}
    )
    if found is None:
        day = ctx.now().date() + timedelta(days=14)
        starts = datetime.combine(day, time(15, 0), tzinfo=UTC)
        fields = events.EventFields(
            title=EVENT,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            description="Our portfolio managers on rates, gold and equities for the quarter.",
            is_virtual=True,
            room_url="https://meet.example.com/fidus-quarterly-outlook",
            capacity=100,
            set_capacity=True,
        )
        found = await events.create(ctx, fields)
    if found.status is EventStatus.DRAFT:
        await events.publish(ctx, str(found.id))
