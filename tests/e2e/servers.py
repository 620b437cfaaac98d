"""Start the real action server and Rasa server on free loopback ports, against a
knowledge base and a tracker store of the caller's, as `make run` does."""

from __future__ import annotations

import json
import socket
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

from bot.launcher import runtime_env, start_actions, start_rasa, stop, wait_ready, write_endpoints


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Assistant:
    model: Path
    workdir: Path
    env_overrides: dict[str, str]
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    procs: list[Popen] = field(default_factory=list)
    # The Rasa credentials file (channels); None: the committed credentials.yml.
    credentials: Path | None = None

    def start(self) -> Assistant:
        endpoints = write_endpoints(
            self.action_port, self.workdir / "tracker.db", self.workdir / "endpoints.yml"
        )
        env = runtime_env() | self.env_overrides
        logs = self.workdir / "logs"
        self.procs = [
            start_actions(self.action_port, logs, env),
            start_rasa(self.model, self.rasa_port, endpoints, logs, env, self.credentials),
        ]
        wait_ready(f"http://127.0.0.1:{self.action_port}/health", self.procs)
        wait_ready(f"http://127.0.0.1:{self.rasa_port}/", self.procs)
        return self

    def stop(self) -> None:
        stop(self.procs)

    def restart_rasa(self) -> None:
        """Stop and start the Rasa server only (the action server keeps running)."""
        stop(self.procs[1:])
        env = runtime_env() | self.env_overrides
        rasa = start_rasa(
            self.model, self.rasa_port, self.workdir / "endpoints.yml", self.workdir / "logs", env,
            self.credentials,
        )
        self.procs = [self.procs[0], rasa]
        wait_ready(f"http://127.0.0.1:{self.rasa_port}/", self.procs)

    def ask(self, sender: str, text: str, timeout: float = 30) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def logs(self) -> str:
        out = []
        for path in sorted(self.workdir.glob("logs*/*.log")):
            out.append(f"--- {path.name} ---\n" + path.read_text(errors="replace")[-4000:])
        return "\n".join(out)


def seeded_knowledge_base(workdir: Path) -> str:
    """A SQLite knowledge base in ``workdir``, migrated and loaded with the seed data, as
    `make run` makes it; returns its URL."""
    from knowledge.db import new_session
    from knowledge.migrate import upgrade
    from knowledge.seed import read_seed, seed

    url = f"sqlite:///{workdir / 'knowledge.db'}"
    upgrade(url)
    with new_session(url) as session, session.begin():
        seed(session, read_seed())
    return url
