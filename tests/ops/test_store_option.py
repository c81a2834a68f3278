"""One flag names the store in every command: `--store`, a PostgreSQL URL or a SQLite path. The
former spellings still work but are not shown."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from engine import cli

cli._register()
RUNNER = CliRunner()

STORE_COMMANDS = [["db", "info"], ["db", "upgrade"], ["rebuild"], ["keys", "list"], ["keys", "create"],
                  ["serve"], ["worker"], ["metrics"], ["view"], ["deliveries", "list"], ["deliveries", "retry"],
                  ["deliveries", "skip"]]


@pytest.mark.parametrize("command", STORE_COMMANDS, ids=" ".join)
def test_every_command_that_opens_the_store_takes_store(command):
    """`--help` of each command that opens the store lists `--store` and none of the old names."""
    result = RUNNER.invoke(cli.app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "--store" in result.output
    for old in ("--url ", "--store-url", "--path "):
        assert old not in result.output


@pytest.mark.parametrize("old", ["--url", "--store"])
def test_db_info_reads_the_store_given_by_the_new_or_the_old_name(old, tmp_path):
    """`db info --url PATH` (a script written before) and `db info --store PATH` say the same."""
    path = tmp_path / "s.sqlite3"
    result = RUNNER.invoke(cli.app, ["db", "info", old, str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert str(path) in result.output


def test_rebuild_still_accepts_store_url(tmp_path):
    """`rebuild --store-url PATH` still works (an empty store: nothing to rebuild)."""
    result = RUNNER.invoke(cli.app, ["rebuild", "--store-url", str(tmp_path / "s.sqlite3")])
    assert result.exit_code == 0, result.output
    assert "rebuilt 0 athlete(s)" in result.output
