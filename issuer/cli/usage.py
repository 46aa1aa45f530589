"""Usage errors in certvc's one-line format (README: "one line on stderr, ``certvc: error:
<code>: <what to fix>``"), instead of click's three-line "Usage / Try / Error" block.

Click raises :class:`click.UsageError` while it parses the command line (an unknown option, a
missing option or argument, a value not among the choices) and commands raise it for options
that do not fit together. The command table's group (:class:`issuer.cli.LazyGroup`) turns
every one of them, for every command and subcommand, into :class:`UsageLine`, which click's
``main`` shows and exits with (status 2, as every unusable input). ``--help`` is untouched, and
so is a group called without a subcommand, which shows its help as click does.
"""

from __future__ import annotations

from typing import IO, Any

import click
from click.exceptions import NoArgsIsHelpError

from ..errors import IssuerCode
from .common import EXIT_UNUSABLE, error_line


def command_path(ctx: click.Context | None) -> str:
    """``certvc suspend``, ``certvc keys generate``: how the user calls the command, whatever
    name the process was started under (``python -m issuer``, a test runner)."""
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or ctx.command.name or "")
        ctx = ctx.parent
    return " ".join(["certvc", *reversed(names)])


def usage_message(error: click.UsageError) -> str:
    """Click's message on one line, followed by where the command's options are listed."""
    text = " ".join(error.format_message().split()).rstrip(".")
    if text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]  # "Missing option" -> "missing option", not "JSON"
    return f"{text} (see {command_path(error.ctx)} --help)"


class UsageLine(click.UsageError):
    """A usage error shown as ``certvc: error: usage: <what to fix>`` (exit 2)."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(usage_message(error), error.ctx)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(error_line(IssuerCode.USAGE, self.message), file=file, err=file is None)


def one_line(error: click.UsageError) -> click.UsageError:
    """The error to raise instead: a :class:`UsageLine` unless it already is one, or is the
    help a group without its subcommand shows."""
    if isinstance(error, UsageLine | NoArgsIsHelpError):
        return error
    return UsageLine(error)


__all__ = ["UsageLine", "command_path", "one_line", "usage_message"]
