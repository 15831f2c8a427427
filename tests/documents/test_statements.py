"""Monthly statement PDFs: generated on demand from the ledger, stored as STATEMENT
documents of the portfolio's investor, downloadable and verifiable like any document."""

from models.audit import AuditEntry
from tests.support.portfolios import default_portfolio_id, record

GENERATE = """mutation($p: ID!, $m: String!) { generateStatement(portfolioId: $p, month: $m) {
  id category contentType size sha256 filename downloadUrl owner { id } } }"""


async def _ledger(api, world) -> str:
    investor, admin = world("acme", "investor"), world("acme", "admin")
    portfolio = await default_portfolio_id(api, investor)
    entries = [
        ("DEPOSIT", "k1", {"amount": "10000.00", "occurredAt": "2025-02-20T10:00:00Z"}),
        ("DEPOSIT", "k2", {"amount": "2500.00", "occurredAt": "2025-03-03T10:00:00Z"}),
        (
            "BUY",
            "k3",
            {
                "symbol": "XAUUSD",
                "quantity": "2",
                "price": "1000.00",
                "occurredAt": "2025-03-05T10:00:00Z",
            },
        ),
        ("INTEREST", "k4", {"amount": "37.50", "occurredAt": "2025-03-20T10:00:00Z"}),
        ("FEE", "k5", {"amount": "12.25", "occurredAt": "2025-03-21T10:00:00Z"}),
    ]
    for kind, key, fields in entries:
        (await record(api, admin, portfolio, kind, key, **fields)).ok()
    return portfolio


async def test_the_investor_generates_and_downloads_a_statement(api, world) -> None:
    investor = world("acme", "investor")
    portfolio = await _ledger(api, world)
    result = await api.gql(GENERATE, {"p": portfolio, "m": "2025-03"}, token=investor.token)
    doc = result.ok()["generateStatement"]
    assert doc["category"] == "STATEMENT" and doc["contentType"] == "application/pdf"
    assert doc["owner"]["id"] == investor.id and doc["filename"] == "statement-2025-03.pdf"
    response = await api.client.get(f"{api.base_url}{doc['downloadUrl']}")
    body = response.content
    assert response.status_code == 200 and body.startswith(b"%PDF-") and len(body) == doc["size"]
    for text in (
        b"Monthly statement 2025-03",
        b"Opening value",
        b"10,000.00",
        b"2,500.00",
        b"37.50",
        b"12.25",
        b"XAUUSD",
        b"2,000.00",
        b"Investor Acme",
    ):
        assert text in body, text
    listed = await api.gql(
        "{ documents(category: STATEMENT) { edges { node { id } } } }", token=investor.token
    )
    assert [e["node"]["id"] for e in listed.ok()["documents"]["edges"]] == [doc["id"]]
    check = await api.gql(
        "query($id: ID!) { verifyDocument(id: $id) { valid } }",
        {"id": doc["id"]},
        token=investor.token,
    )
    assert check.ok()["verifyDocument"]["valid"] is True
    assert await AuditEntry.find_one({"action": "statement.generate"}) is not None


async def test_staff_generate_for_the_investor(api, world) -> None:
    portfolio = await _ledger(api, world)
    result = await api.gql(
        GENERATE, {"p": portfolio, "m": "2025-02"}, token=world("acme", "manager").token
    )
    assert result.ok()["generateStatement"]["owner"]["id"] == world("acme", "investor").id


async def test_statement_refusals(api, world) -> None:
    portfolio = await default_portfolio_id(api, world("acme", "investor"))
    cases = [
        (world("acme", "investor2"), "2025-03", "NOT_FOUND"),
        (world("acme", "analyst"), "2025-03", "FORBIDDEN"),
        (world("globex", "admin"), "2025-03", "NOT_FOUND"),
        (world("acme", "investor"), "2999-01", "BAD_USER_INPUT"),
        (world("acme", "investor"), "2025-13", "BAD_USER_INPUT"),
        (world("acme", "investor"), "March", "BAD_USER_INPUT"),
    ]
    for member, month, code in cases:
        result = await api.gql(GENERATE, {"p": portfolio, "m": month}, token=member.token)
        assert result.code == code, (member.email, month, result.body)
