"""``jala harvest``: bring a member library's records in from an OAI-PMH repository."""
import click
from flask.cli import with_appcontext

from jala.errors import RuleViolation
from jala.extensions import db
from jala.protocols.harvest_schedule import source_lock
from jala.protocols.oai_harvest import harvest_source, run_harvest
from jala.protocols.oai_models import METADATA_PREFIXES


@click.command("harvest")
@click.argument("url")
@click.option("--library", "library_code", required=True, help="the member library's code")
@click.option("--set", "set_spec", default="", help="harvest only this OAI-PMH set")
@click.option("--metadata-prefix", type=click.Choice(METADATA_PREFIXES), default="marc21",
              show_default=True)
@with_appcontext
def harvest_command(url, library_code, set_spec, metadata_prefix):
    """Harvest URL's records for a library: from where the last harvest stopped."""
    try:
        source = harvest_source(library_code, url, set_spec=set_spec,
                                metadata_prefix=metadata_prefix)
        db.session.commit()
        if source.resumption_token:
            click.echo("going on with the harvest that was cut short")
        elif source.last_datestamp:
            click.echo(f"harvesting records changed since {source.last_datestamp}")
        with source_lock(source.id) as free:
            if not free:
                raise click.ClickException("a scheduled harvest of this source is running now; "
                                           "try again when it has finished")
            stats = run_harvest(source)
    except RuleViolation as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(stats.summary())
