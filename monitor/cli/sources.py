"""`monitor sources …`: the feeds, sitemaps and section pages to crawl."""

from __future__ import annotations

import click

from monitor.catalog.sources import add_source, describe_every, list_sources, remove_source, set_source_enabled
from monitor.cli.context import CliContext
from monitor.cli.output import print_table
from monitor.storage.models import SourceKind

pass_cli = click.make_pass_decorator(CliContext)


@click.group()
def sources() -> None:
    """Sources to crawl: add, list, remove, enable, disable."""


@sources.command("add")
@click.argument("url")
@click.option("--kind", type=click.Choice([kind.value for kind in SourceKind]), default="feed", show_default=True)
@click.option("--every", metavar="INTERVAL", help="Own crawl interval, e.g. 30m, 2h (default MONITOR_CRAWL_EVERY).")
@click.option("--outlet", help="The outlet's name.")
@click.option("--disabled", is_flag=True, help="Add it without crawling it yet.")
@pass_cli
def add(cli: CliContext, url: str, kind: str, every: str | None, outlet: str | None, disabled: bool) -> None:
    """Add a source URL."""
    with cli.session() as session:
        row = add_source(
            session,
            url=url,
            kind=kind,
            every=every,
            outlet=outlet,
            enabled=not disabled,
            policy=cli.settings.address_policy,
        )
        every_text = describe_every(row, cli.settings.crawl_every)
    click.echo(f"Added {row.kind} {row.url} (every {every_text}).")


@sources.command("list")
@click.option("--enabled", "enabled_only", is_flag=True, help="Only the sources being crawled.")
@pass_cli
def list_(cli: CliContext, enabled_only: bool) -> None:
    """Every source with its kind, interval and last crawl."""
    default = cli.settings.crawl_every
    with cli.session() as session:
        rows = [
            (
                row.outlet or "",
                row.url,
                row.kind,
                "yes" if row.enabled else "no",
                describe_every(row, default),
                row.last_crawled_at.strftime("%Y-%m-%d %H:%M") if row.last_crawled_at else "never",
                row.last_error or row.last_status or "",
            )
            for row in list_sources(session, enabled_only=enabled_only)
        ]
    if not rows:
        click.echo("No sources: add one with `monitor sources add URL`.")
        return
    print_table(["outlet", "url", "kind", "enabled", "every", "last crawl", "status"], rows, max_width=70)


@sources.command("remove")
@click.argument("url")
@pass_cli
def remove(cli: CliContext, url: str) -> None:
    """Stop crawling URL and forget it."""
    with cli.session() as session:
        row = remove_source(session, url=url)
    click.echo(f"Removed {row.url}.")


@sources.command("enable")
@click.argument("url")
@pass_cli
def enable(cli: CliContext, url: str) -> None:
    """Start crawling a disabled source."""
    with cli.session() as session:
        row = set_source_enabled(session, url=url, enabled=True)
    click.echo(f"Enabled {row.url}.")


@sources.command("disable")
@click.argument("url")
@pass_cli
def disable(cli: CliContext, url: str) -> None:
    """Keep a source but stop crawling it."""
    with cli.session() as session:
        row = set_source_enabled(session, url=url, enabled=False)
    click.echo(f"Disabled {row.url}.")
