"""Private deals for tests: drafted and published through the API, the investment in one,
and the ``opportunityPublished`` subscription."""

from gql import gql

CREATE = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  id name status targetRaise minimumInvestment raisedAmount sector } }"""
PUBLISH = "mutation($id: ID!) { publishOpportunity(id: $id) { id status } }"
INVEST = """mutation($id: ID!, $a: Decimal!, $k: String!) {
  invest(input: {opportunityId: $id, amount: $a, idempotencyKey: $k}) {
    id amount status opportunity { id raisedAmount } } }"""
PUBLISHED = gql("subscription { opportunityPublished { id name status } }")


async def create(api, member, name="Solar Farm", target="100000.00", minimum="1000.00", **extra):
    """A draft deal created by ``member``."""
    payload = {
        "name": name,
        "description": "A deal",
        "targetRaise": target,
        "minimumInvestment": minimum,
        **extra,
    }
    result = await api.gql(CREATE, {"i": payload}, token=member.token)
    return result.ok()["createOpportunity"]


async def open_deal(api, world, **kwargs):
    """A deal acme's manager created and published."""
    deal = await create(api, world("acme", "manager"), **kwargs)
    await api.gql(PUBLISH, {"id": deal["id"]}, token=world("acme", "manager").token)
    return deal
