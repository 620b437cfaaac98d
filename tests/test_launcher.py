"""`make run`'s launcher: starts everything on an existing model without retraining,
answers over REST, opens the admin to its first administrator, and Ctrl-C (SIGINT) stops
every process it started."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import threading
import time

import requests

from bot.launcher import BIN, ROOT, runtime_env
from tests.e2e.servers import free_port


def _lines(proc: subprocess.Popen) -> queue.Queue:
    found: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            found.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return found


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_launcher_reuses_the_model_answers_and_stops_on_ctrl_c(trained_model, tmp_path):
    rasa_port, action_port, admin_port = free_port(), free_port(), free_port()
    env = runtime_env() | {
        "ADMIN_PORT": str(admin_port),
        "ASSISTANT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'knowledge.db'}",
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
    }
    proc = subprocess.Popen(
        [str(BIN / "python"), "-m", "bot.launcher", "--no-chat"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = _lines(proc)
    seen: list[str] = []
    deadline = time.monotonic() + 240
    try:
        while not any(line.startswith("ready: staff admin") for line in seen):
            assert time.monotonic() < deadline, "".join(seen)[-3000:]
            assert proc.poll() is None, "".join(seen)[-3000:]
            try:
                seen.append(output.get(timeout=1))
            except queue.Empty:
                pass
        assert any(f"model up to date: {trained_model.name}" in line for line in seen), "".join(seen)
        assert any("seed rows added" in line for line in seen)

        from tests.e2e.servers import Assistant

        client = Assistant(trained_model, tmp_path, {}, rasa_port=rasa_port, action_port=action_port)
        reply = " ".join(r.get("text", "") for r in client.ask("launcher-test", "cầu rồng ở đâu"))
        assert "Cầu Rồng" in reply

        # The first administrator can sign in to the admin with the generated password,
        # which is only in a file readable by its owner.
        credentials = tmp_path / "admin-credentials.txt"
        assert credentials.stat().st_mode & 0o777 == 0o600
        fields = dict(line.split(": ", 1) for line in credentials.read_text().splitlines())
        assert fields["password"] not in "".join(seen)
        admin = requests.Session()
        login = admin.get(f"http://127.0.0.1:{admin_port}/admin/login")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', login.text).group(1)
        form = {"username": fields["username"], "password": fields["password"], "_csrf": csrf}
        home = admin.post(f"http://127.0.0.1:{admin_port}/admin/login", data=form)
        assert home.status_code == 200 and home.url.endswith("/admin")
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0
    assert not _port_open(rasa_port) and not _port_open(action_port) and not _port_open(admin_port)
    assert (tmp_path / "tracker.db").exists()  # conversations were stored where configured
