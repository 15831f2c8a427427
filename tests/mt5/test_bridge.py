"""`fidus mt5 bridge` run as a real process against a stand-in MetaTrader5 module (the real
package is Windows-only): ticks since the last poll, server-clock shift, account snapshots,
posting over HTTP or ingesting through Redis, and clear failures."""

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from models.mt5 import Mt5Account, Mt5Deal
from tests.support.mt5 import latest

STANDIN = str(Path(__file__).parent / "standin")


async def bridge(*argv: str, standin: bool = True, **env: str) -> tuple[int, str]:
    """Run `fidus mt5 bridge`, with the stand-in importable as MetaTrader5 unless told not."""
    path = {"PYTHONPATH": os.pathsep.join([STANDIN, os.getcwd()])} if standin else {}
    environment = {**os.environ, **path, **env}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "mt5",
        "bridge",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=environment,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode(errors="replace")


def counts(output: str) -> tuple[int, int, int]:
    line = next(row for row in output.splitlines() if row.startswith("Bridged"))
    numbers = [int(word) for word in line.replace(",", " ").split() if word.isdigit()]
    sent, accepted, snapshots = numbers
    return sent, accepted, snapshots


POLLS = ("--interval", "0.1", "--polls", "8", "--accounts-every", "0.3")


async def test_bridge_posts_new_ticks_and_account_snapshots(api, world, base_url, ingest_token):
    code, output = await bridge(
        "--symbols",
        "XAUUSD,EURUSD",
        *POLLS,
        "--server-utc-offset",
        "2",
        "--url",
        base_url,
        "--token",
        ingest_token,
        STANDIN_SERVER_OFFSET_HOURS="2",
    )
    assert code == 0, output
    sent, accepted, snapshots = counts(output)
    # a tick per symbol every 50 ms over ~0.8 s, each sent once and all accepted
    assert sent >= 16 and accepted == sent, output
    assert snapshots >= 2
    prices = await latest(api, world, ["XAUUSD", "EURUSD"])
    assert prices["XAUUSD"]["bid"] > 2000 and prices["EURUSD"]["bid"] > 1.08
    [account] = await Mt5Account.find({"login": 886528}).to_list()
    assert (account.server, account.currency, str(account.equity)) == (
        "Standin-Live",
        "USD",
        "101234.56",
    )
    deals = {d.ticket: d for d in await Mt5Deal.find({"account_id": account.id}).to_list()}
    assert set(deals) == {7, 8}  # re-sent with every snapshot, stored once
    assert (deals[7].type, deals[7].entry, str(deals[7].commission)) == ("BUY", "IN", "-3.50")
    assert deals[8].type == "BALANCE"


async def test_an_unshifted_server_clock_is_refused_as_future(base_url, ingest_token):
    code, output = await bridge(
        "--symbols",
        "XAUUSD",
        *POLLS,
        "--url",
        base_url,
        "--token",
        ingest_token,
        STANDIN_SERVER_OFFSET_HOURS="2",
    )
    assert code == 0, output
    sent, accepted, _ = counts(output)
    assert sent > 0 and accepted == 0  # two hours ahead of UTC: "in the future"


async def test_bridge_ingests_through_redis_for_a_tenant(api, world, settings: Any):
    env = {
        "MONGODB_URL": settings.mongodb_url,
        "REDIS_URL": settings.redis_url,
        "FIDUS_DB_NAME": settings.db_name,
    }
    code, output = await bridge(
        "--symbols", "EURUSD", "--interval", "0.1", "--polls", "5", "--tenant", "acme", **env
    )
    assert code == 0, output
    sent, accepted, snapshots = counts(output)
    assert sent > 0 and accepted == sent and snapshots == 1
    assert (await latest(api, world, ["EURUSD"]))["EURUSD"]["bid"] >= 1.08
    assert await Mt5Account.find({"login": 886528}).count() == 1


async def test_clear_messages_without_the_package_or_the_terminal(base_url, ingest_token):
    target = ("--url", base_url, "--token", ingest_token)
    code, text = await bridge(*target, standin=False)
    assert code == 2 and "needs the MetaTrader5 package" in text

    code, text = await bridge(*target, STANDIN_INIT_FAIL="1")
    assert code == 2 and "did not initialise" in text and "IPC initialize failed" in text
    code, text = await bridge("--symbols", "NOPE", *target)
    assert code == 2 and "does not offer the symbol NOPE" in text
