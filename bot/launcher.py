"""Start the whole assistant on one machine: knowledge base, model, action server, Rasa
server with the REST channel, the staff admin with its JSON API, and a terminal chat.

    python -m bot.launcher            # what `make run` does
    python -m bot.launcher --no-chat  # servers only (no terminal chat)
    python -m bot.launcher --profile production   # or ASSISTANT_PROFILE=production:
                                      # PostgreSQL, Redis, replicas behind nginx (bot/production.py)

Ctrl-C stops everything. The model is retrained only when something that shapes it
(training data, domain, pipeline config, our NLU components, the Rasa version) changed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.credentials import write as write_credentials
from knowledge.config import PROJECT_ROOT as ROOT
from knowledge.config import VAR_DIR as VAR

MODELS = ROOT / "models"
BIN = Path(sys.executable).parent
# Everything whose change must lead to a new model: the training data and its config,
# the code that turns text into features, and the pinned library versions. (The language
# detector is not trained: its code is used live and needs no new model.)
MODEL_INPUTS = (
    "config.yml",
    "domain.yml",
    "nlu_data",
    "bot/tokenizer.py",
    "bot/text_normalise.py",
    "requirements.lock",
)


def runtime_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # No network at run time: Rasa must not try to send telemetry.
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def model_fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    from importlib.metadata import version

    digest.update(version("rasa").encode())
    for name in MODEL_INPUTS:
        path = root / name
        # Only the YAML of a data folder: an editor's swap file is not training data.
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def train(
    out: Path,
    name: str,
    data: Sequence[Path] | None = None,
    nlu_only: bool = False,
    env: dict[str, str] | None = None,
) -> Path:
    """Run ``rasa train`` (or ``rasa train nlu``) and return the model path."""
    out.mkdir(parents=True, exist_ok=True)
    data_flag = "--nlu" if nlu_only else "--data"
    cmd = [
        str(BIN / "rasa"),
        "train",
        *(["nlu"] if nlu_only else []),
        "--config",
        str(ROOT / "config.yml"),
        "--domain",
        str(ROOT / "domain.yml"),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
        data_flag,
        *[str(d) for d in (data or [ROOT / "nlu_data"])],
    ]
    subprocess.run(cmd, cwd=ROOT, env=env or runtime_env(), check=True)
    return out / f"{name}.tar.gz"


def ensure_model() -> Path:
    """The model for the current inputs, training it only if it does not exist yet."""
    name = f"danang-{model_fingerprint()}"
    path = MODELS / f"{name}.tar.gz"
    if path.exists():
        print(f"model up to date: {path.name}", flush=True)
        return path
    print("training data changed: training a new model (about 2 minutes)…", flush=True)
    # Rasa writes the archive in place: train under another name and rename when done, so
    # an interrupted training never leaves a broken model that looks up to date.
    for stale in MODELS.glob("partial-*.tar.gz"):
        stale.unlink()
    partial = train(MODELS, f"partial-{name}")
    os.replace(partial, path)
    for old in sorted(MODELS.glob("danang-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-3]:
        old.unlink()
    return path


def write_endpoints(action_port: int, tracker_db: Path, path: Path) -> Path:
    """endpoints.yml with this run's action-server port and tracker database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "action_endpoint:\n"
        f'  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "tracker_store:\n"
        "  type: SQL\n"
        '  dialect: "sqlite"\n'
        f'  db: "{tracker_db}"\n',
        encoding="utf-8",
    )
    return path


def spawn(command: list[str], log_file: Path, env: Mapping[str, str]) -> subprocess.Popen:
    """``command`` in its own process group (stopping the group stops all its children),
    output appended to ``log_file``, which only its owner may read: logs hold visitors'
    questions."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def python_module(*args: str) -> list[str]:
    """The command running ``python -m <args>`` with this virtualenv's interpreter."""
    return [str(BIN / "python"), "-m", *args]


def start_actions(port: int, log_dir: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The rasa_sdk action server."""
    env = dict(env or runtime_env())
    env.setdefault("SANIC_HOST", "127.0.0.1")  # rasa_sdk listens on every interface otherwise
    command = python_module("rasa_sdk", "--actions", "actions", "--port", str(port))
    return spawn(command, log_dir / "actions.log", env)


def start_rasa(
    model: Path,
    port: int,
    endpoints: Path,
    log_dir: Path,
    env: dict[str, str] | None = None,
    credentials: Path | None = None,
) -> subprocess.Popen:
    """The Rasa server with the channels of ``credentials`` (default: the committed
    credentials.yml, i.e. REST and socket.io)."""
    args = [
        "bot.server",  # `rasa run` with a faster action-response check
        "run",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials or ROOT / "credentials.yml"),
        "--port", str(port),
        "--interface", "127.0.0.1",
        "--cors", "*",
    ]  # fmt: skip
    return spawn(python_module(*args), log_dir / "rasa.log", env or runtime_env())


def start_admin(port: int, log_dir: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The staff admin and JSON API (aiohttp) on ``port``."""
    env = dict(env or runtime_env())
    env["ADMIN_PORT"] = str(port)
    return spawn(python_module("admin"), log_dir / "admin.log", env)


def start_telegram_poll(
    rasa_port: int, log_dir: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Telegram in polling mode (no public address needed): fetches updates and hands them
    to the Rasa server's Telegram webhook, so both modes share one code path."""
    env = dict(env or runtime_env())
    env["RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
    return spawn(python_module("bot.channels.telegram_poll"), log_dir / "telegram.log", env)


def first_admin() -> str | None:
    """Create the first administrator on an empty account table. The password comes from
    ADMIN_PASSWORD or is generated and written to var/admin-credentials.txt (mode 600,
    git-ignored); never printed into a log. Returns a line to show, or None."""
    from knowledge.accounts import ensure_first_admin
    from knowledge.db import new_session

    username = os.environ.get("ADMIN_USERNAME", "admin")
    with new_session() as session, session.begin():
        made = ensure_first_admin(session, username, os.environ.get("ADMIN_PASSWORD") or None)
    if made is None:
        return None
    if os.environ.get("ADMIN_PASSWORD"):
        return f"first administrator account: {username} (password from ADMIN_PASSWORD)"
    path = VAR / "admin-credentials.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"username: {username}\npassword: {made[1]}\n")
    return f"first administrator account: {username}; its password is in {path} (change it after signing in)"


def wait_ready(url: str, procs: Sequence[subprocess.Popen], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with code {proc.returncode}; see var/logs/")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s; see var/logs/")


def stop(procs: Sequence[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def send(rasa_port: int, sender: str, text: str) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def chat(rasa_port: int) -> None:
    """A minimal `rasa shell`: type a question, read the answer; a number picks a button."""
    sender = f"shell-{os.getpid()}"
    buttons: list[dict] = []
    print("Hỏi trợ lý du lịch Đà Nẵng (Ctrl-C để thoát) / Ask the Da Nang assistant (Ctrl-C to quit)")
    while True:
        text = input("\nBạn> ").strip()
        if not text:
            continue
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        buttons = []
        for reply in send(rasa_port, sender, text):
            if reply.get("text"):
                print(f"Bot> {reply['text']}")
            for button in reply.get("buttons") or []:
                buttons.append(button)
                print(f"  [{len(buttons)}] {button['title']}")


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    parser.add_argument("--admin-port", type=int, default=int(os.environ.get("ADMIN_PORT", 8080)))
    parser.add_argument("--no-chat", action="store_true", help="only run the servers")
    parser.add_argument(
        "--profile",
        choices=("embedded", "production"),
        default=os.environ.get("ASSISTANT_PROFILE") or "embedded",
        help="embedded (default: SQLite, one of each server) or production (see bot/production.py)",
    )
    args = parser.parse_args(argv)
    if args.profile == "production":
        from bot.production import run

        return run()

    # Closing the terminal or `kill` must stop the servers too (they run in their own
    # process groups, so no signal reaches them directly).
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)

    from knowledge.cli import init

    added = init()
    print("knowledge base ready; seed rows added:", added, flush=True)
    note = first_admin()
    if note:
        print(note, flush=True)
    model = ensure_model()
    endpoints = write_endpoints(args.action_port, VAR / "tracker.db", VAR / "endpoints.yml")
    credentials = write_credentials(VAR / "credentials.yml", os.environ)
    logs = VAR / "logs"
    procs = [
        start_actions(args.action_port, logs),
        start_rasa(model, args.rasa_port, endpoints, logs, credentials=credentials),
        start_admin(args.admin_port, logs),
    ]
    from bot.channels.telegram_config import polling_wanted

    # Optional extras: if one stops (a refused Telegram token, say) the assistant keeps
    # serving its other channels; the reason is in its log.
    extras = [start_telegram_poll(args.rasa_port, logs)] if polling_wanted(os.environ) else []
    try:
        wait_ready(f"http://127.0.0.1:{args.action_port}/health", procs)
        wait_ready(f"http://127.0.0.1:{args.admin_port}/healthz", procs)
        wait_ready(f"http://127.0.0.1:{args.rasa_port}/", procs)
        print(f"ready: REST channel at http://localhost:{args.rasa_port}/webhooks/rest/webhook", flush=True)
        print(f"ready: website chat demo at http://localhost:{args.admin_port}/chat/demo", flush=True)
        print(f"ready: staff admin at http://localhost:{args.admin_port}/admin "
              f"(JSON API at http://localhost:{args.admin_port}/api/v1/)", flush=True)
        if args.no_chat or not sys.stdin.isatty():
            while all(p.poll() is None for p in procs):
                time.sleep(1)
                for extra in [e for e in extras if e.poll() is not None]:
                    name, code = extra.args[-1], extra.returncode
                    print(f"{name} stopped (code {code}); see var/logs/", file=sys.stderr)
                    extras.remove(extra)
            print("a server stopped; see var/logs/", file=sys.stderr)
            return 1
        chat(args.rasa_port)
    except (KeyboardInterrupt, EOFError):
        print("\nstopping…", flush=True)
    finally:
        stop(procs + extras)
    return 0


if __name__ == "__main__":
    sys.exit(main())
