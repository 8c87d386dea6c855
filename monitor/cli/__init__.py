"""The `monitor` command line. Each verb group lives in its own module; this one wires them and the errors."""

from __future__ import annotations

from typing import Any

import click

from monitor.cli.context import CliContext
from monitor.config import ConfigError, load_settings
from monitor.errors import MonitorError


class MonitorGroup(click.Group):
    """Turns the project's errors into their one line on stderr and exit status 1, never a traceback.

    Only `MonitorError`s are caught: anything else is a bug, and its traceback is what a report needs.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `--db URL` is accepted after the verb too (`monitor serve --db URL`): it is moved before the verb,
        # where the group's option reads it. Only the top-level group does this; `--` ends the options.
        if ctx.parent is None:
            args = hoist_db_option(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as exc:
            raise click.ClickException(str(exc)) from None


def hoist_db_option(args: list[str]) -> list[str]:
    """`args` with every `--db URL` / `--db=URL` that follows the verb moved to the front."""
    hoisted: list[str] = []
    rest: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            rest.extend(args[position:])
            break
        if arg == "--db" and position + 1 < len(args):
            hoisted += args[position : position + 2]
            position += 2
            continue
        if arg.startswith("--db="):
            hoisted.append(arg)
        else:
            rest.append(arg)
        position += 1
    return hoisted + rest


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="Database URL (default: MONITOR_DATABASE_URL); also accepted after the verb.",
)
@click.version_option(package_name="claim-monitor", prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Claim Monitor: follow how baseline claims are repeated, updated or contradicted in the news."""
    overrides = {"database_url": database_url} if database_url else {}
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        message = str(exc)
        if database_url and message.startswith("MONITOR_DATABASE_URL"):
            message = "--db" + message.removeprefix("MONITOR_DATABASE_URL")
        raise click.ClickException(message) from None
    ctx.obj = CliContext(settings)


def _verbs() -> tuple[click.Command, ...]:
    """Every verb and verb group. Their modules are imported at start-up, with no exception caught: a verb
    whose module fails to import stops `monitor` with that error instead of vanishing from `--help`.

    The imports are local so that the package's attributes stay the verb modules (`monitor.cli.check`),
    not the commands of the same names.
    """
    from monitor.cli.alerts import alerts
    from monitor.cli.articles import articles, matches
    from monitor.cli.baseline import baseline
    from monitor.cli.check import check
    from monitor.cli.crawl import crawl
    from monitor.cli.crawler import crawler
    from monitor.cli.digest import digest
    from monitor.cli.service import demo, init, run, serve
    from monitor.cli.sources import sources
    from monitor.cli.watch import watch

    return (init, baseline, watch, sources, check, crawl, crawler, articles, matches, digest, alerts, serve, run, demo)


for verb in _verbs():
    main.add_command(verb)
