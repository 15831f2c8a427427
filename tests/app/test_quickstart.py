"""The README's Quickstart, walked as a newcomer would: its exact commands and operations,
in its order, against a real `./scripts/serve` (embedded default), so the README cannot rot.

Only what a reader copies by hand is substituted: the port (the README says 8000) and the
`<placeholders>`, each taken from the answer the README says to copy it from."""

import asyncio
import json
import os
import re
import signal
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.served import REPO, Served, served_env
from tests.support.ws import Socket

README = REPO / "README.md"
README_ADDRESS = "127.0.0.1:8000"
# placeholder -> (operation whose answer gives it, root field, field)
COPIED_FROM = {
    "<accessToken>": ("SignIn", "login", "accessToken"),
    "<investorId>": ("CreateInvestor", "createUser", "id"),
    "<portfolioId>": ("CreatePortfolio", "createPortfolio", "id"),
    "<serviceToken>": ("FeedToken", "createServiceToken", "token"),
}


def quickstart_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the Quickstart section, in order."""
    text = README.read_text()
    section = text.split("\n## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, re.S)


def operation_name(document: str) -> str:
    match = re.match(r"\s*(query|mutation|subscription)\s+(\w+)", document)
    assert match, f"every Quickstart operation is named: {document}"
    return match.group(2)


class Walk:
    """The reader's state: what they have copied so far."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.copied: dict[str, str] = {}
        self.answers: dict[str, dict[str, Any]] = {}

    def fill(self, text: str) -> str:
        text = text.replace(README_ADDRESS, f"127.0.0.1:{self.served.port}")
        for placeholder, value in self.copied.items():
            text = text.replace(placeholder, value)
        left = re.findall(r"<[a-zA-Z]+>", text)
        assert not left, f"the Quickstart uses {left} before saying where to copy it from"
        return text

    def run_operation(self, document: str) -> dict[str, Any]:
        name = operation_name(document)
        answer = self.served.gql(self.fill(document), token=self.copied.get("<accessToken>"))
        assert not answer.get("errors"), (name, answer)
        self.answers[name] = answer["data"]
        for placeholder, (source, root, field) in COPIED_FROM.items():
            if source == name:
                self.copied[placeholder] = answer["data"][root][field]
        return answer["data"]

    def shell(self, command: str, **popen: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["bash", "-c", self.fill(command)],
            cwd=REPO,
            env=served_env(self.served.data_dir, self.served.port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **popen,
        )


async def first_event(socket: Socket, op_id: str, within: float = 20) -> dict[str, Any]:
    while True:
        frame = await socket.next(within)
        if frame.get("id") == op_id:
            assert frame["type"] == "next", frame
            return frame["payload"]["data"]


def expected_output(text: str) -> re.Pattern[str]:
    """A ```text block as a pattern: `<name>` is a value the reader copies, `...` anything."""
    pattern = re.escape(text.strip()).replace(re.escape("..."), ".*")
    return re.compile(re.sub(r"<(\w+)>", r"(?P<\1>\\S+)", pattern))


@pytest.mark.timeout(240)
async def test_the_quickstart_works_as_written(tmp_path: Path) -> None:
    """Every block in order: a command runs (the server and the feed stay running), an
    output block must match what the command before it printed, an operation runs over
    HTTP (subscriptions over one WebSocket, checked once all are open)."""
    blocks = quickstart_blocks()
    assert blocks[0] == ("bash", "./scripts/serve\n")
    served = Served(tmp_path / "data", ["bash", "-c", blocks[0][1]])
    walk = Walk(served)
    printed = ""  # what the last command printed
    feed: subprocess.Popen[str] | None = None
    gold: dict[str, Any] = {}
    socket: Socket | None = None
    subscriptions: list[str] = []
    try:
        served.wait_ready(120)
        printed = served.output()
        for lang, text in blocks[1:]:
            if lang == "text":
                found = expected_output(text).search(printed)
                assert found, (text, printed)
                walk.copied.update({f"<{k}>": v for k, v in found.groupdict().items()})
            elif lang == "bash" and "mt5 simulate" in text:
                feed = walk.shell(text, start_new_session=True)
            elif lang == "bash":
                command = walk.shell(text)
                printed = command.communicate(timeout=60)[0]
                assert command.returncode == 0, printed
                if text.lstrip().startswith("curl"):
                    assert json.loads(printed) == {
                        "data": {"me": {"email": "admin@demo.fidus.local", "role": "ADMIN"}}
                    }
            elif text.lstrip().startswith("subscription"):
                if socket is None:
                    socket = await Socket.open(served.url, walk.copied["<accessToken>"])
                await socket.subscribe(operation_name(text), walk.fill(text))
                subscriptions.append(operation_name(text))
            else:
                if operation_name(text) == "Portfolio":
                    await watch_it_move(socket, subscriptions)
                    gold = await priced_holding(walk, text)
                    continue
                walk.run_operation(text)
                if operation_name(text) == "Fund":  # "run this twice: the money moves once"
                    first = walk.answers["Fund"]
                    assert walk.run_operation(text) == first
                    assert Decimal(first["deposit"]["amount"]) == 25_000

        assert gold["symbol"] == "XAUUSD" and Decimal(gold["quantity"]) == 5
        assert 1_000 < gold["lastPrice"] < 5_000, "the simulator quotes gold where gold trades"

        assert feed is not None
        os.killpg(feed.pid, signal.SIGINT)  # Ctrl+C in the simulator's terminal
        summary = feed.communicate(timeout=30)[0]
        assert feed.returncode == 0, summary
        assert "accepted" in summary and "Traceback" not in summary, summary

        login = 'mutation { login(tenant: "demo", email: "admin@demo.fidus.local", password: "%s") { accessToken } }'
        assert served.gql(login % walk.copied["<newPassword>"])["data"]["login"]["accessToken"]
        assert served.gql(login % walk.copied["<password>"])["errors"]
    finally:
        if socket is not None:
            await socket.close()
        if feed is not None and feed.poll() is None:
            os.killpg(feed.pid, signal.SIGKILL)
        served.stop()
    assert "Traceback" not in served.output()


async def watch_it_move(socket: Socket | None, subscriptions: list[str]) -> None:
    """Step 6: a tick and a valuation arrive on the subscriptions the reader opened."""
    assert socket is not None and subscriptions == ["Prices", "Valuation"]
    tick = (await first_event(socket, "Prices"))["ticks"]
    assert tick["symbol"] in ("XAUUSD", "EURUSD") and tick["ask"] > tick["bid"] > 0
    valuation = (await first_event(socket, "Valuation"))["portfolioUpdated"]
    assert Decimal(valuation["cash"]) == 13_500  # 25,000 deposited, 5 oz at 2,300 bought


async def priced_holding(walk: Walk, query: str) -> dict[str, Any]:
    """The Portfolio query, again until gold has its first price (EURUSD may tick first)."""
    for _ in range(50):
        [gold] = walk.run_operation(query)["portfolio"]["holdings"]
        if gold["lastPrice"] is not None:
            return gold
        await asyncio.sleep(0.2)
    raise AssertionError(f"no price for gold: {gold}")


def test_the_readme_stays_a_first_hour_read():
    """What Fidus is, the two commands and the quickstart; the reference lives in docs/."""
    lines = README.read_text().splitlines()
    first_link = next(i for i, line in enumerate(lines) if "](docs/" in line)
    assert first_link <= 150, f"{first_link} lines before the first link into docs/"
    for target in re.findall(r"\]\((docs/[^)#]+)", README.read_text()):
        assert (REPO / target).is_file(), target
