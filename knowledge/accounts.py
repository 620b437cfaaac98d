"""Staff accounts: Argon2 password hashes, per-user API tokens, roles.

A token is shown once when it is made; the base keeps only its SHA-256 digest (a token is
long and random, so a fast hash is enough and lets every API request be checked in one
indexed lookup)."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from knowledge.models import User, utcnow

ROLES = ("editor", "admin")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()


class AccountError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")


def create_user(session: Session, username: str, role: str = "editor", *, password: str | None = None,
                display_name: str | None = None) -> User:
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError("username", "Tên đăng nhập gồm 2–60 chữ thường không dấu, số, dấu chấm, gạch.")
    if role not in ROLES:
        raise AccountError("role", f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    if find_user(session, username) is not None:
        raise AccountError("username", f"Tên đăng nhập “{username}” đã có.")
    user = User(username=username, role=role, display_name=(display_name or "").strip() or None, active=True)
    if password is not None:
        check_password_rules(password)
        user.password_hash = _hasher.hash(password)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every session opened with the old one is ended."""
    check_password_rules(password)
    user.password_hash = _hasher.hash(password)
    user.session_epoch = (user.session_epoch or 0) + 1


def end_sessions(session: Session, user_id: int, epoch: int | None = None) -> None:
    """End every open session of the account (all browsers, all copies of the cookie).
    With ``epoch``, only if the sessions are still at it (a stale session signing out
    changes nothing)."""
    statement = update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
    if epoch is not None:
        statement = statement.where(User.session_epoch == epoch)
    session.execute(statement)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (same answer whether the name
    or the password is wrong, so the form does not tell which accounts exist)."""
    user = find_user(session, username)
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def issue_token(session: Session, user: User) -> str:
    """A new API token for ``user``; any previous one stops working."""
    token = "dn_" + secrets.token_urlsafe(32)
    user.token_digest = _digest(token)
    user.token_created_at = utcnow()
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    user = session.execute(select(User).where(User.token_digest == _digest(token))).scalar_one_or_none()
    return user if user is not None and user.active else None


def count_users(session: Session) -> int:
    return session.execute(select(func.count(User.id))).scalar_one()


def all_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def ensure_first_admin(session: Session, username: str, password: str | None) -> tuple[User, str] | None:
    """On a base with no accounts, create the first administrator so someone can sign in.
    Returns the account and its password when one was made (a random one if ``password``
    is None), else None: existing accounts are never touched."""
    if count_users(session) > 0:
        return None
    password = password or secrets.token_urlsafe(12)
    return create_user(session, username, "admin", password=password, display_name="Quản trị viên"), password


def set_active(session: Session, user: User, active: bool, actor_id: int | None = None) -> None:
    """Lock or unlock an account, never locking out the person doing it or the last active
    administrator (nobody could manage accounts any more)."""
    if not active and user.active:
        if actor_id is not None and user.id == actor_id:
            raise AccountError("active", "Bạn không thể tự khoá tài khoản của chính mình.")
        if user.is_admin:
            # Locked rows: two administrators locking each other at once cannot both succeed.
            admins = session.execute(
                select(User.id).where(User.role == "admin", User.active).with_for_update()
            ).scalars().all()
            if len(admins) <= 1:
                raise AccountError(
                    "active", "Đây là quản trị viên cuối cùng đang hoạt động; không thể khoá tài khoản này."
                )
    if not active and user.active:
        user.session_epoch = (user.session_epoch or 0) + 1  # unlocking later revives no session
    user.active = active
