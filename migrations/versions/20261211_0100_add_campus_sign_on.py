"""add campus sign-on: identity providers per library, campus identities, used SAML assertions

Revision ID: 8c3e5a7b9d12
Revises: 6b2d8e4f1a70
Create Date: 2026-12-11 01:00
"""
import sqlalchemy as sa
from alembic import op

revision = "8c3e5a7b9d12"
down_revision = "6b2d8e4f1a70"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("reader_type", sa.String(length=10), nullable=True))
    op.create_check_constraint(op.f("ck_users_known_reader_type"), "users",
                               "reader_type IN ('student', 'faculty', 'staff')")
    op.create_table(
        "identity_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("client_secret_sealed", sa.Text(), nullable=True),
        sa.Column("client_secret_env", sa.String(length=100), nullable=True),
        sa.Column("saml_entity_id", sa.String(length=500), nullable=True),
        sa.Column("saml_metadata", sa.Text(), nullable=True),
        sa.Column("trust_provider_mfa", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('oidc', 'cas', 'saml')",
                           name=op.f("ck_identity_providers_known_kind")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_identity_providers_library_id_libraries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_providers")),
        sa.UniqueConstraint("library_id", name=op.f("uq_identity_providers_library_id")),
        sa.UniqueConstraint("saml_entity_id", name=op.f("uq_identity_providers_saml_entity_id")),
    )
    op.create_table(
        "campus_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_campus_identities_library_id_libraries")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_campus_identities_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campus_identities")),
        sa.UniqueConstraint("library_id", "issuer", "subject",
                            name=op.f("uq_campus_identities_library_id_issuer_subject")),
    )
    op.create_index(op.f("ix_campus_identities_user_id"), "campus_identities", ["user_id"])
    op.create_table(
        "used_saml_assertions",
        sa.Column("assertion_id", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assertion_id", name=op.f("pk_used_saml_assertions")),
    )
    op.create_index(op.f("ix_used_saml_assertions_expires_at"), "used_saml_assertions",
                    ["expires_at"])


def downgrade():
    op.drop_table("used_saml_assertions")
    op.drop_table("campus_identities")
    op.drop_table("identity_providers")
    op.drop_constraint(op.f("ck_users_known_reader_type"), "users", type_="check")
    op.drop_column("users", "reader_type")
