"""Every `fidus` command's --help shows the defaults of its options."""

import argparse
import re

from app.cli import build_parser


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += commands(sub, (*path, name))
    return found


def test_every_option_with_a_default_shows_it(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per option
    checked = 0
    for path, parser in commands(build_parser()):
        text = parser.format_help()
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            assert action.help, (path, action.dest)  # every option says what it is
            if action.default is None or action.default is False:
                continue
            if action.default == argparse.SUPPRESS:
                continue
            option = action.option_strings[-1]
            entry = next(e for e in re.split(r"\n(?=  -)", text) if e.startswith(f"  {option}"))
            assert f"(default: {action.default})" in " ".join(entry.split()), (path, entry)
            checked += 1
    assert checked >= 7  # the walk reached the subcommands
    simulate = dict(commands(build_parser()))[("mt5", "simulate")].format_help()
    for shown in ("(default: 10.0)", "(default: EURUSD,XAUUSD)", "until Ctrl+C"):
        assert shown in simulate
    demo = dict(commands(build_parser()))[("demo",)].format_help()
    assert "(default: demo)" in demo and "(default: FIDUS_PORT or 8000)" in demo
