"""`python -m knowledge users ...`: run as an operator would, in a subprocess, against a
fresh SQLite base named by DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import accounts
from knowledge.db import new_session

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'staff.db'}"


def _run(db_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "knowledge", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def _fields(stdout: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)


def test_add_prints_a_working_token_and_password(db_url: str) -> None:
    result = _run(db_url, "users", "add", "Nguyen.Van.A", "--role", "admin", "--display-name", "Nguyễn Văn A")
    assert result.returncode == 0, result.stderr
    printed = _fields(result.stdout)
    assert printed["username"] == "nguyen.van.a" and printed["role"] == "admin"
    assert "not shown again" in result.stderr
    with new_session(db_url) as session:
        user = accounts.user_for_token(session, printed["token"])
        assert user is not None and user.username == "nguyen.van.a" and user.is_admin
        assert user.display_name == "Nguyễn Văn A"
        assert accounts.authenticate(session, "nguyen.van.a", printed["password"]) is not None

    listing = _run(db_url, "users", "list")
    assert listing.returncode == 0
    rows = [line.split()[:3] for line in listing.stdout.splitlines()]
    assert ["nguyen.van.a", "admin", "active"] in rows
    assert printed["token"] not in listing.stdout and printed["password"] not in listing.stdout


def test_password_from_stdin_is_not_printed(db_url: str) -> None:
    result = _run(db_url, "users", "add", "bien-tap", "--role", "editor", "--password-stdin",
                  stdin="mot-mat-khau-rat-dai\n")
    assert result.returncode == 0, result.stderr
    assert "password" not in _fields(result.stdout) and "mot-mat-khau-rat-dai" not in result.stdout
    with new_session(db_url) as session:
        assert accounts.authenticate(session, "bien-tap", "mot-mat-khau-rat-dai") is not None


@pytest.mark.parametrize("args, message", [
    (["users", "add", "trung", "--role", "editor"], "Tên đăng nhập “trung” đã có."),
    (["users", "add", "khac", "--role", "superuser"], "Vai trò phải là một trong: editor, admin."),
    (["users", "token", "khong-co-ai"], "Không có tài khoản “khong-co-ai”."),
])
def test_refused_requests_exit_2_and_print_no_secret(db_url: str, args: list[str], message: str) -> None:
    assert _run(db_url, "users", "add", "trung", "--role", "editor").returncode == 0
    result = _run(db_url, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"error: {message}" in result.stderr
    with new_session(db_url) as session:
        assert [u.username for u in accounts.all_users(session)] == ["trung"]


def test_new_token_replaces_the_old_and_disable_locks_out(db_url: str) -> None:
    admin = _fields(_run(db_url, "users", "add", "quan-tri", "--role", "admin").stdout)
    editor = _fields(_run(db_url, "users", "add", "bien-tap", "--role", "editor").stdout)

    renewed = _run(db_url, "users", "token", "bien-tap")
    assert renewed.returncode == 0
    token = _fields(renewed.stdout)["token"]
    with new_session(db_url) as session:
        assert accounts.user_for_token(session, editor["token"]) is None
        assert accounts.user_for_token(session, token).username == "bien-tap"

    assert _run(db_url, "users", "disable", "bien-tap").stdout.strip() == "bien-tap: disabled"
    with new_session(db_url) as session:
        assert accounts.user_for_token(session, token) is None
        assert accounts.authenticate(session, "bien-tap", editor["password"]) is None

    # The last active administrator stays: somebody must be able to manage accounts.
    refused = _run(db_url, "users", "disable", "quan-tri")
    assert refused.returncode == 2 and "quản trị viên cuối cùng" in refused.stderr
    with new_session(db_url) as session:
        assert accounts.user_for_token(session, admin["token"]).username == "quan-tri"


def test_other_commands_still_work(db_url: str) -> None:
    assert _run(db_url, "users", "list").returncode == 0  # migrates an empty base
    stats = _run(db_url, "stats")
    assert stats.returncode == 0 and "'places': 0" in stats.stdout
