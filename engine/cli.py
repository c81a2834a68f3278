"""The `strideline` command line (typer). Subcommands live beside the code they drive."""

from __future__ import annotations

import typer

app = typer.Typer(help="Strideline: an event-sourced coaching engine for runners back from injury.",
                  no_args_is_help=True, add_completion=False)


def main() -> None:
    app()
