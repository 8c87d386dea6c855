"""`monitor init`, `monitor serve` and `monitor run`: set the database up and run the service."""

from __future__ import annotations

import click

from monitor.cli.context import CliContext
from monitor.setup import initialise

pass_cli = click.make_pass_decorator(CliContext)


@click.command()
@pass_cli
def init(cli: CliContext) -> None:
    """Create the schema and load the bundled baseline, watch terms and sources (safe to run again)."""
    with cli.session() as session:
        report = initialise(session)
    if report.nothing_changed:
        click.echo("Already initialised: nothing to change.")
        return
    click.echo(
        f"Baseline: {report.baseline.articles_added} articles, {report.baseline.claims_added} claims added. "
        f"Watch terms: {report.watch_terms_added} added. Sources: {report.sources_added} added."
    )


def _serve(cli: CliContext, host: str | None, port: int | None) -> None:
    from monitor.web.server import serve_web

    settings = cli.settings
    with cli.session() as session:
        initialise(session)
    serve_web(settings, cli.engine, host=host or settings.web_host, port=port or settings.web_port)


@click.command()
@click.option("--host", help="Address to listen on (default MONITOR_WEB_HOST).")
@click.option("--port", type=int, help="Port (default MONITOR_WEB_PORT).")
@pass_cli
def serve(cli: CliContext, host: str | None, port: int | None) -> None:
    """Run the web app only."""
    _serve(cli, host, port)


@click.command()
@click.option("--host", help="Address to listen on (default MONITOR_WEB_HOST).")
@click.option("--port", type=int, help="Port (default MONITOR_WEB_PORT).")
@pass_cli
def run(cli: CliContext, host: str | None, port: int | None) -> None:
    """Run the service: the web app (and, as they land, the scheduler) until Ctrl-C."""
    _serve(cli, host, port)
