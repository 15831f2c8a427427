"""An investor's default portfolio ("Main") comes with the investor: createUser and
convertProspect create it with the user, investors from before that get it from the
start-up pass, and myPortfolios is a read that creates nothing."""

import asyncio
import uuid

from beanie import PydanticObjectId

from models.portfolios.records import Portfolio
from models.users import Role, User, search_terms
from resolvers.portfolios.defaults import backfill_default_portfolios
from tests.crm.support import CONVERT, won
from tests.support.portfolios import MINE
from tests.support.users import CREATE_USER


async def portfolios_of(user_id: str) -> list[Portfolio]:
    return await Portfolio.find({"owner_id": PydanticObjectId(user_id)}).to_list()


async def investor_from_before(world, tenant: str = "acme") -> User:
    """An investor as created before portfolios came with the investor: none."""
    admin = await User.get(world(tenant, "admin").id)
    email = f"early-{uuid.uuid4().hex[:8]}@{tenant}.test"
    user = User(
        tenant_id=admin.tenant_id,
        email=email,
        full_name="Early Investor",
        role=Role.INVESTOR,
        base_currency="CHF",
        password_hash=(await User.get(world(tenant, "investor").id)).password_hash,
        search=search_terms("early investor", email),
    )
    await user.insert()
    return user


async def test_a_created_investor_has_exactly_one_portfolio_at_once(api, world):
    email = f"new-{uuid.uuid4().hex[:8]}@acme.test"
    payload = {"email": email, "fullName": "New Investor", "role": "INVESTOR", "password": None}
    created = await api.gql(CREATE_USER, {"i": payload}, token=world("acme", "manager").token)
    user_id = created.ok()["createUser"]["id"]
    [portfolio] = await portfolios_of(user_id)  # before any read of the investor's
    assert (portfolio.name, portfolio.is_default, str(portfolio.id)) == ("Main", True, user_id)
    assert str(portfolio.cash) == "0.00" and portfolio.base_currency == "USD"
    again = await api.gql(CREATE_USER, {"i": payload}, token=world("acme", "admin").token)
    assert again.code == "CONFLICT"  # the same email again: no second user, no portfolio
    assert len(await portfolios_of(user_id)) == 1


async def test_staff_users_get_no_portfolio(api, world):
    for role in ("MANAGER", "ANALYST", "ADMIN"):
        payload = {"email": f"{role.lower()}-new@acme.test", "fullName": "Staff", "role": role}
        created = await api.gql(CREATE_USER, {"i": payload}, token=world("acme", "admin").token)
        assert await portfolios_of(created.ok()["createUser"]["id"]) == []


async def test_a_converted_prospect_has_exactly_one_portfolio(api, world):
    prospect = await won(api, world)
    tokens = [world("acme", "manager").token, world("acme", "admin").token] * 3
    results = await asyncio.gather(
        *(api.gql(CONVERT, {"id": prospect["id"]}, token=t) for t in tokens)
    )
    [user] = [r.data["convertProspect"] for r in results if not r.errors]
    [portfolio] = await portfolios_of(user["id"])
    assert (portfolio.name, portfolio.is_default) == ("Main", True)
    replay = await api.gql(CONVERT, {"id": prospect["id"]}, token=tokens[0])
    assert replay.code == "CONFLICT"
    assert len(await portfolios_of(user["id"])) == 1


async def test_reading_my_portfolios_creates_nothing(api, world):
    """Even for an investor without a portfolio, and however many reads run at once."""
    early = await investor_from_before(world)
    token = (await api.login("acme", early.email, world("acme", "investor").password))[
        "accessToken"
    ]
    before = await Portfolio.find({}).count()
    results = await asyncio.gather(*(api.gql(MINE, token=token) for _ in range(8)))
    assert [r.ok()["myPortfolios"] for r in results] == [[]] * 8
    mine = await asyncio.gather(
        *(api.gql(MINE, token=world("acme", "investor").token) for _ in range(8))
    )
    assert len({tuple(p["id"] for p in r.ok()["myPortfolios"]) for r in mine}) == 1
    assert await Portfolio.find({}).count() == before


async def test_the_start_up_pass_gives_earlier_investors_theirs_once(api, world):
    early = await investor_from_before(world)
    erased = await investor_from_before(world, "globex")
    await User.get_pymongo_collection().update_one(
        {"_id": erased.id}, {"$set": {"erased_at": early.created_at}}
    )
    before = await Portfolio.find({}).count()
    assert await backfill_default_portfolios() == 1
    assert await backfill_default_portfolios() == 0  # a second pass (another process): none
    assert await Portfolio.find({}).count() == before + 1
    [portfolio] = await portfolios_of(str(early.id))
    assert (portfolio.name, portfolio.base_currency, portfolio.tenant_id) == (
        "Main",
        "CHF",
        early.tenant_id,
    )
    assert await portfolios_of(str(erased.id)) == []  # an erased investor gets none
