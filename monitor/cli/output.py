"""Plain-text tables for the CLI: aligned columns, long cells shortened, nothing fancy."""

from collections.abc import Sequence

import click


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, max_width: int = 60) -> None:
    """Print rows under headers with columns padded to their widest cell (cut at max_width)."""
    cells = [[shorten("" if value is None else str(value), max_width) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    line = "  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True))
    click.echo(click.style(line.rstrip(), bold=True))
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
