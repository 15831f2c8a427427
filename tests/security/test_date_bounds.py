"""Dates far from today (years 1 and 9999, where date arithmetic leaves Python's range)
are BAD_USER_INPUT naming the input field, never an internal error. Every Date/DateTime
argument and input field of the root operations is derived from the live schema, so new
ones are covered; the nested ones and the arithmetic behind them are tested with data."""

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from schema import build_schema
from schema.core.dates import EARLIEST, LATEST
from tests.support.domain import invest_in_fund, make_ready
from tests.support.portfolios import default_portfolio_id

SCHEMA = build_schema()._schema
DATES = {"Date", "DateTime"}
FAR = {
    "Date": ("9999-12-31", "0001-01-01"),
    "DateTime": ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"),
}
SANE = {"Date": "2030-01-01", "DateTime": "2030-01-01T10:00:00Z"}
DUMMY = {"String": "x", "ID": "x", "Int": 1, "Float": 1.0, "Boolean": False, "Decimal": "1"}


def date_paths(type_: Any, seen: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType) and named.name in DATES:
        return [()]
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return []
    return [
        (name, *rest)
        for name, field in named.fields.items()
        for rest in date_paths(field.type, seen | {named.name})
    ]


def value_for(type_: Any, target: tuple[str, ...], far: str | None) -> Any:
    """A value of ``type_``: required parts filled, ``far`` at ``target``, other dates sane."""
    nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(nullable, GraphQLList):
        return [value_for(nullable.of_type, target, far)]
    if isinstance(nullable, GraphQLEnumType):
        return next(iter(nullable.values))
    if isinstance(nullable, GraphQLInputObjectType):
        return {
            name: value_for(field.type, target[1:], far)
            if target[:1] == (name,)
            else value_for(field.type, (), None)
            for name, field in nullable.fields.items()
            if target[:1] == (name,) or isinstance(field.type, GraphQLNonNull)
        }
    if nullable.name in DATES:
        return far if target == () and far is not None else SANE[nullable.name]
    return DUMMY.get(nullable.name, {})


def cases() -> list[Any]:
    found = []
    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                for path in date_paths(arg.type):
                    kind = get_named_type(
                        arg.type if not path else _input_field(arg.type, path).type
                    ).name
                    for far in FAR[kind]:
                        found.append(
                            pytest.param(
                                root,
                                field_name,
                                (arg_name, *path),
                                far,
                                id=f"{field_name}.{'.'.join((arg_name, *path))}={far[:4]}",
                            )
                        )
    return found


def _input_field(type_: Any, path: tuple[str, ...]) -> Any:
    field = None
    for name in path:
        field = get_named_type(type_).fields[name]
        type_ = field.type
    return field


def document(root: Any, field_name: str, target: tuple[str, ...], far: str) -> tuple[str, dict]:
    field = root.fields[field_name]
    variables, declared, passed = {}, [], []
    for arg_name, arg in field.args.items():
        if target[0] != arg_name and not isinstance(arg.type, GraphQLNonNull):
            continue
        rest = target[1:] if target[0] == arg_name else ()
        variables[arg_name] = value_for(arg.type, rest, far if target[0] == arg_name else None)
        declared.append(f"${arg_name}: {arg.type}")
        passed.append(f"{arg_name}: ${arg_name}")
    named = get_named_type(field.type)
    selection = " { __typename }" if isinstance(named, GraphQLObjectType) else ""
    operation = "mutation" if root is SCHEMA.mutation_type else "query"
    text = f"{operation}({', '.join(declared)}) {{ {field_name}({', '.join(passed)}){selection} }}"
    return text, variables


ROOT_CASES = cases()


def test_the_root_operations_take_dates():
    assert len(ROOT_CASES) >= 2 * 10  # the derivation finds them (a guard for this file)


@pytest.mark.parametrize(("root", "field_name", "target", "far"), ROOT_CASES)
async def test_far_dates_in_root_operations_are_bad_user_input(
    api, world, root, field_name, target, far
):
    text, variables = document(root, field_name, target, far)
    result = await api.gql(text, variables, token=world("acme", "admin").token)
    assert result.status == 200
    assert result.code == "BAD_USER_INPUT", result.body
    assert result.errors[0]["extensions"].get("field") == target[-1], result.body
    assert str(EARLIEST) in result.errors[0]["message"]


def test_every_date_argument_below_the_root_has_a_test_here():
    nested = {
        f"{type_name}.{field_name}"
        for type_name, type_ in SCHEMA.type_map.items()
        if isinstance(type_, GraphQLObjectType)
        and type_ not in (SCHEMA.query_type, SCHEMA.mutation_type)
        and not type_name.startswith("__")
        for field_name, field in type_.fields.items()
        if any(date_paths(arg.type) for arg in field.args.values())
    }
    assert nested == {
        "Investment.accruedInterest",
        "Portfolio.returns",
        "Analytics.netFlowsByMonth",
    }


def refused(result, field: str) -> None:
    assert result.status == 200 and "INTERNAL_SERVER_ERROR" not in str(result.body), result.body
    assert (result.code, result.errors[0]["extensions"].get("field")) == ("BAD_USER_INPUT", field)


SIMULATE = """query($d: Date!) { simulateInvestment(fundCode: "CORE", amount: "10000", startDate: $d) {
  interestStartDate maturityDate } }"""
ACCRUED = "query($id: ID!, $d: Date) { investment(id: $id) { accruedInterest(asOf: $d) } }"
RETURNS = "query($id: ID!, $f: Date!, $t: Date) { portfolio(id: $id) { returns(from: $f, to: $t) { start } } }"
STATEMENT = "query($id: ID!, $m: String!) { portfolio(id: $id) { statement(month: $m) { month } } }"
FLOWS = "query($f: Date!, $t: Date!) { analytics { netFlowsByMonth(from: $f, to: $t) { month } } }"
EVENT = """mutation($s: DateTime!, $e: DateTime!) { createEvent(input: {title: "Far",
  startsAt: $s, endsAt: $e}) { id } }"""
RECORD = """mutation($p: ID!, $at: DateTime!) { recordTransaction(input: {portfolioId: $p,
  type: DEPOSIT, amount: "10", occurredAt: $at, idempotencyKey: "far"}) { id } }"""


async def test_fund_arithmetic_on_far_dates(api, world):
    """maturity = deposit + incubation + term: past 9999 without the bound."""
    admin, investor = world("acme", "admin"), world("acme", "investor")
    await make_ready(investor)
    for far in FAR["Date"]:
        created = await invest_in_fund(api, admin, investor, deposit=far)
        assert created["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "depositDate",
        }
        refused(await api.gql(SIMULATE, {"d": far}, token=investor.token), "startDate")
    made = await invest_in_fund(api, admin, investor, deposit="2025-01-15")
    investment_id = made["data"]["createInvestment"]["id"]
    for far in FAR["Date"]:
        refused(await api.gql(ACCRUED, {"id": investment_id, "d": far}, token=admin.token), "asOf")
    assert (await api.gql(ACCRUED, {"id": investment_id, "d": str(LATEST)}, token=admin.token)).ok()


async def test_portfolio_windows_on_far_dates(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    portfolio_id = await default_portfolio_id(api, investor)
    late, early = FAR["Date"]
    for values, field in (({"f": early}, "from"), ({"f": "2025-01-01", "t": late}, "to")):
        result = await api.gql(RETURNS, {"id": portfolio_id, **values}, token=investor.token)
        refused(result, field)
    for month in ("9999-12", "0001-01"):
        result = await api.gql(STATEMENT, {"id": portfolio_id, "m": month}, token=investor.token)
        refused(result, "month")
    for far in FAR["DateTime"]:
        result = await api.gql(RECORD, {"p": portfolio_id, "at": far}, token=manager.token)
        refused(result, "occurredAt")
    for values, field in (
        ({"f": early, "t": "2025-01-01"}, "from"),
        ({"f": "2025-01-01", "t": late}, "to"),
    ):
        refused(await api.gql(FLOWS, values, token=manager.token), field)


async def test_events_on_far_dates(api, world):
    manager = world("acme", "manager")
    late, early = FAR["DateTime"]
    result = await api.gql(EVENT, {"s": "9999-12-31T22:00:00Z", "e": late}, token=manager.token)
    refused(result, "startsAt")
    result = await api.gql(EVENT, {"s": early, "e": "2030-01-01T10:00:00Z"}, token=manager.token)
    refused(result, "startsAt")
