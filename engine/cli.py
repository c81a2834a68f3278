"""The `strideline` command line (typer). Each area registers its commands from its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="Strideline: an event-sourced coaching engine for runners back from injury.",
                  no_args_is_help=True, add_completion=False)

_COMMAND_MODULES = [
    "athletes",
    "advice",
    "series",
    "demo",
    "replay",
    "db",
    "serve",
    "keys",
    "orgs",
    "ops",
    "worker",
    "deliveries",
    "quarantine",
]


def _register() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"engine.commands.{name}").register(app)


def main() -> None:
    _register()
    app()
