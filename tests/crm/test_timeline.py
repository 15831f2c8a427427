"""Activities and tasks on a prospect: validation, authors and assignees, completion once
(also under concurrent attempts), tenants, and nested lists batched by DataLoaders."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.crm import Activity, ProspectTask
from tests.crm.support import LOG, create_prospect

TASK = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  id prospectId title dueDate done doneAt assignee { email } } }"""
COMPLETE = "mutation($id: ID!) { completeTask(id: $id) { id done doneAt } }"
NESTED = """{ prospects(first: 50) { edges { node { id owner { email }
  activities { kind text author { email } } tasks { title done assignee { email } } } } } }"""


def today():
    return datetime.now(UTC).date()


def tomorrow() -> str:
    return (today() + timedelta(days=1)).isoformat()


async def test_the_timeline_lists_every_kind_newest_first(api, world) -> None:
    manager, admin = world("acme", "manager"), world("acme", "admin")
    prospect = await create_prospect(api, manager)
    logged = []
    for n, kind in enumerate(["CALL", "EMAIL", "MEETING", "NOTE"]):
        occurred = f"2026-01-0{n + 1}T10:00:00+00:00"
        who = admin if kind == "MEETING" else manager
        variables = {
            "i": {
                "prospectId": prospect["id"],
                "kind": kind,
                "text": f" {kind} ",
                "occurredAt": occurred,
            }
        }
        logged.append((await api.gql(LOG, variables, token=who.token)).ok()["logActivity"])
    assert [a["text"] for a in logged] == ["CALL", "EMAIL", "MEETING", "NOTE"]
    assert logged[2]["author"]["email"] == admin.email
    seen = (await api.gql(NESTED, token=world("acme", "analyst").token)).ok()
    node = seen["prospects"]["edges"][0]["node"]
    assert [a["kind"] for a in node["activities"]] == ["NOTE", "MEETING", "EMAIL", "CALL"]
    unset = await api.gql(
        LOG,
        {"i": {"prospectId": prospect["id"], "kind": "NOTE", "text": "now"}},
        token=manager.token,
    )
    assert unset.ok()["logActivity"]["occurredAt"]


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"text": "  "}, "BAD_USER_INPUT"),
        ({"text": "x" * 5001}, "BAD_USER_INPUT"),
        ({"kind": "FAX"}, "BAD_USER_INPUT"),
        ({"occurredAt": "2999-01-01T00:00:00+00:00"}, "BAD_USER_INPUT"),
        ({"prospectId": "bad"}, "BAD_USER_INPUT"),
        ({"prospectId": "0" * 24}, "NOT_FOUND"),
    ],
)
async def test_bad_activities_are_refused(api, world, override, code) -> None:
    prospect = await create_prospect(api, world("acme", "manager"))
    payload = {"prospectId": prospect["id"], "kind": "NOTE", "text": "hello", **override}
    result = await api.gql(LOG, {"i": payload}, token=world("acme", "manager").token)
    assert result.code == code, result.body
    assert await Activity.find({}).count() == 0


async def test_activities_and_tasks_need_staff_of_the_tenant(api, world) -> None:
    prospect = await create_prospect(api, world("acme", "manager"))
    activity = {"i": {"prospectId": prospect["id"], "kind": "NOTE", "text": "hello"}}
    task = {
        "i": {
            "prospectId": prospect["id"],
            "title": "Call back",
            "dueDate": tomorrow(),
            "assigneeId": world("acme", "manager").id,
        }
    }
    for member, code in [
        (world("acme", "analyst"), "FORBIDDEN"),
        (world("acme", "investor"), "FORBIDDEN"),
        (world("globex", "manager"), "NOT_FOUND"),
    ]:
        assert (await api.gql(LOG, activity, token=member.token)).code == code
        assert (await api.gql(TASK, task, token=member.token)).code == code
    assert await Activity.find({}).count() == 0
    assert await ProspectTask.find({}).count() == 0


async def test_tasks_are_assigned_to_staff_and_completed_once(api, world) -> None:
    manager, admin = world("acme", "manager"), world("acme", "admin")
    prospect = await create_prospect(api, manager)

    def task(**override):
        payload = {
            "prospectId": prospect["id"],
            "title": "Send the proposal",
            "dueDate": tomorrow(),
            "assigneeId": admin.id,
            **override,
        }
        return api.gql(TASK, {"i": payload}, token=manager.token)

    created = (await task()).ok()["createTask"]
    assert (created["assignee"]["email"], created["done"], created["doneAt"]) == (
        admin.email,
        False,
        None,
    )
    for override, code, field in [
        ({"assigneeId": world("acme", "investor").id}, "BAD_USER_INPUT", "assigneeId"),
        ({"assigneeId": world("acme", "analyst").id}, "BAD_USER_INPUT", "assigneeId"),
        ({"assigneeId": world("globex", "manager").id}, "NOT_FOUND", None),
        ({"dueDate": (today() - timedelta(days=1)).isoformat()}, "BAD_USER_INPUT", "dueDate"),
        ({"title": " "}, "BAD_USER_INPUT", "title"),
        ({"title": "x" * 201}, "BAD_USER_INPUT", "title"),
    ]:
        refused = await task(**override)
        assert refused.code == code, (override, refused.body)
        if field:
            assert refused.errors[0]["extensions"]["field"] == field
    assert await ProspectTask.find({}).count() == 1
    assert (
        await api.gql(COMPLETE, {"id": created["id"]}, token=world("acme", "analyst").token)
    ).code == ("FORBIDDEN")
    assert (
        await api.gql(COMPLETE, {"id": created["id"]}, token=world("globex", "admin").token)
    ).code == ("NOT_FOUND")
    done = (await api.gql(COMPLETE, {"id": created["id"]}, token=manager.token)).ok()[
        "completeTask"
    ]
    assert done["done"] is True and done["doneAt"]
    again = await api.gql(COMPLETE, {"id": created["id"]}, token=admin.token)
    assert again.code == "CONFLICT"


async def test_concurrent_completions_have_one_winner(api, world) -> None:
    manager = world("acme", "manager")
    prospect = await create_prospect(api, manager)
    payload = {
        "prospectId": prospect["id"],
        "title": "Follow up",
        "dueDate": tomorrow(),
        "assigneeId": manager.id,
    }
    created = (await api.gql(TASK, {"i": payload}, token=manager.token)).ok()["createTask"]
    results = await asyncio.gather(
        *(api.gql(COMPLETE, {"id": created["id"]}, token=manager.token) for _ in range(6))
    )
    assert sum(1 for r in results if not r.errors) == 1
    assert {r.code for r in results if r.errors} == {"CONFLICT"}


async def test_nested_lists_do_not_multiply_round_trips(api, world, command_counter) -> None:
    manager = world("acme", "manager")

    async def add(n: int) -> None:
        for _ in range(n):
            prospect = await create_prospect(api, manager)
            await api.gql(
                LOG,
                {"i": {"prospectId": prospect["id"], "kind": "CALL", "text": "hi"}},
                token=manager.token,
            )
            await api.gql(
                TASK,
                {
                    "i": {
                        "prospectId": prospect["id"],
                        "title": "t",
                        "dueDate": tomorrow(),
                        "assigneeId": manager.id,
                    }
                },
                token=manager.token,
            )

    async def count() -> int:
        command_counter.commands.clear()
        command_counter.recording = True
        try:
            result = await api.gql(NESTED, token=manager.token)
        finally:
            command_counter.recording = False
        assert not result.errors
        return len(command_counter.commands)

    await add(2)
    small = await count()
    await add(6)
    assert await count() == small
