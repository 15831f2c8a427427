"""The stage table: every allowed move and every forbidden one (the full 6 × 6 table),
re-opening, the recorded history, and concurrent moves of one prospect (one wins)."""

import asyncio
import itertools

import pytest

from models.audit import AuditEntry
from models.crm import Prospect, ProspectStage, move_allowed
from tests.crm.support import MOVE, ONE, create_prospect, put_in_state

S = ProspectStage
ALLOWED = {
    (S.LEAD, S.QUALIFIED),
    (S.QUALIFIED, S.PROPOSAL),
    (S.PROPOSAL, S.NEGOTIATION),
    (S.NEGOTIATION, S.WON),
    (S.LEAD, S.LOST),
    (S.QUALIFIED, S.LOST),
    (S.PROPOSAL, S.LOST),
    (S.NEGOTIATION, S.LOST),
    (S.LOST, S.LEAD),
}
TABLE = list(itertools.product(S, S))


def test_the_rule_matches_the_table() -> None:
    assert {(a, b) for a, b in TABLE if move_allowed(a, b)} == ALLOWED


@pytest.mark.parametrize(("source", "target"), TABLE, ids=lambda s: s.value)
async def test_every_move_of_the_table(api, world, source, target) -> None:
    manager = world("acme", "manager")
    prospect = await create_prospect(api, manager)
    await put_in_state(prospect["id"], source)
    result = await api.gql(MOVE, {"id": prospect["id"], "s": target.value}, token=manager.token)
    stored = await Prospect.get(prospect["id"])
    assert stored is not None
    if (source, target) in ALLOWED:
        moved = result.ok()["moveProspect"]
        assert moved["stage"] == target.value == stored.stage
        last = moved["stageHistory"][-1]
        assert (last["fromStage"], last["toStage"]) == (source.value, target.value)
        assert last["by"]["email"] == manager.email
    else:
        assert result.code == "CONFLICT", result.body
        assert source.value in result.errors[0]["message"]
        assert stored.stage is source and len(stored.stage_history) == 1


async def test_the_whole_funnel_and_a_reopening_are_recorded(api, world) -> None:
    manager, admin = world("acme", "manager"), world("acme", "admin")
    prospect = await create_prospect(api, manager)
    path = ["QUALIFIED", "PROPOSAL", "LOST", "LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON"]
    for n, stage in enumerate(path):
        who = manager if n % 2 else admin
        result = await api.gql(MOVE, {"id": prospect["id"], "s": stage}, token=who.token)
        assert result.ok()["moveProspect"]["stage"] == stage
    history = (await api.gql(ONE, {"id": prospect["id"]}, token=manager.token)).ok()["prospect"][
        "stageHistory"
    ]
    assert [(h["fromStage"], h["toStage"]) for h in history] == list(
        zip([None, "LEAD", *path[:-1]], ["LEAD", *path], strict=True)
    )
    assert history[1]["by"]["email"] == admin.email
    moves = await AuditEntry.find({"action": "prospect.move"}).sort("_id").to_list()
    assert [(m.detail["source"], m.detail["target"]) for m in moves] == [
        (h["fromStage"], h["toStage"]) for h in history[1:]
    ]
    for stage in ("LEAD", "LOST", "QUALIFIED"):  # WON is final
        result = await api.gql(MOVE, {"id": prospect["id"], "s": stage}, token=manager.token)
        assert result.code == "CONFLICT"


async def test_concurrent_moves_have_exactly_one_winner(api, world) -> None:
    manager, admin = world("acme", "manager"), world("acme", "admin")
    prospect = await create_prospect(api, manager)
    targets = ["QUALIFIED"] * 8  # a second QUALIFIED → QUALIFIED is not a move
    results = await asyncio.gather(
        *(
            api.gql(MOVE, {"id": prospect["id"], "s": t}, token=(manager if i % 2 else admin).token)
            for i, t in enumerate(targets)
        )
    )
    winners = [r for r in results if not r.errors]
    assert len(winners) == 1
    assert {r.code for r in results if r.errors} == {"CONFLICT"}
    stored = await Prospect.get(prospect["id"])
    assert stored is not None
    assert stored.stage.value == winners[0].data["moveProspect"]["stage"]
    assert len(stored.stage_history) == 2


async def test_moves_need_staff_of_the_tenant(api, world) -> None:
    prospect = await create_prospect(api, world("acme", "manager"))
    variables = {"id": prospect["id"], "s": "QUALIFIED"}
    assert (await api.gql(MOVE, variables, token=world("acme", "analyst").token)).code == (
        "FORBIDDEN"
    )
    assert (await api.gql(MOVE, variables, token=world("acme", "investor").token)).code == (
        "FORBIDDEN"
    )
    assert (await api.gql(MOVE, variables, token=world("globex", "admin").token)).code == (
        "NOT_FOUND"
    )
    bad_id = await api.gql(
        MOVE, {"id": "nope", "s": "QUALIFIED"}, token=world("acme", "admin").token
    )
    assert bad_id.code == "BAD_USER_INPUT"
    bad_stage = await api.gql(
        MOVE, {"id": prospect["id"], "s": "DONE"}, token=world("acme", "admin").token
    )
    assert bad_stage.code == "BAD_USER_INPUT"
    stored = await Prospect.get(prospect["id"])
    assert stored is not None and stored.stage is S.LEAD
