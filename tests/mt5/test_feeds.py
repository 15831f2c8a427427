"""`fidus mt5 replay` (both export formats, UTF-16, carried-forward blanks, symbol filter)
and `fidus mt5 simulate`, run as real processes posting to the real server."""

import asyncio
import re
import signal
import sys

from tests.support.mt5 import latest

SUMMARY = re.compile(
    r"Simulated (.+): (\d+) sent, (\d+) accepted, (\d+) rejected in [\d.]+ s "
    r"\([\d.]+ ticks/s\)( \(interrupted\))?"
)

TERMINAL = (
    "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
    "2025.11.03\t09:30:01.245\t2001.10\t2001.40\t\t\t6\n"
    "2025.11.03\t09:30:01.300\t2001.20\t\t\t\t2\n"  # ask unchanged
    "2025.11.03\t09:30:01.420\t\t2001.55\t\t\t4\n"  # bid unchanged
)
PYTHON_CSV = (
    "time,bid,ask,last,volume,time_msc,flags,volume_real\n"
    "1762162201,1.0851,1.0852,0,0,1762162201245,6,0\n"
    "1762162201,1.0853,1.0854,0,0,1762162201400,6,0\n"
)


async def fidus(*argv: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode(errors="replace")


async def test_replay_terminal_export_in_utf16(api, world, base_url, ingest_token, tmp_path):
    path = tmp_path / "XAUUSD_20251103.csv"
    path.write_bytes(TERMINAL.encode("utf-16"))  # with a BOM, as the terminal writes it
    code, output = await fidus(
        "mt5",
        "replay",
        str(path),
        "--speed",
        "100",
        "--no-progress",
        "--url",
        base_url,
        "--token",
        ingest_token,
    )
    assert code == 0, output
    assert "Replayed 3 ticks from XAUUSD_20251103.csv: 3 accepted" in output
    assert (await latest(api, world, ["XAUUSD"]))["XAUUSD"] == {
        "symbol": "XAUUSD",
        "bid": 2001.2,
        "ask": 2001.55,
        "last": None,
    }


async def test_replay_python_export_with_symbol_filter(
    api, world, base_url, ingest_token, tmp_path
):
    path = tmp_path / "ticks.csv"
    path.write_text(PYTHON_CSV)
    code, output = await fidus(
        "mt5",
        "replay",
        str(path),
        "--symbol",
        "EURUSD",
        "--speed",
        "50",
        "--no-progress",
        "--url",
        base_url,
        "--token",
        ingest_token,
    )
    assert code == 0, output
    assert "2 accepted" in output
    assert (await latest(api, world, ["EURUSD"]))["EURUSD"]["bid"] == 1.0853
    code, output = await fidus(
        "mt5",
        "replay",
        str(path),
        "--symbol",
        "EURUSD",
        "--symbols",
        "GBPUSD",
        "--no-progress",
        "--url",
        base_url,
        "--token",
        ingest_token,
    )
    assert "Replayed 0 ticks" in output


async def test_simulate_posts_a_random_walk(api, world, base_url, ingest_token):
    code, output = await fidus(
        "mt5",
        "simulate",
        "--symbols",
        "SIMA,SIMB",
        "--rate",
        "200",
        "--count",
        "40",
        "--seed",
        "7",
        "--url",
        base_url,
        "--token",
        ingest_token,
    )
    assert code == 0, output
    assert SUMMARY.search(output).groups()[:3] == ("SIMA, SIMB", "40", "40"), output
    prices = await latest(api, world, ["SIMA", "SIMB"])
    assert set(prices) == {"SIMA", "SIMB"}
    assert all(t["bid"] < t["ask"] for t in prices.values())


async def test_ctrl_c_ends_simulate_with_the_same_summary(api, world, base_url, ingest_token):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        *("mt5", "simulate", "--symbols", "EURUSD", "--rate", "20"),
        *("--url", base_url, "--token", ingest_token),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        for _ in range(600):  # until its ticks arrive: it is past start-up, mid-feed
            if "EURUSD" in await latest(api, world, ["EURUSD"]):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("no simulated tick arrived")
        process.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    summary = SUMMARY.search(output)
    assert summary, output
    symbols, sent, accepted, rejected, ending = summary.groups()
    assert symbols == "EURUSD" and int(sent) == int(accepted) >= 1 and rejected == "0"
    assert ending == " (interrupted)"


async def test_a_wrong_token_fails_loudly(base_url, tmp_path):
    path = tmp_path / "X_1.csv"
    path.write_text(PYTHON_CSV)
    code, output = await fidus(
        "mt5", "replay", str(path), "--no-progress", "--url", base_url, "--token", "fst_nope"
    )
    assert code != 0
    assert "401" in output
