"""`monitor digest`: the day's coverage as text, HTML or JSON, and sending it (once) to the channels."""

from __future__ import annotations

from datetime import date, datetime

import click

from alerts.digest import build_digest, local_today, send_digest, store_digest
from alerts.digest_render import digest_html, digest_json, digest_text
from alerts.outbox import configured_channels
from monitor.cli.alerts import echo_report, open_dispatcher
from monitor.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)
_RENDERERS = {"text": digest_text, "json": digest_json, "html": digest_html}


@click.command()
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day, YYYY-MM-DD (default: today in MONITOR_TIMEZONE).",
)
@click.option("--format", "output_format", type=click.Choice(sorted(_RENDERERS)), default="text", show_default=True)
@click.option("--send", "send_it", is_flag=True, help="Send it by email and Slack (once per day and channel).")
@click.option("--resend", is_flag=True, help="With --send: send it again although it was sent already.")
@pass_cli
def digest(cli: CliContext, day: datetime | None, output_format: str, send_it: bool, resend: bool) -> None:
    """Print the day's digest (and store it); with --send, queue and deliver it instead of printing."""
    zone = cli.settings.zone
    the_day: date = day.date() if day else local_today(zone)
    if resend and not send_it:
        raise click.UsageError("--resend needs --send")
    if not send_it:
        with cli.session() as session:
            content = build_digest(session, day=the_day, zone=zone)
            store_digest(session, content)
        click.echo(_RENDERERS[output_format](content), nl=False)
        return
    with cli.session() as session:
        sending = send_digest(
            session, day=the_day, zone=zone, channels=configured_channels(cli.settings), resend=resend
        )
    for channel, outcome in sending.channels.items():
        hint = " (use --resend to send it again)" if outcome == "already sent" else ""
        click.echo(f"{channel}: digest for {the_day.isoformat()} {outcome}{hint}")
    with open_dispatcher(cli) as dispatcher:
        if dispatcher.channels:
            echo_report(dispatcher.drain())
