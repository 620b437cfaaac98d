"""Unique live names in the database, word-based search text, revocable sessions.

Places, events and practical information get ``title_key`` (the folded Vietnamese name)
with a unique index among live rows, so two saves arriving together cannot both create the
same name; ``search_text`` is rebuilt as plain words (punctuation and hyphens dropped);
users get ``session_epoch``, which every session must match.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:00:00

"""

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEARCHED = {
    "places": ("name_vi", "name_en", "aliases", "address_vi", "address_en", "district", "category", "phone"),
    "events": ("name_vi", "name_en", "aliases", "venue_vi", "venue_en", "category"),
    "faqs": ("title_vi", "title_en", "keywords", "topic"),
}
TITLE = {"places": "name_vi", "events": "name_vi", "faqs": "title_vi"}
_WORD = re.compile(r"\w+")


def _backfill() -> None:
    # The same values the models keep from now on (knowledge.models.search_words and
    # title_key), computed once here for the rows that exist; fold is stable, so importing
    # it is safe.
    from bot.text_normalise import fold

    bind = op.get_bind()
    for table_name, fields in SEARCHED.items():
        table = sa.table(table_name, sa.column("id"), sa.column("slug"), sa.column("retired"),
                         sa.column("search_text"), sa.column("title_key"),
                         *(sa.column(f) for f in fields))
        live: dict[str, list[str]] = {}
        for row in bind.execute(sa.select(table)).mappings().all():
            parts = [row["slug"]]
            for field in fields:
                value = row[field]
                if isinstance(value, str) and field in ("aliases", "keywords") and value.startswith("["):
                    value = json.loads(value)  # SQLite hands JSON back as text here
                parts.extend(value if isinstance(value, list) else [value or ""])
            words = [w for p in parts if p for w in _WORD.findall(fold(str(p)))]
            title = row[TITLE[table_name]]
            key = fold(title) if title is not None else None
            if key is not None and not row["retired"]:
                live.setdefault(key, []).append(f"{row['id']} “{title}”")
            bind.execute(table.update().where(table.c.id == row["id"])
                         .values(search_text=" " + " ".join(words), title_key=key))
        clashes = [", ".join(rows) for rows in live.values() if len(rows) > 1]
        if clashes:
            raise RuntimeError(
                f"Bảng {table_name} có mục đang dùng trùng tên (chỉ khác dấu hoặc chữ hoa): "
                + "; ".join(clashes) + ". Hãy đổi tên hoặc ngừng dùng một trong số đó rồi chạy lại."
            )


def upgrade() -> None:
    for table_name in SEARCHED:
        with op.batch_alter_table(table_name) as batch:
            batch.add_column(sa.Column("title_key", sa.Text(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    _backfill()
    for table_name in SEARCHED:
        op.create_index(f"uq_{table_name}_title_key_live", table_name, ["title_key"], unique=True,
                        sqlite_where=sa.text("NOT retired"), postgresql_where=sa.text("NOT retired"))


def downgrade() -> None:
    for table_name in SEARCHED:
        op.drop_index(f"uq_{table_name}_title_key_live", table_name=table_name)
        with op.batch_alter_table(table_name) as batch:
            batch.drop_column("title_key")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
    # search_text stays in the word form: 0002's search reads it just as well.
