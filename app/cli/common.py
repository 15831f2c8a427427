"""What every ``fidus`` command shares: settings from the environment, the one-time
announcement, and the help format (every option's default shown)."""

import argparse
import sys
from typing import TypeAlias

from pydantic import ValidationError

from app.settings import Settings

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def announce(message: str) -> None:
    print(f"\n*** {message}\n", flush=True)


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        sys.exit(f"fidus: invalid configuration:\n{exc}")
    values = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=values) if values else settings


def symbols(raw: str | None) -> list[str] | None:
    return [s.strip() for s in raw.split(",") if s.strip()] if raw else None


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in --help, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        nothing = action.default is None or action.default is False  # (0.0 is a default)
        if nothing or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def root_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="fidus", description="Fidus GraphQL API server", formatter_class=_Help
    )


def command(commands: Commands, name: str, summary: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary, formatter_class=_Help)
