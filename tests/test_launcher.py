"""`make run`'s launcher: starts everything on an existing model without retraining,
answers over REST, and Ctrl-C (SIGINT) stops every process it started."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import threading
import time

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
    rasa_port, action_port = free_port(), free_port()
    env = runtime_env() | {
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
        while not any(line.startswith("ready:") for line in seen):
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
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0
    assert not _port_open(rasa_port) and not _port_open(action_port)
    assert (tmp_path / "tracker.db").exists()  # conversations were stored where configured
