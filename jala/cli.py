"""The ``jala`` command: run, worker, db, backup, restore, seed-demo, create-admin."""
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command

from config import PROJECT_ROOT, load_config
from jala import create_app
from jala.protocols.harvest_cli import harvest_command
from jala.protocols.sip2_cli import sip2
from jala.shards.cli import shards
from jala.signon.cli import idp
from jala.usage.cli import usage


def _app_factory():
    return create_app()


cli = FlaskGroup(create_app=_app_factory, add_default_commands=False,
                 help="The JALA Portal command line.")
cli.add_command(shell_command)
cli.add_command(routes_command)
cli.add_command(idp)
cli.add_command(harvest_command)
cli.add_command(sip2)
cli.add_command(usage)
cli.add_command(shards)


def main():
    """Entry point of the ``jala`` console script."""
    cli.main(prog_name="jala")


# --- database ----------------------------------------------------------------------------

def alembic_config(connection=None):
    """Alembic's config for our migrations folder (optionally on an open connection)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cli.group()
def db():
    """Database migrations (alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision):
    """Upgrade the database to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    click.echo(f"database upgraded to {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    """Downgrade the database to REVISION."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


@db.command("current")
def db_current():
    """Show the database's revision."""
    from alembic import command

    command.current(alembic_config(), verbose=False)


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path):
    """Write the database (pg_dump -Fc) and the private files to PATH (a tar archive)."""
    from jala.backup import BackupError, backup
    from jala.files import storage_dir

    try:
        manifest = backup(current_app.config["DATABASE_URL"], storage_dir(), path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {path}: the database and {len(manifest['files'])} files")


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True,
              help="Restore over a database (and file store) that already holds data.")
def restore_command(path, force):
    """Restore a backup made by ``jala backup`` into an empty database and file store."""
    from jala.backup import BackupError, restore
    from jala.extensions import db as database
    from jala.files import storage_dir

    database.engine.dispose()  # no connection of ours holds the database while it is replaced
    try:
        manifest = restore(current_app.config["DATABASE_URL"], storage_dir(), path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {path} (made {manifest['created_at']}): the database and "
               f"{len(manifest['files'])} files")


# --- accounts ----------------------------------------------------------------------------

@cli.command("seed-demo")
def seed_demo_command():
    """Load demo accounts (and demo data) and print the logins."""
    from jala.demo import seed_demo

    if current_app.config["JALA_PRODUCTION"]:
        raise click.ClickException("demo accounts have a published password: not in production")
    for line in seed_demo():
        click.echo(line)


@cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Portal admin", help="Display name.")
@click.option("--card", default=None, help="Staff card number (default: derived from email).")
def create_admin(email, name, card):
    """Create a portal admin at the current chair library (asks for the password)."""
    from jala.accounts.models import ROLE_PORTAL_ADMIN
    from jala.accounts.passwords import check_password_policy
    from jala.accounts.roles import create_user_with_role
    from jala.errors import RuleViolation
    from jala.extensions import db as database
    from jala.membership import current_chair_library

    password = os.environ.get("JALA_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    chair = current_chair_library()
    if chair is None:
        raise click.ClickException("no chair library is recorded; run `jala db upgrade` first")
    try:
        check_password_policy(password, email)
        user = create_user_with_role(
            email=email, password=password, display_name=name, library_code=chair.code,
            role=ROLE_PORTAL_ADMIN, card_number=card or "ADMIN-" + email.split("@")[0][:30],
        )
        database.session.commit()
    except RuleViolation as exc:
        database.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"portal admin {user.email} created at {chair.code}; "
               "the first login sets up the authenticator app")


@cli.command("totp-code")
@click.argument("email")
def totp_code(email):
    """Print the current second-factor code of an account (development only)."""
    import pyotp

    from jala.accounts.services import find_user_by_email

    if current_app.config["JALA_PRODUCTION"]:
        raise click.ClickException("not available in production")
    user = find_user_by_email(email)
    if user is None or not user.totp_secret:
        raise click.ClickException("no such account with a second factor")
    click.echo(pyotp.TOTP(user.totp_secret).now())


@cli.command("library-info")
@click.argument("code")
@click.option("--address", help="Street address readers find the library at.")
@click.option("--hours", "opening_hours", help="Opening hours, e.g. 周一至周日 8:00–22:00.")
@click.option("--phone", help="Telephone number for readers.")
@click.option("--email", help="Email address for readers.")
@click.option("--website", help="The library's website (https://…).")
def library_info(code, **values):
    """Show a member library's public details, or change those given ('' clears one)."""
    from jala.core.libraries import DETAILS, update_library_details
    from jala.errors import RuleViolation
    from jala.extensions import db as database

    given = {name: value for name, value in values.items() if value is not None}
    try:
        library = update_library_details(None, code, **given)
        database.session.commit()
    except RuleViolation as exc:
        database.session.rollback()
        raise click.ClickException(exc.message) from exc
    for name in DETAILS:
        click.echo(f"{name:<14} {getattr(library, name) or ''}")


# --- catalogue ----------------------------------------------------------------------------

@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--library", "library_code", required=True, help="Code of the source library.")
@click.option("--format", "format_name", type=click.Choice(["jsonl", "marcxml", "marc"]),
              help="Inferred from the file when not given.")
@click.option("--flavour", type=click.Choice(["marc21", "unimarc", "cnmarc"]),
              help="MARC flavour; guessed per record when not given.")
@click.option("--encoding", type=click.Choice(["utf-8", "gb18030"]), default="utf-8")
@click.option("--workers", type=click.IntRange(1, 16), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Processes preparing records (tokens, pinyin).")
@click.option("--bulk", is_flag=True,
              help="A large first load: the search indexes are dropped before it and built "
                   "after it (searching is slow until they are).")
def import_command(path, library_code, format_name, flavour, encoding, workers, bulk):
    """Import records from PATH into the union catalogue for a member library."""
    from jala.catalog.bulk import (
        analyze_records,
        build_missing_search_indexes,
        drop_search_indexes,
    )
    from jala.catalog.preparation import InvalidRecord
    from jala.catalog.readers import ImportFileError, open_records

    def building(name):
        click.echo(f"building {name}…", err=True)

    # an earlier bulk load that was stopped before its indexes were built is mended first
    build_missing_search_indexes(progress=building)
    if bulk:
        drop_search_indexes()
    label = "line" if (format_name or "").startswith("json") else "record"
    try:
        size = Path(path).stat().st_size
        with open(path, "rb") as raw:
            counter, items, detected = open_records(raw, path, format_name, encoding)
            label = "line" if detected == "jsonl" else "record"
            shown = [0]
            with click.progressbar(length=size, label=f"importing {Path(path).name}",
                                   file=sys.stderr) as bar:
                def progress(stats):
                    bar.update(counter.bytes_read - bar.pos)
                    for error in stats.errors[shown[0]:]:
                        click.echo(f"\n{label} {error['position']}: {error['reason']}",
                                   err=True)
                    shown[0] = len(stats.errors)

                from jala.catalog.importer import import_stream

                stats = import_stream(items, library_code, format_name=detected,
                                      flavour=flavour, progress=progress, workers=workers)
    except (InvalidRecord, ImportFileError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bulk:
            for name, seconds in build_missing_search_indexes(progress=building):
                click.echo(f"built {name} in {seconds:.1f} s", err=True)
            click.echo("reading the new records' statistics (ANALYZE)…", err=True)
            analyze_records()
            from jala.extensions import db as database
            from jala.search.suggest import rebuild_suggestions

            click.echo("making the search box's suggestions…", err=True)
            rebuild_suggestions()
            database.session.commit()
    if stats.unreported:
        click.echo(f"… and {stats.unreported} more skipped records", err=True)
    click.echo(stats.summary())


@cli.command("suggestions")
@click.option("--batch-size", type=click.IntRange(1000, 1_000_000), default=50_000,
              show_default=True)
def suggestions_command(batch_size):
    """Make the search box's suggestions anew from the whole catalogue."""
    from jala.extensions import db as database
    from jala.search.suggest import rebuild_suggestions

    done = rebuild_suggestions(batch_size, progress=lambda n: click.echo(f"{n:,} records",
                                                                         err=True))
    database.session.commit()
    click.echo(f"suggestions made from {done:,} records")


@cli.command("reindex")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def reindex_command(batch_size):
    """Rebuild the search index columns of every record (after the indexing rules change)."""
    from sqlalchemy import func, select

    from jala.catalog.models import Record
    from jala.extensions import db as database
    from jala.search.indexing import reindex

    total = database.session.execute(select(func.count()).select_from(Record)).scalar()
    with click.progressbar(length=total, label="reindexing", file=sys.stderr) as bar:
        done = reindex(batch_size, progress=lambda n: bar.update(n - bar.pos))
    click.echo(f"{done} records reindexed")


# --- processes ---------------------------------------------------------------------------

@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst):
    """Run the RQ worker and the due-work sweeper."""
    from jala.jobs import run_worker

    run_worker(current_app._get_current_object(), burst=burst)


def _metrics_env(env, instance):
    """The web workers' environment: one emptied folder where they add up their metrics."""
    folder = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or instance / "prometheus")
    shutil.rmtree(folder, ignore_errors=True)  # counts of an earlier run are not this one's
    folder.mkdir(parents=True)
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(folder)}


def _database_is_empty(app):
    from sqlalchemy import func, select

    from jala.accounts.models import User
    from jala.extensions import db as database

    with app.app_context():
        return database.session.scalar(select(func.count()).select_from(User)) == 0


@cli.command("run", with_appcontext=False)
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--web-workers", default=2, type=int)
@click.pass_context
def run(ctx, host, port, web_workers):
    """Start everything: embedded services if needed, migrations, demo data, web and worker."""
    def interrupt(*_):
        raise KeyboardInterrupt

    # a terminal closing (SIGHUP) or a service manager (SIGTERM) stops everything, like Ctrl-C
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    settings = load_config()
    instance = Path(settings["INSTANCE_PATH"])
    env = dict(os.environ)
    stoppers = []
    children = []

    def shutdown(*_args):
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
        for proc in children:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for stop in reversed(stoppers):
            stop()

    try:
        if not settings["JALA_PRODUCTION"]:
            if not settings["DATABASE_URL"]:
                from jala.embedded.postgres import ensure_postgres

                env["DATABASE_URL"] = ensure_postgres(instance)
                click.echo("embedded PostgreSQL: instance/postgres")
            if not settings["REDIS_URL"]:
                from jala.embedded.redis_server import ensure_redis

                env["REDIS_URL"] = ensure_redis(instance)
                click.echo(f"embedded Redis: {env['REDIS_URL']}")
            if not settings["MAIL_SERVER"]:
                from jala.embedded.mailsink import start_mail_sink

                sink = start_mail_sink(instance / "mail")
                stoppers.append(sink.stop)
                env["MAIL_SERVER"], env["MAIL_PORT"] = "127.0.0.1", str(sink.port)
                click.echo(f"mail sink: instance/mail (SMTP 127.0.0.1:{sink.port})")
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER",
                                                "MAIL_PORT") if k in env})
        app = create_app()
        with app.app_context():
            from alembic import command

            command.upgrade(alembic_config(), "head")
        if not settings["JALA_PRODUCTION"] and _database_is_empty(app):
            with app.app_context():
                from jala.demo import seed_demo

                for line in seed_demo():
                    click.echo(line)
        children.append(subprocess.Popen([sys.executable, "-m", "jala", "worker"], env=env,
                                         start_new_session=True))
        children.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
             "--workers", str(web_workers), "--threads", "4",
             "--chdir", str(PROJECT_ROOT), "wsgi:app"],
            env=_metrics_env(env, instance), start_new_session=True))
        click.echo(f"JALA Portal at http://{host}:{port}/ (Ctrl-C stops everything)")
        while all(proc.poll() is None for proc in children):
            time.sleep(0.5)
        click.echo("a portal process stopped; shutting down", err=True)
        ctx.exit_code = 1
    except KeyboardInterrupt:
        click.echo("stopping…")
    finally:
        shutdown()
    if getattr(ctx, "exit_code", 0):
        sys.exit(1)
