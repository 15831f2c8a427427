"""The CRM part of the binding contract is served as written (names, arguments, types)."""

from typing import Any

import pytest

from schema import build_schema

SCHEMA: Any = build_schema()._schema

CONTRACT_FIELDS = {
    "Prospect": {
        "id": "ID!",
        "fullName": "String!",
        "email": "String!",
        "stage": "ProspectStage!",
        "amlResult": "AmlResult",
        "expectedAmount": "Decimal",
        "convertedUser": "User",
    },
    "ProspectEdge": {"cursor": "String!", "node": "Prospect!"},
    "ProspectConnection": {"edges": "[ProspectEdge!]!", "pageInfo": "PageInfo!"},
    "PipelineStage": {"stage": "ProspectStage!", "count": "Int!", "expectedAmount": "Decimal!"},
    "CreateProspectInput": {"fullName": "String!", "email": "String!", "expectedAmount": "Decimal"},
}
CONTRACT_OPERATIONS = {
    ("Query", "prospects"): (
        "ProspectConnection!",
        {"first": "Int", "after": "String", "stage": "ProspectStage"},
    ),
    ("Query", "pipeline"): ("[PipelineStage!]!", {}),
    ("Mutation", "createProspect"): ("Prospect!", {"input": "CreateProspectInput!"}),
    ("Mutation", "moveProspect"): ("Prospect!", {"id": "ID!", "stage": "ProspectStage!"}),
    ("Mutation", "recordAmlCheck"): (
        "Prospect!",
        {"prospectId": "ID!", "result": "AmlResult!", "note": "String"},
    ),
    ("Mutation", "convertProspect"): ("User!", {"id": "ID!"}),
    ("Subscription", "pipelineChanged"): ("Prospect!", {}),
}


@pytest.mark.parametrize("type_name", sorted(CONTRACT_FIELDS))
def test_types_have_the_contract_fields(type_name: str) -> None:
    served = SCHEMA.get_type(type_name)
    assert served is not None
    fields = served.fields
    for name, type_ in CONTRACT_FIELDS[type_name].items():
        assert str(fields[name].type) == type_, (type_name, name)


@pytest.mark.parametrize(("root", "name"), sorted(CONTRACT_OPERATIONS))
def test_operations_have_the_contract_signature(root: str, name: str) -> None:
    served = SCHEMA.get_type(root).fields[name]
    result, arguments = CONTRACT_OPERATIONS[(root, name)]
    assert str(served.type) == result
    served_args = {arg: str(served.args[arg].type) for arg in served.args}
    assert served_args.items() >= arguments.items()
    extra = set(served_args) - set(arguments)
    assert all(not served_args[a].endswith("!") for a in extra)  # added arguments are optional
    if name == "prospects":
        assert served.args["first"].default_value == 20


def test_the_enums_are_the_contracts() -> None:
    stages = SCHEMA.get_type("ProspectStage").values
    assert list(stages) == ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]
    results = SCHEMA.get_type("AmlResult").values
    assert list(results) == ["CLEAR", "HIT", "MANUAL_REVIEW", "APPROVED", "REJECTED"]
