"""Running one step of a `jala` command: commit it, or turn a refusal into a click error."""
import click

from jala.errors import RuleViolation
from jala.extensions import db


def run_step(step):
    """``step()``'s result, committed; a broken rule rolls back and exits with its message."""
    try:
        result = step()
        db.session.commit()
        return result
    except RuleViolation as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
