"""Where the knowledge base lives. Embedded default: a SQLite file under var/."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Runtime state (databases, logs): var/ in the project unless ASSISTANT_VAR_DIR says otherwise.
VAR_DIR = Path(os.environ.get("ASSISTANT_VAR_DIR") or PROJECT_ROOT / "var")
DEFAULT_SQLITE_PATH = VAR_DIR / "knowledge.db"


def database_url() -> str:
    """``DATABASE_URL`` if set (e.g. ``postgresql://user@host/db``), else the embedded SQLite
    file. SQLAlchemy wants ``postgresql://``; the ``postgres://`` spelling that many hosting
    platforms hand out is accepted too."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url
