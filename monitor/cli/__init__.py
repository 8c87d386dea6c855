"""The `monitor` command line. Each verb group lives in its own module; this one wires them and the errors.

The verbs are listed in `VERBS` and their modules imported only when one is used, so `monitor --help`
does not import the whole stack (storage, matching, crawling). A verb cannot vanish: every module in
`VERBS` is looked up at start-up (a missing one stops `monitor` with that error), using a verb imports
its module with no exception caught, and a test imports every verb and checks its help against `VERBS`.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from monitor.errors import MonitorError

# name: (module, attribute, the one-line help `monitor --help` shows; a test keeps it the command's own)
VERBS: dict[str, tuple[str, str, str]] = {
    "init": (
        "monitor.cli.service",
        "init",
        "Create the schema and load the bundled baseline, watch terms and sources (safe to run again).",
    ),
    "baseline": ("monitor.cli.baseline", "baseline", "The baseline: reference articles and known claims."),
    "watch": ("monitor.cli.watch", "watch", "Watch terms: add, list, edit their aliases, pause, resume, remove."),
    "sources": ("monitor.cli.sources", "sources", "Sources to crawl: add, list, remove, enable, disable."),
    "check": (
        "monitor.cli.check",
        "check",
        "Match claims from stdin against the baseline: verdict, score, baseline claim and evidence.",
    ),
    "crawl": (
        "monitor.cli.crawl",
        "crawl",
        "Crawl every enabled source once (or only --source URL), store what is new, and print a summary.",
    ),
    "crawler": (
        "monitor.cli.crawler",
        "crawler",
        "Crawl the sources the scheduler hands out through Redis, until stopped.",
    ),
    "articles": ("monitor.cli.articles", "articles", "Stored articles."),
    "matches": ("monitor.cli.articles", "matches", "Stored matches of new claims to baseline claims."),
    "digest": (
        "monitor.cli.digest",
        "digest",
        "Print the day's digest (and store it); with --send, queue and deliver it instead of printing.",
    ),
    "alerts": ("monitor.cli.alerts", "alerts", "The alert outbox: list, send now, retry."),
    "serve": ("monitor.cli.service", "serve", "Run the web app only."),
    "run": ("monitor.cli.service", "run", "Run the service until Ctrl-C or SIGTERM: the scheduler and the web app."),
    "demo": (
        "monitor.cli.service",
        "demo",
        "Offline, end to end: a local news site, mail sink and Slack receiver; one crawl, alerts and digest.",
    ),
}


def check_verb_modules() -> None:
    """Raise ModuleNotFoundError for a verb module that cannot be found (as after a rename)."""
    for module, _attribute, _help in VERBS.values():
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(f"No module named {module!r} (the module of a `monitor` verb)", name=module)


def load_verb(entry: tuple[str, str, str]) -> click.Command:
    """The command of a `VERBS` entry, importing its module (errors propagate: a broken verb is a traceback)."""
    module, attribute, _help = entry
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{module}.{attribute} is not a click command")
    return command


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


class MonitorGroup(click.Group):
    """Turns the project's errors into their one line on stderr and exit status 1, never a traceback.

    Only `MonitorError`s are caught: anything else is a bug, and its traceback is what a report needs.
    `lazy` verbs (name -> (module, attribute, help)) are imported when used.
    """

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(name for name in sorted(self.commands) if name not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in self.lazy:
            command = load_verb(self.lazy[cmd_name])
            self.commands[cmd_name] = command
            return command
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing reads the help from the table, so `monitor --help` imports no verb module.
        rows = [(name, help_text) for name, (_module, _attribute, help_text) in self.lazy.items()]
        rows += [
            (name, command.get_short_help_str(limit=formatter.width))
            for name, command in sorted(self.commands.items())
            if name not in self.lazy and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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


@click.group(cls=MonitorGroup, lazy=VERBS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", "database_url", metavar="URL", help="Database URL (default MONITOR_DATABASE_URL); also after the verb."
)
@click.version_option(package_name="claim-monitor", prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Claim Monitor: follow how baseline claims are repeated, updated or contradicted in the news."""
    from monitor.cli.context import CliContext
    from monitor.config import ConfigError, load_settings

    overrides = {"database_url": database_url} if database_url else {}
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        message = str(exc)
        if database_url and message.startswith("MONITOR_DATABASE_URL"):
            message = "--db" + message.removeprefix("MONITOR_DATABASE_URL")
        raise click.ClickException(message) from None
    ctx.obj = CliContext(settings)


check_verb_modules()
