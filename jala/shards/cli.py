"""``jala shards``: partition the catalogue, add shards, spread the buckets over them."""
import click
from flask.cli import AppGroup

from jala.command_steps import run_step
from jala.shards import services
from jala.shards.buckets import location_name
from jala.shards.partitioning import DEFAULT_BUCKETS, partition_records


@click.group("shards", cls=AppGroup)
def shards():
    """The sharded catalogue: records in hash buckets on the primary and other servers."""



@shards.command("init")
@click.option("--buckets", type=click.IntRange(2, 256), default=DEFAULT_BUCKETS,
              show_default=True, help="How many hash buckets (the most shards worth having).")
@click.option("--keep-local", is_flag=True,
              help="With shards added already: the primary keeps its share of buckets.")
def init_command(buckets, keep_local):
    """Turn records into hash buckets by union record id.

    Without shards the buckets stay on the primary (`jala shards add`, then `jala shards
    rebalance` spread them); with shards added first they go straight to them, and the
    search indexes are built once, on the shards.
    """
    records = run_step(lambda: partition_records(buckets, progress=lambda line: click.echo(
        line, err=True), keep_local=keep_local))
    click.echo(f"records is partitioned: {buckets} buckets, {records:,} records")


@shards.command("add")
@click.argument("url")
@click.option("--name", help="A short name (default shard1, shard2, …).")
@click.option("--ask-password", is_flag=True,
              help="Ask for the shard's password; it is kept only in the user mapping.")
def add_command(url, name, ask_password):
    """Register the PostgreSQL database at URL (postgresql://user@host:port/db) as a shard."""
    password = click.prompt("password", hide_input=True) if ask_password else None
    shard = run_step(lambda: services.add_shard(url, name, password))
    click.echo(f"shard {shard.name} added ({shard.conninfo}); it holds no bucket until "
               f"`jala shards rebalance`")


def _show_move(move):
    phases = ", ".join(f"{name} {seconds * 1000:.0f} ms" if name == "swap" else
                       f"{name} {seconds:.1f} s" for name, seconds in move.phases.items())
    click.echo(f"{move.bucket}: {move.source} → {move.target}, {move.rows:,} records in "
               f"{move.seconds:.1f} s ({move.rows_per_second:,.0f} rows/s; {phases})")


@shards.command("rebalance")
@click.option("--keep-local", is_flag=True, help="The primary keeps its share of buckets.")
@click.option("--dry-run", is_flag=True, help="Say what would move, move nothing.")
def rebalance_command(keep_local, dry_run):
    """Spread the buckets evenly over the shards, one bucket at a time."""
    if dry_run:
        moves = run_step(lambda: services.plan(keep_local))
        for bucket, target in moves:
            click.echo(f"{bucket.name}: {location_name(bucket.server)} → "
                       f"{location_name(target)}")
        click.echo(f"{len(moves)} buckets would move")
        return
    moves = run_step(lambda: services.rebalance(keep_local, progress=_show_move))
    rows = sum(m.rows for m in moves)
    seconds = sum(m.seconds for m in moves)
    click.echo(f"{len(moves)} buckets moved, {rows:,} records in {seconds:.1f} s"
               + (f" ({rows / seconds:,.0f} rows/s)" if seconds else ""))


@shards.command("remove")
@click.argument("name")
@click.option("--keep-local", is_flag=True,
              help="Spread its buckets over the other shards and the primary.")
def remove_command(name, keep_local):
    """Move every bucket off the shard NAME, then forget it."""
    moves = run_step(lambda: services.remove_shard(name, progress=_show_move,
                                               keep_local=keep_local))
    click.echo(f"shard {name} removed ({len(moves)} buckets moved)")


@shards.command("list")
def list_command():
    """Each location, its buckets, records and size; the foreign keys sharding replaced."""
    for place in run_step(services.locations):
        where = f" ({place.conninfo})" if place.conninfo else ""
        if place.error:
            click.echo(f"{place.name}{where}: not answering: {place.error}")
            continue
        names = ", ".join(name.rsplit("_", 1)[-1] for name in place.buckets) or "no buckets"
        click.echo(f"{place.name}{where}: {len(place.buckets)} buckets ({names}), "
                   f"{place.rows:,} records, {place.bytes / 2**20:,.1f} MiB")
    keys = run_step(services.replaced_foreign_keys)
    if keys:
        click.echo("foreign keys onto records.id, now onto record_keys (the ids, on the primary):")
        for key in keys:
            click.echo(f"  {key.table_name}.{key.constraint_name}: {key.definition}")
