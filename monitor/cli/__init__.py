"""The `monitor` command line. Each verb group lives in its own module; this one wires them and the errors."""

from __future__ import annotations

from typing import Any

import click

from monitor.cli.context import CliContext
from monitor.config import ConfigError, load_settings
from monitor.errors import InputError
from monitor.storage.engine import DatabaseError


class MonitorGroup(click.Group):
    """Turns the errors a user can cause into one line on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (InputError, ConfigError, DatabaseError) as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:
            # Loader and parser errors (BaselineFileError, ClaimsFileError) are ValueErrors with a
            # message meant for the user.
            if type(exc).__module__.startswith(("monitor", "baseline", "alerts", "spiders")):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "database_url", metavar="URL", help="Database URL (default: MONITOR_DATABASE_URL).")
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


# (module, command) pairs, one per verb or verb group, in the order `monitor --help` lists them.
_COMMANDS = [
    ("monitor.cli.service", "init"),
    ("monitor.cli.baseline", "baseline"),
    ("monitor.cli.watch", "watch"),
    ("monitor.cli.sources", "sources"),
    ("monitor.cli.check", "check"),
    ("monitor.cli.crawl", "crawl"),
    ("monitor.cli.crawler", "crawler"),
    ("monitor.cli.articles", "articles"),
    ("monitor.cli.articles", "matches"),
    ("monitor.cli.digest", "digest"),
    ("monitor.cli.alerts", "alerts"),
    ("monitor.cli.service", "serve"),
    ("monitor.cli.service", "run"),
    ("monitor.cli.service", "demo"),
]


def _register() -> None:
    import importlib

    for module_name, attribute in _COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a verb still being built in a parallel branch of work
        main.add_command(getattr(module, attribute))


_register()
