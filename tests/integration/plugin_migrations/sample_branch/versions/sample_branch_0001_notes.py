"""A sample plugin branch (test fixture): the tenant table ``sample_notes``.

Revision ID: sample_branch_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tenantcommerce.db.migration_helpers import create_tenant_table

revision = "sample_branch_0001"
down_revision = None
branch_labels = ("sample_branch",)
depends_on = "0004"


def upgrade() -> None:
    create_tenant_table(
        "sample_notes",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.UniqueConstraint("store_id", "slug", name="uq_sample_notes_store_id_slug"),
    )


def downgrade() -> None:
    op.drop_table("sample_notes")
