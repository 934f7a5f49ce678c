"""add the shard registry and the record of the foreign keys sharding replaced

`jala shards init` turns `records` into a hash-partitioned table; these tables only say where
its buckets may live (`shards`) and which foreign keys onto records.id it replaced with
triggers (`shard_foreign_keys`). Without `jala shards init` both stay empty and nothing else
changes.

Revision ID: e2a3b4c5d601
Revises: d1b2c3e4f505
Create Date: 2026-12-15 01:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e2a3b4c5d601"
down_revision = "d1b2c3e4f505"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "shards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("conninfo", sa.Text(), nullable=False),
        sa.Column("server_name", sa.String(length=63), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shards")),
        sa.UniqueConstraint("name", name=op.f("uq_shards_name")),
        sa.UniqueConstraint("server_name", name=op.f("uq_shards_server_name")),
    )
    op.create_table(
        "shard_foreign_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("column_name", sa.String(length=63), nullable=False),
        sa.Column("constraint_name", sa.String(length=63), nullable=False),
        sa.Column("on_delete", sa.String(length=20), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("replaced_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shard_foreign_keys")),
        sa.UniqueConstraint("table_name", "constraint_name",
                            name=op.f("uq_shard_foreign_keys_table_name_constraint_name")),
    )


def downgrade():
    op.drop_table("shard_foreign_keys")
    op.drop_table("shards")
