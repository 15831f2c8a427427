"""Shared CRM test helpers: GraphQL documents (the ``pipelineChanged`` subscription among
them) and shortcuts that create prospects through the API or put one in a given state
directly in the database (real documents)."""

import uuid
from typing import Any

from beanie import PydanticObjectId
from gql import gql

from models.crm import AmlResult, Prospect, ProspectStage
from tests.support.api import Api

FIELDS = """id fullName email stage amlResult expectedAmount owner { id email }
  convertedUser { id email role } stageHistory { fromStage toStage by { email } }
  amlChecks { result automatic note matchedEntryId matchedName score listSource by { email } }"""
CREATE = f"mutation($i: CreateProspectInput!) {{ createProspect(input: $i) {{ {FIELDS} }} }}"
MOVE = (
    f"mutation($id: ID!, $s: ProspectStage!) {{ moveProspect(id: $id, stage: $s) {{ {FIELDS} }} }}"
)
ONE = f"query($id: ID!) {{ prospect(id: $id) {{ {FIELDS} }} }}"
AML = f"""mutation($id: ID!, $r: AmlResult!, $n: String) {{
  recordAmlCheck(prospectId: $id, result: $r, note: $n) {{ {FIELDS} }} }}"""
SCREEN = f"mutation($id: ID!) {{ screenProspect(id: $id) {{ {FIELDS} }} }}"
CONVERT = "mutation($id: ID!) { convertProspect(id: $id) { id email fullName role kycStatus } }"
PIPELINE = "{ pipeline { stage count expectedAmount } }"
LOG = """mutation($i: LogActivityInput!) { logActivity(input: $i) {
  id kind text occurredAt author { email } } }"""
CHANGES = gql("subscription { pipelineChanged { id fullName stage owner { email } } }")


def unique_email(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


async def create_prospect(
    api: Api, member: Any, full_name: str = "Pat Prospect", **fields: Any
) -> dict[str, Any]:
    payload = {"fullName": full_name, "email": unique_email(), **fields}
    result = await api.gql(CREATE, {"i": payload}, token=member.token)
    prospect: dict[str, Any] = result.ok()["createProspect"]
    return prospect


async def put_in_state(
    prospect_id: str, stage: ProspectStage, aml: AmlResult | None = AmlResult.CLEAR
) -> None:
    """Set stage and AML result directly (the transitions themselves are tested elsewhere)."""
    await Prospect.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(prospect_id)},
        {"$set": {"stage": stage.value, "aml_result": aml.value if aml else None}},
    )


async def won(api: Api, world: Any, aml: AmlResult | None = AmlResult.CLEAR, **fields: Any) -> dict:
    """A prospect of acme's manager put straight in WON (with this AML result)."""
    prospect = await create_prospect(api, world("acme", "manager"), "Grace Hopper", **fields)
    await put_in_state(prospect["id"], ProspectStage.WON, aml)
    return prospect
