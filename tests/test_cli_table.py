"""The one command table (issue 17): every ``certvc`` command and subcommand loads and answers
``--help``; a command whose module does not import fails loudly instead of vanishing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from issuer.cli import COMMANDS, LazyGroup, load_command, main

ROOT = Path(__file__).resolve().parents[1]


def _every_command(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, (*path, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _every_command(command, (*path, name))


def test_every_command_answers_help() -> None:
    seen = list(_every_command(main))
    assert set(COMMANDS) <= {path[0] for path in seen}
    assert ("keys", "rotate") in seen and ("status", "publish") in seen
    for path in seen:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output, result.exception)
        assert "Usage: " in result.output


def test_the_console_script_is_the_table() -> None:
    """``certvc`` and ``python -m issuer`` start the same group."""
    done = subprocess.run(
        [sys.executable, "-m", "issuer", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in COMMANDS)


def test_a_command_that_does_not_import_fails_loudly(tmp_path: Path, monkeypatch) -> None:
    """A synthetic command module with a broken import: the command is not silently missing,
    the import error surfaces (on ``--help`` and when run)."""
    (tmp_path / "broken_cmd_fixture.py").write_text(
        "import click\nimport module_that_does_not_exist\n\n"
        "@click.command()\ndef broken():\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    @click.group(cls=LazyGroup, lazy={"broken": "broken_cmd_fixture:broken"})
    def group() -> None:
        pass

    assert "broken" in group.list_commands(click.Context(group))
    with pytest.raises(ModuleNotFoundError, match="module_that_does_not_exist"):
        load_command("broken_cmd_fixture:broken")
    result = CliRunner().invoke(group, ["broken"])
    assert isinstance(result.exception, ModuleNotFoundError)
    listed = CliRunner().invoke(group, ["--help"])
    assert isinstance(listed.exception, ModuleNotFoundError)
