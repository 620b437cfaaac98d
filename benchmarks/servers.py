"""The two assistants of the side-by-side benchmark, each started as its own processes so
their memory can be read: the reference (a plain ``rasa init`` project) and ours (action
server, Rasa server and admin, on the embedded defaults)."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.launcher import BIN, ROOT, runtime_env, start_actions, start_admin, stop, wait_ready, write_endpoints
from tests.e2e.servers import free_port


def post_json(url: str, body: Any, timeout: float = 60) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def get_json(url: str, timeout: float = 30) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def rss_mib(pid: int) -> dict[str, float]:
    """Resident memory of a process and all its descendants, now and at peak (VmHWM)."""
    now = peak = 0
    for p in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                now += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1])
    return {"rss_mib": round(now / 1024, 1), "peak_rss_mib": round(peak / 1024, 1)}


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


def first_answer(
    url: str, sender: str, text: str, procs: list[subprocess.Popen], timeout: float = 180
) -> None:
    """Ask until a reply comes back (the server is up *and* the model answers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with code {proc.returncode}")
        try:
            if post_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=10):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} gave no answer within {timeout:.0f} s")


def rasa_cmd(module: str, model: Path, port: int, endpoints: Path, credentials: Path) -> list[str]:
    # --enable-api on both servers alike: /model/parse times the NLU alone and the tracker
    # and domain routes feed the action-time measurement; it adds routes, not per-turn work.
    return [
        str(BIN / "python"),
        "-m",
        module,
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--enable-api",
    ]


@dataclass
class Reference:
    """A plain ``rasa init`` assistant (the moodbot) in a temporary folder."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def init_and_train(self) -> float:
        """``rasa init`` (which trains the moodbot) with an empty Rasa cache; seconds."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = runtime_env() | {"RASA_CACHE_DIRECTORY": str(self.workdir.parent / "reference-cache")}
        started = time.monotonic()
        with open(self.workdir.parent / "reference-init.log", "ab") as log:
            subprocess.run(
                [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(self.workdir)],
                cwd=self.workdir,
                env=env,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return time.monotonic() - started

    @property
    def model(self) -> Path:
        return max((self.workdir / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)

    def start(self) -> float:
        """Start ``rasa run`` as the project's own files set it up; seconds to first answer."""
        started = time.monotonic()
        cmd = rasa_cmd(
            "rasa", self.model, self.port, self.workdir / "endpoints.yml", self.workdir / "credentials.yml"
        )
        with open(self.workdir.parent / "reference-run.log", "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                env=runtime_env(),
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        first_answer(self.url, "cold-start", "hello", [self.proc])
        return time.monotonic() - started

    def memory(self) -> dict[str, dict[str, float]]:
        assert self.proc is not None
        return {"rasa": rss_mib(self.proc.pid)}

    def stop(self) -> None:
        if self.proc is not None:
            stop([self.proc])


@dataclass
class Ours:
    """Our assistant on its embedded defaults: SQLite knowledge base, SQL tracker store on
    SQLite, plus the admin, each a process as `make run` starts them."""

    model: Path
    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    actions: subprocess.Popen | None = None
    rasa: subprocess.Popen | None = None
    admin: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def _env(self) -> dict[str, str]:
        return runtime_env() | self.env

    def start(self) -> float:
        """Start the three processes together; seconds to the first answer."""
        started = time.monotonic()
        endpoints = write_endpoints(
            self.action_port, self.workdir / "tracker.db", self.workdir / "endpoints.yml"
        )
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.actions = start_actions(self.action_port, logs, self._env())
        self.admin = start_admin(
            self.admin_port,
            logs,
            self._env()
            | {"ADMIN_SECRET_KEY": secrets.token_urlsafe(32), "ASSISTANT_VAR_DIR": str(self.workdir / "var")},
        )
        with open(logs / "rasa.log", "ab") as log:
            self.rasa = subprocess.Popen(
                rasa_cmd("bot.server", self.model, self.port, endpoints, ROOT / "credentials.yml"),
                cwd=ROOT,
                env=self._env(),
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        first_answer(self.url, "cold-start", "xin chào", [self.actions, self.rasa])
        seconds = time.monotonic() - started
        wait_ready(f"http://127.0.0.1:{self.admin_port}/healthz", [self.admin])
        return seconds

    def restart_actions(self, database_url: str) -> None:
        """A new action server on another knowledge base (same port, Rasa keeps running)."""
        assert self.actions is not None
        stop([self.actions])
        self.env = self.env | {"DATABASE_URL": database_url}
        self.actions = start_actions(self.action_port, self.workdir / "logs", self._env())
        wait_ready(f"http://127.0.0.1:{self.action_port}/health", [self.actions])

    def memory(self) -> dict[str, dict[str, float]]:
        assert self.rasa and self.actions and self.admin
        return {
            "rasa": rss_mib(self.rasa.pid),
            "actions": rss_mib(self.actions.pid),
            "admin": rss_mib(self.admin.pid),
        }

    def stop(self) -> None:
        stop([p for p in (self.rasa, self.actions, self.admin) if p is not None])
