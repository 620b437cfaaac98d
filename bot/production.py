"""The production profile: ``ASSISTANT_PROFILE=production make run`` or
``python -m bot.launcher --profile production``.

    knowledge base      PostgreSQL (DATABASE_URL, required)
    Rasa tracker store  PostgreSQL (TRACKER_DATABASE_URL; default: DATABASE_URL's server,
                        database "<name>_tracker"; made if missing)
    Rasa lock store     Redis (REDIS_URL, default redis://127.0.0.1:6379/0)
    RASA_REPLICAS Rasa servers and ACTION_REPLICAS action servers (default 2 and 2) on
    loopback ports from INTERNAL_PORT_BASE (default 15000), the staff admin on ADMIN_PORT,
    and nginx on PUBLIC_HOST:PUBLIC_PORT (default 127.0.0.1:5005) in front of them all.

The tracker store needs a database of its own: Rasa's table is called ``events``, and so
is one of the knowledge base's. Every process logs JSON lines (LOG_FORMAT=json) to
var/logs/ and serves Prometheus metrics on its own port; see the README.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from bot.launcher import spawn
from knowledge.config import PROJECT_ROOT as ROOT

NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.j2"
NGINX = os.environ.get("NGINX", shutil.which("nginx") or "/usr/sbin/nginx")


def _pg_url(url: str) -> str:
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return url


@dataclass
class Settings:
    database_url: str
    tracker_database_url: str
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_replicas: int = 2
    action_replicas: int = 2
    public_host: str = "127.0.0.1"
    public_port: int = 5005
    admin_port: int = 8080
    port_base: int = 15000
    var_dir: Path = field(default_factory=lambda: Path(os.environ.get("ASSISTANT_VAR_DIR") or ROOT / "var"))
    # Redis keys of this deployment's locks start with this (several deployments, or tests,
    # can share one Redis). Letters and digits only: Rasa ignores any other prefix.
    lock_key_prefix: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        database = _pg_url(env.get("DATABASE_URL", ""))
        if not database.startswith("postgresql"):
            raise SystemExit(
                "the production profile needs DATABASE_URL=postgresql://user:password@host:port/db "
                "(the knowledge base on PostgreSQL)"
            )
        tracker = _pg_url(env.get("TRACKER_DATABASE_URL", "")) or default_tracker_url(database)
        if _database_name(tracker) == _database_name(database) and _server(tracker) == _server(database):
            raise SystemExit("TRACKER_DATABASE_URL must name another database than DATABASE_URL "
                             "(Rasa's table `events` would clash with the knowledge base's)")
        return cls(
            database_url=database,
            tracker_database_url=tracker,
            redis_url=env.get("REDIS_URL", cls.redis_url),
            rasa_replicas=int(env.get("RASA_REPLICAS", cls.rasa_replicas)),
            action_replicas=int(env.get("ACTION_REPLICAS", cls.action_replicas)),
            public_host=env.get("PUBLIC_HOST", cls.public_host),
            public_port=int(env.get("PUBLIC_PORT", cls.public_port)),
            admin_port=int(env.get("ADMIN_PORT", cls.admin_port)),
            port_base=int(env.get("INTERNAL_PORT_BASE", cls.port_base)),
            lock_key_prefix=env.get("LOCK_KEY_PREFIX", ""),
        )

    # Internal ports: Rasa servers from the base, action servers from base+100, nginx's
    # loopback action endpoint at base+200.
    @property
    def rasa_ports(self) -> list[int]:
        return [self.port_base + i for i in range(self.rasa_replicas)]

    @property
    def action_ports(self) -> list[int]:
        return [self.port_base + 100 + i for i in range(self.action_replicas)]

    @property
    def action_proxy_port(self) -> int:
        return self.port_base + 200

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"


def _database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def _server(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def default_tracker_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return parts._replace(path=f"/{_database_name(database_url)}_tracker").geturl()


def ensure_database(url: str) -> bool:
    """Create the database ``url`` names if it does not exist (connecting to the server's
    ``postgres`` database to do so). Returns True if it was created."""
    from sqlalchemy import create_engine, text

    name = _database_name(url)
    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    engine = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                return False
            conn.execute(text('CREATE DATABASE "{}"'.format(name.replace('"', '""'))))
            return True
    finally:
        engine.dispose()


def tracker_store_section(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    section: dict[str, Any] = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": _database_name(url),
        "username": unquote(parts.username or "postgres"),
    }
    if parts.password:
        section["password"] = unquote(parts.password)
    return section


def lock_store_section(url: str, key_prefix: str = "") -> dict[str, Any]:
    parts = urlsplit(url)
    section: dict[str, Any] = {
        # Rasa's RedisLockStore with atomic updates (see bot/lock_store.py for why).
        "type": "bot.lock_store.AtomicRedisLockStore",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.lstrip("/") or 0),
    }
    if parts.password:
        section["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        section["use_ssl"] = True
    if key_prefix:
        section["key_prefix"] = key_prefix
    return section


def write_endpoints(settings: Settings, path: Path) -> Path:
    """endpoints.yml of the Rasa servers: actions through nginx, trackers in PostgreSQL,
    locks in Redis (so two servers never handle the same conversation at once)."""
    config = {
        "action_endpoint": {"url": f"http://127.0.0.1:{settings.action_proxy_port}/webhook"},
        "tracker_store": tracker_store_section(settings.tracker_database_url),
        "lock_store": lock_store_section(settings.redis_url, settings.lock_key_prefix),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # 0600: it may hold database and Redis passwords.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# written by bot/production.py for this run\n")
        yaml.safe_dump(config, handle, sort_keys=False)
    return path


def stub_status_available(nginx: str = NGINX) -> bool:
    result = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=False)
    return "http_stub_status_module" in result.stderr + result.stdout


def render_nginx(settings: Settings) -> str:
    from jinja2 import Environment, StrictUndefined

    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701 - not HTML
    template = env.from_string(NGINX_TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        var_dir=settings.var_dir.resolve(),
        log_dir=settings.log_dir.resolve(),
        worker_processes=1,
        rasa_ports=settings.rasa_ports,
        action_ports=settings.action_ports,
        action_proxy_port=settings.action_proxy_port,
        public_host=settings.public_host,
        public_port=settings.public_port,
        stub_status=stub_status_available(),
    )


def write_nginx(settings: Settings, path: Path) -> Path:
    # Only the parent: nginx makes its temp folders itself, owned by its worker user.
    (settings.var_dir / "nginx").mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(render_nginx(settings), encoding="utf-8")
    check = subprocess.run([NGINX, "-t", "-q", "-c", str(path)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejected {path}: {check.stderr.strip()}")
    return path


def production_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    from bot.launcher import runtime_env

    env = dict(base) if base is not None else runtime_env()
    env["DATABASE_URL"] = settings.database_url
    env.setdefault("LOG_FORMAT", "json")
    # Rasa's own loggers at INFO would log every turn's full text; warnings and errors only.
    env.setdefault("LOG_LEVEL", "WARNING")
    # Libraries' deprecation notices say nothing about this deployment.
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    # One Sanic worker per process: replicas are processes, and each /metrics is its own.
    env["SANIC_WORKERS"] = "1"
    env["ACTION_SERVER_SANIC_WORKERS"] = "1"
    env["SANIC_HOST"] = "127.0.0.1"
    return env


def start_action_server(port: int, log_dir: Path, env: Mapping[str, str]) -> subprocess.Popen:
    py = str(Path(sys.executable).parent / "python")
    return spawn(
        [py, "-m", "bot.action_server", "--actions", "actions", "--port", str(port)],
        log_dir / f"actions-{port}.log",
        env,
    )


def start_rasa_server(
    model: Path, port: int, endpoints: Path, credentials: Path, log_dir: Path, env: Mapping[str, str]
) -> subprocess.Popen:
    py = str(Path(sys.executable).parent / "python")
    return spawn(
        [
            py, "-m", "bot.server", "run",
            "--model", str(model),
            "--endpoints", str(endpoints),
            "--credentials", str(credentials),
            "--port", str(port),
            "--interface", "127.0.0.1",
            "--cors", "*",
        ],
        log_dir / f"rasa-{port}.log",
        env,
    )


def start_nginx(conf: Path, log_dir: Path) -> subprocess.Popen:
    # -p: nginx's prefix (relative paths, e.g. mime.types lookups) under our folder too.
    return spawn(
        [NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"],
        log_dir / "nginx.log",
        os.environ,
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass
class Cluster:
    """Every process of the production profile, started together and stopped together."""

    settings: Settings
    model: Path
    with_admin: bool = True
    env: dict[str, str] | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return f"http://{self.settings.public_host}:{self.settings.public_port}"

    def prepare(self) -> None:
        """Databases made and migrated, config files written."""
        from bot.credentials import write as write_credentials

        ensure_database(self.settings.tracker_database_url)
        var = self.settings.var_dir
        self.endpoints = write_endpoints(self.settings, var / "production" / "endpoints.yml")
        self.credentials = write_credentials(var / "production" / "credentials.yml", os.environ)
        self.nginx_conf = write_nginx(self.settings, var / "production" / "nginx.conf")

    def start(self, timeout: float = 240.0) -> Cluster:
        self.prepare()
        env = production_env(self.settings, self.env)
        logs = self.settings.log_dir
        for port in self.settings.action_ports:
            self.procs[f"actions-{port}"] = start_action_server(port, logs, env)
        for port in self.settings.rasa_ports:
            self.procs[f"rasa-{port}"] = start_rasa_server(
                self.model, port, self.endpoints, self.credentials, logs, env
            )
        if self.with_admin:
            from bot.launcher import start_admin

            self.procs["admin"] = start_admin(self.settings.admin_port, logs, env)
        self.procs["nginx"] = start_nginx(self.nginx_conf, logs)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def readiness_urls(self) -> dict[str, str]:
        urls = {f"actions-{p}": f"http://127.0.0.1:{p}/health" for p in self.settings.action_ports}
        urls |= {f"rasa-{p}": f"http://127.0.0.1:{p}/readyz" for p in self.settings.rasa_ports}
        if self.with_admin:
            urls["admin"] = f"http://127.0.0.1:{self.settings.admin_port}/readyz"
        urls["nginx"] = f"{self.public_url}/readyz"
        return urls

    def wait_ready(self, timeout: float) -> None:
        waiting = self.readiness_urls()
        deadline = time.monotonic() + timeout
        while waiting:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with code {proc.returncode}; see {self.settings.log_dir}"
                    )
            waiting = {name: url for name, url in waiting.items() if not _answers(url)}
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(waiting)}")
            time.sleep(0.5)

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signum)
        proc.wait(timeout=10)

    def stop(self) -> None:
        from bot.launcher import stop

        # nginx first: no new requests reach servers that are about to stop.
        order = ["nginx"] + [n for n in self.procs if n != "nginx"]
        stop([self.procs[n] for n in order if n in self.procs])


def run(argv: list[str] | None = None) -> int:
    """What `make run` does with ASSISTANT_PROFILE=production."""
    from bot.launcher import _interrupt, ensure_model, first_admin

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    settings = Settings.from_env()
    os.environ["DATABASE_URL"] = settings.database_url
    from knowledge.cli import init

    print("knowledge base ready (PostgreSQL); seed rows added:", init(), flush=True)
    note = first_admin()
    if note:
        print(note, flush=True)
    cluster = Cluster(settings, ensure_model())
    print(f"starting {settings.rasa_replicas} Rasa servers, {settings.action_replicas} action servers, "
          "the admin and nginx…", flush=True)
    try:
        cluster.start()
        print(f"ready: REST channel at {cluster.public_url}/webhooks/rest/webhook (nginx)", flush=True)
        print(f"ready: staff admin at http://127.0.0.1:{settings.admin_port}/admin", flush=True)
        print("metrics: " + ", ".join(
            f"http://127.0.0.1:{p}/metrics" for p in settings.rasa_ports + settings.action_ports
        ), flush=True)
        print(f"logs (JSON lines): {settings.log_dir}/", flush=True)
        while all(p.poll() is None for p in cluster.procs.values()):
            time.sleep(1)
        dead = [n for n, p in cluster.procs.items() if p.poll() is not None]
        print(f"stopped unexpectedly: {', '.join(dead)}; see {settings.log_dir}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        cluster.stop()
