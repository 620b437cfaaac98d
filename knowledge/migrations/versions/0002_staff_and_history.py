"""Staff accounts, revision history of every fact row, review status of unanswered questions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:00:00

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEARCHED = {
    "places": ("name_vi", "name_en", "aliases", "address_vi", "address_en", "district", "category", "phone"),
    "events": ("name_vi", "name_en", "aliases", "venue_vi", "venue_en", "category"),
    "faqs": ("title_vi", "title_en", "keywords", "topic"),
}


def _backfill_search_text() -> None:
    # The same text the models keep from now on; the migration computes it once for rows
    # that existed before (the fold function is stable, so importing it here is safe).
    from bot.text_normalise import fold

    bind = op.get_bind()
    for table_name, fields in SEARCHED.items():
        table = sa.table(table_name, sa.column("id"), sa.column("slug"), sa.column("search_text"),
                         *(sa.column(f) for f in fields))
        rows = bind.execute(sa.select(table)).mappings().all()
        for row in rows:
            parts = [row["slug"]]
            for field in fields:
                value = row[field]
                if isinstance(value, str) and field in ("aliases", "keywords") and value.startswith("["):
                    value = json.loads(value)  # SQLite hands JSON back as text here
                parts.extend(value if isinstance(value, list) else [value or ""])
            text = " " + " | ".join(fold(str(p)).replace("-", " ") for p in parts if p)
            bind.execute(table.update().where(table.c.id == row["id"]).values(search_text=text))


def upgrade() -> None:
    for table_name in SEARCHED:
        with op.batch_alter_table(table_name) as batch:
            batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    _backfill_search_text()
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("token_digest", sa.String(length=64), nullable=True),
        sa.Column("token_created_at", sa.DateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
        sa.UniqueConstraint("token_digest"),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_revisions_at", "revisions", ["at"])
    op.create_index("ix_revisions_row", "revisions", ["table_name", "row_id", "version"])
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="open"))
        batch.add_column(sa.Column("resolved_by", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.create_index("ix_unanswered_questions_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_index("ix_unanswered_questions_status")
        for column in ("resolution", "resolved_at", "resolved_by", "status"):
            batch.drop_column(column)
    op.drop_index("ix_revisions_row", table_name="revisions")
    op.drop_index("ix_revisions_at", table_name="revisions")
    op.drop_table("revisions")
    op.drop_table("users")
    for table_name in SEARCHED:
        with op.batch_alter_table(table_name) as batch:
            batch.drop_column("search_text")
