"""`monitor alerts …`: the alert outbox: list rows, drain it now, retry a failed row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import httpx

from alerts.channels import build_channels
from alerts.dispatcher import DispatchReport, OutboxDispatcher
from alerts.outbox import no_channel_notice
from monitor.catalog.queries import list_alerts
from monitor.cli.context import CliContext
from monitor.cli.output import print_table

pass_cli = click.make_pass_decorator(CliContext)
STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


@contextmanager
def open_dispatcher(cli: CliContext) -> Iterator[OutboxDispatcher]:
    """A dispatcher over the configured channels; says once on stderr when there is none."""
    notice = no_channel_notice(cli.settings)
    if notice:
        click.echo(notice, err=True)
    with httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False) as client:
        channels = build_channels(cli.settings, http_client=client)
        yield OutboxDispatcher.from_settings(cli.engine, cli.settings, channels)


def echo_report(report: DispatchReport) -> None:
    """One line per batch: what was delivered, what will be retried (when), what failed (why)."""
    for delivery in report.deliveries:
        ids = ", ".join(str(alert_id) for alert_id in delivery.alert_ids)
        if delivery.outcome == "sent":
            click.echo(f"sent      {delivery.channel}: {delivery.subject} (alerts {ids})")
        elif delivery.outcome == "deferred":
            when = delivery.next_attempt_at.isoformat(timespec="seconds") if delivery.next_attempt_at else "?"
            click.echo(f"cooling   {delivery.channel}: alerts {ids} wait until {when}")
        elif delivery.outcome == "retrying":
            when = delivery.next_attempt_at.isoformat(timespec="seconds") if delivery.next_attempt_at else "?"
            click.echo(f"retrying  {delivery.channel}: alerts {ids} at {when}: {delivery.error}")
        else:
            click.echo(f"failed    {delivery.channel}: alerts {ids}: {delivery.error}")
    if not report.deliveries:
        click.echo("Nothing to send.")


@click.group()
def alerts() -> None:
    """The alert outbox: list, send now, retry."""


@alerts.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only alerts with this status.")
@pass_cli
def list_(cli: CliContext, status: str | None) -> None:
    """Alerts in the outbox, newest first."""
    with cli.session() as session:
        rows = [
            (
                row.id,
                row.channel,
                row.status,
                row.attempts,
                row.carries,
                (row.sent_at or row.next_attempt_at).isoformat(timespec="seconds"),
                row.last_error or "",
            )
            for row in list_alerts(session, status=status)
        ]
    if not rows:
        click.echo("No alerts" + (f" with status {status}." if status else "."))
        return
    print_table(["id", "channel", "status", "attempts", "carries", "sent/due", "last error"], rows)


@alerts.command("send")
@pass_cli
def send(cli: CliContext) -> None:
    """Deliver every due alert now and print what was delivered, retried or failed."""
    with open_dispatcher(cli) as dispatcher:
        if not dispatcher.channels:
            return
        report = dispatcher.drain()
    echo_report(report)


@alerts.command("retry")
@click.argument("alert_id", metavar="ID", type=int)
@pass_cli
def retry(cli: CliContext, alert_id: int) -> None:
    """Put failed alert ID back in the queue (sent at the next `alerts send` or dispatcher pass)."""
    with open_dispatcher(cli) as dispatcher:
        alert = dispatcher.retry(alert_id)
    click.echo(f"Alert {alert.id} ({alert.channel}) is pending again.")
