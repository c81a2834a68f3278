"""Options every command spells the same way.

``--store`` names the event store everywhere: a PostgreSQL URL or a SQLite path (``resolve_url``
accepts both). Older spellings (``--url``, ``--store-url``, ``--path``) still work as hidden
aliases, so scripts written against them do not break; help shows only ``--store``.
"""

from __future__ import annotations

import typer

STORE_HELP = ("Event store: a PostgreSQL URL or a SQLite path "
              "(default: $STRIDELINE_STORE_URL, then var/strideline.sqlite3).")


def store_option(help_text: str = STORE_HELP):
    return typer.Option(None, "--store", help=help_text)


def hidden_alias(name: str):
    """A former name of ``--store``, accepted and not shown."""
    return typer.Option(None, name, hidden=True)


def chosen(store: str | None, *aliases: str | None) -> str | None:
    """The store given by ``--store`` or, failing that, by a former name."""
    for value in (store, *aliases):
        if value:
            return value
    return None
