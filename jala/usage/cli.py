"""``jala usage``: the usage statistics' roll-up, from the command line."""
import click
from flask.cli import AppGroup

from jala import clock
from jala.extensions import db
from jala.usage.counter import parse_month
from jala.usage.rollup import refresh_from


@click.group("usage", cls=AppGroup)
def usage():
    """Usage statistics: recompute the monthly roll-up."""


@usage.command("refresh")
@click.option("--from", "first", required=True, metavar="YYYY-MM",
              help="The first month to recompute; every month after it is recomputed too.")
def refresh_command(first):
    """Recompute the roll-up of every month from --from up to this month (a backfill)."""
    month = parse_month(first) if len(first or "") == 7 else None
    if month is None:
        raise click.BadParameter("a month as YYYY-MM, e.g. 2025-09", param_hint="--from")
    if month > clock.local_today():
        raise click.BadParameter("a month that has begun", param_hint="--from")
    months = refresh_from(month, progress=lambda m: click.echo(f"{m:%Y-%m} recomputed",
                                                                err=True))
    db.session.commit()
    click.echo(f"{months} months recomputed from {month:%Y-%m}")
