"""`monitor watch …`: the terms that decide which coverage is kept."""

from __future__ import annotations

import click

from monitor.catalog.watch_terms import (
    add_watch_term,
    edit_watch_aliases,
    list_watch_terms,
    remove_watch_term,
    update_watch_term,
)
from monitor.cli.context import CliContext
from monitor.cli.output import print_table

pass_cli = click.make_pass_decorator(CliContext)


@click.group()
def watch() -> None:
    """Watch terms: add, list, edit their aliases, pause, resume, remove."""


@watch.command("add")
@click.argument("term")
@click.option(
    "--alias", "aliases", multiple=True, metavar="A", help="Another spelling (repeatable; '*' ends a prefix)."
)
@pass_cli
def add(cli: CliContext, term: str, aliases: tuple[str, ...]) -> None:
    """Add TERM with its aliases (any script)."""
    with cli.session() as session:
        row = add_watch_term(session, term=term, aliases=aliases)
    suffix = f" (aliases: {', '.join(row.aliases)})" if row.aliases else ""
    click.echo(f"Watching {row.term!r}{suffix}.")


@watch.command("list")
@pass_cli
def list_(cli: CliContext) -> None:
    """Every watch term with its aliases."""
    with cli.session() as session:
        rows = [
            (row.term, "yes" if row.enabled else "paused", ", ".join(row.aliases)) for row in list_watch_terms(session)
        ]
    if not rows:
        click.echo("No watch terms: add one with `monitor watch add TERM`.")
        return
    print_table(["term", "active", "aliases"], rows, max_width=90)


@watch.command("remove")
@click.argument("term")
@pass_cli
def remove(cli: CliContext, term: str) -> None:
    """Stop watching TERM."""
    with cli.session() as session:
        row = remove_watch_term(session, term=term)
    click.echo(f"Removed {row.term!r}.")


@watch.command("edit")
@click.argument("term")
@click.option("--add-alias", "add", multiple=True, metavar="A", help="A spelling to add (repeatable).")
@click.option("--remove-alias", "remove", multiple=True, metavar="A", help="A spelling to remove (repeatable).")
@pass_cli
def edit(cli: CliContext, term: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Add or remove aliases of TERM."""
    if not add and not remove:
        raise click.UsageError("say --add-alias A or --remove-alias A")
    with cli.session() as session:
        row = edit_watch_aliases(session, term=term, add=add, remove=remove)
        click.echo(f"{row.term!r}: aliases {', '.join(row.aliases) or 'none'}.")


@watch.command("pause")
@click.argument("term")
@pass_cli
def pause(cli: CliContext, term: str) -> None:
    """Stop keeping coverage for TERM, without forgetting it (`watch resume` turns it back on)."""
    with cli.session() as session:
        row = update_watch_term(session, term=term, enabled=False)
        click.echo(f"Paused {row.term!r}.")


@watch.command("resume")
@click.argument("term")
@pass_cli
def resume(cli: CliContext, term: str) -> None:
    """Keep coverage for a paused TERM again."""
    with cli.session() as session:
        row = update_watch_term(session, term=term, enabled=True)
        click.echo(f"Watching {row.term!r} again.")
