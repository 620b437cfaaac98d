"""Admin settings, all from the environment (or a git-ignored file under var/ for the
session key, created on first start so a fresh clone needs no setup)."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from knowledge.config import VAR_DIR, database_url


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(path: Path) -> bytes:
    """32 bytes for the session cookie's encryption: ``ADMIN_SECRET_KEY`` (urlsafe base64),
    else a key kept in ``var/admin-secret.key`` (mode 600) so sign-ins survive restarts and
    every replica behind a load balancer can share it."""
    value = os.environ.get("ADMIN_SECRET_KEY", "").strip()
    if value:
        key = base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
        if len(key) != 32:
            raise ValueError(
                "ADMIN_SECRET_KEY must be 32 bytes in urlsafe base64 (e.g. secrets.token_urlsafe(32))"
            )
        return key
    if path.exists():
        return base64.urlsafe_b64decode(path.read_bytes().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.urlsafe_b64encode(key))
    return key


@dataclass(frozen=True)
class AdminConfig:
    database_url: str
    secret_key: bytes
    host: str = "127.0.0.1"
    port: int = 8080
    # Secure cookies are only sent over HTTPS; on by default, off for plain-http localhost.
    cookie_secure: bool = False
    session_max_age: int = 8 * 3600
    max_upload_bytes: int = 10 * 1024 * 1024

    @classmethod
    def from_env(cls) -> AdminConfig:
        host = os.environ.get("ADMIN_HOST", "127.0.0.1")
        return cls(
            database_url=database_url(),
            secret_key=_secret_key(VAR_DIR / "admin-secret.key"),
            host=host,
            port=int(os.environ.get("ADMIN_PORT", "8080")),
            cookie_secure=_flag("ADMIN_COOKIE_SECURE", host not in {"127.0.0.1", "localhost", "::1"}),
            session_max_age=int(os.environ.get("ADMIN_SESSION_SECONDS", str(8 * 3600))),
        )
