"""Money moves with durable acknowledgement: the ledger's transaction commits with write
concern majority + journal, and the ledger entry is written inside that transaction."""

from tests.support.portfolios import default_portfolio_id, record


async def test_a_ledger_write_commits_with_majority_and_journal(api, world, command_counter):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    command_counter.sent.clear()
    command_counter.recording = True
    try:
        assert (await record(api, manager, pid, "DEPOSIT", "durable", amount="10.00")).ok()
    finally:
        command_counter.recording = False
    commits = [c for c in command_counter.sent if "commitTransaction" in c]
    assert len(commits) == 1
    assert commits[0]["writeConcern"] == {"w": "majority", "j": True}
    assert commits[0]["maxTimeMS"] > 0  # the commit's wait is bounded
    entries = [c for c in command_counter.sent if c.get("insert") == "transactions"]
    assert len(entries) == 1
    assert entries[0]["lsid"] == commits[0]["lsid"]
    assert entries[0]["txnNumber"] == commits[0]["txnNumber"]
