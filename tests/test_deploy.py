"""Structural checks of the Kubernetes deployment (deploy/): no cluster and no Docker engine
are needed. Every manifest is parsed; probes, commands, environment variables, config files,
secrets, resource requests and the Dockerfile are checked against the code they run."""

from __future__ import annotations

import ast
import importlib.util
import math
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
IMAGE_ROOT = "/app"  # WORKDIR of deploy/Dockerfile
PLACEHOLDER = re.compile(r"^REPLACE_ME")


def _documents() -> list[dict]:
    docs = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                doc["__file__"] = path.name
                docs.append(doc)
    return docs


DOCS = _documents()


def _kind(kind: str) -> list[dict]:
    return [d for d in DOCS if d["kind"] == kind]


def _named(kind: str, name: str) -> dict:
    (doc,) = [d for d in _kind(kind) if d["metadata"]["name"] == name]
    return doc


def _workloads() -> list[tuple[dict, dict]]:
    """(workload, container) for every container of every Deployment and Job."""
    workloads = _kind("Deployment") + _kind("Job")
    return [(d, c) for d in workloads for c in d["spec"]["template"]["spec"]["containers"]]


def _quantity(value: str | int | float) -> float:
    """CPU in cores or memory in GiB."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**-20, "Mi": 2**-10, "Gi": 1.0}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def test_every_manifest_parses_and_is_namespaced():
    kinds = {d["kind"] for d in DOCS}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Job", "Service", "Ingress",
            "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    for doc in DOCS:
        assert doc.get("apiVersion") and doc["metadata"].get("name"), doc["__file__"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "danang-assistant", doc["__file__"]


# --- probes on real routes -------------------------------------------------------------


def _added_routes(path: Path) -> set[str]:
    """Paths given to ``add_route(handler, "/x")`` / ``router.add_get("/x", ...)`` in a file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.attr in {"add_route", "add_get"}:
                found |= {a for a in args if a.startswith("/")}
    return found


def rasa_routes() -> set[str]:
    """What `python -m bot.server run` serves without --enable-api: Rasa's root route
    (rasa.server.add_root_route), /readyz (bot/server.py) and /metrics (bot/metrics.py).
    Read from the sources: importing Rasa takes several seconds."""
    spec = importlib.util.find_spec("rasa")
    server = Path(spec.origin).parent / "server.py"
    tree = ast.parse(server.read_text(encoding="utf-8"))
    (root,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "add_root_route"]
    root_paths = {
        d.args[0].value
        for n in ast.walk(root) if isinstance(n, ast.AsyncFunctionDef)
        for d in n.decorator_list
        if isinstance(d, ast.Call) and d.args and isinstance(d.args[0], ast.Constant)
    }
    return root_paths | _added_routes(ROOT / "bot" / "server.py") | _added_routes(ROOT / "bot" / "metrics.py")


def action_routes() -> set[str]:
    import rasa_sdk.endpoint

    from bot.metrics import instrument

    app = rasa_sdk.endpoint.create_app(None)
    instrument(app, "actions")
    return {"/" + r.path.lstrip("/") for r in app.router.routes}


def admin_routes(tmp_path: Path) -> set[str]:
    from admin.app import create_app
    from admin.config import AdminConfig

    config = AdminConfig(database_url=f"sqlite:///{tmp_path / 'kb.db'}", secret_key=b"k" * 32)
    app = create_app(config, migrate=False)
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> dict[str, set[str]]:
    return {
        "rasa": rasa_routes(),
        "actions": action_routes(),
        "admin": admin_routes(tmp_path_factory.mktemp("admin")),
    }


def test_route_tables_are_what_the_code_serves(routes):
    assert {"/", "/readyz", "/metrics"} <= routes["rasa"]
    assert {"/health", "/metrics", "/webhook"} <= routes["actions"]
    assert {"/healthz", "/readyz", "/metrics"} <= routes["admin"]


def test_probes_point_at_real_endpoints(routes):
    for deployment in _kind("Deployment"):
        name = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        kinds = ("startupProbe", "livenessProbe", "readinessProbe")
        probes = {k: container[k] for k in kinds if k in container}
        assert {"livenessProbe", "readinessProbe"} <= set(probes), name
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for kind, probe in probes.items():
            path = probe["httpGet"]["path"]
            assert path in routes[name], f"{name} {kind}: {path} is not served"
            assert probe["httpGet"]["port"] in ports, f"{name} {kind}: unknown port"
        # Readiness is the deep check where one exists (model and stores; database).
        expected = {"rasa": "/readyz", "actions": "/health", "admin": "/readyz"}[name]
        assert probes["readinessProbe"]["httpGet"]["path"] == expected
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] in routes[name]


def test_ingress_sends_public_paths_to_services_that_serve_them(routes):
    services = {s["metadata"]["name"]: s for s in _kind("Service")}
    public = {}
    for ingress in _kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                backend = p["backend"]["service"]
                assert backend["name"] in services
                ports = services[backend["name"]]["spec"]["ports"]
                assert backend["port"]["name"] in {pt["name"] for pt in ports}
                public[p["path"]] = (backend["name"], ingress)
    assert public["/webhooks/"][0] == "rasa"
    assert public["/socket.io/"][0] == "rasa"
    for prefix in ("/admin", "/api", "/chat"):
        assert public[prefix][0] == "admin"
        assert any(r.startswith(prefix) for r in routes["admin"]), prefix
    # socket.io's long polling needs every request of one client on one pod.
    annotations = public["/socket.io/"][1]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    # Probes and metrics stay inside the cluster.
    assert not {"/", "/metrics", "/readyz", "/healthz", "/health"} & set(public)


def test_services_select_the_deployments_and_their_ports():
    for service in _kind("Service"):
        deployment = _named("Deployment", service["metadata"]["name"])
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= {p["name"] for p in container["ports"]}
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
        for doc in _kind(kind):
            _named("Deployment", doc["metadata"]["name"])  # each targets a real Deployment


# --- commands and configuration ----------------------------------------------------------


def test_container_commands_name_real_modules():
    for workload, container in _workloads():
        argv = container.get("command", []) + container.get("args", [])
        assert argv[:2] == ["python", "-m"], workload["metadata"]["name"]
        assert importlib.util.find_spec(argv[2]) is not None, argv[2]
        if "--actions" in argv:
            assert importlib.util.find_spec(argv[argv.index("--actions") + 1]) is not None
        if "--model" in argv:
            # The Dockerfile trains into /app/models (bot/launcher.py MODELS).
            from bot.launcher import MODELS

            assert argv[argv.index("--model") + 1] == f"{IMAGE_ROOT}/{MODELS.relative_to(ROOT)}"
        for flag in ("--endpoints", "--credentials"):
            if flag in argv:
                path = Path(argv[argv.index(flag) + 1])
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
                volume = volumes[mounts[str(path.parent)]]
                config = _named("ConfigMap", volume["configMap"]["name"])
                assert path.name in config["data"], path


def _code_env_names() -> set[str]:
    """Upper-case string constants in our code that name environment variables: every name
    passed to os.environ.get, env.get, env[...] or listed in a channel's settings table."""
    names = set()
    for package in ("bot", "actions", "knowledge", "admin", "widget"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if re.fullmatch(r"[A-Z][A-Z0-9_]{3,}", node.value):
                        names.add(node.value)
    return names


def _rasa_config_placeholders() -> set[str]:
    config = _named("ConfigMap", "assistant-rasa-config")
    return {m for text in config["data"].values() for m in re.findall(r"\$\{(\w+)\}", text)}


def _container_env(container: dict) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(_named("ConfigMap", source["configMapRef"]["name"])["data"])
    return names


def test_every_env_var_the_pods_get_is_read_by_the_code():
    code = _code_env_names()
    assert {"DATABASE_URL", "LOG_FORMAT", "ADMIN_SECRET_KEY", "SANIC_WORKERS"} <= code  # sanity
    placeholders = _rasa_config_placeholders()
    for workload, container in _workloads():
        for name in _container_env(container):
            where = workload["metadata"]["name"]
            assert name in code or name in placeholders, f"{where}: {name} is read by nothing"


def test_rasa_gets_every_variable_its_config_files_refer_to():
    # Rasa refuses to start on a ${NAME} it cannot fill.
    rasa = _named("Deployment", "rasa")["spec"]["template"]["spec"]["containers"][0]
    missing = _rasa_config_placeholders() - _container_env(rasa)
    assert not missing
    secret_keys = set(_named("Secret", "assistant-secrets")["stringData"])
    for _workload, container in _workloads():
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == "assistant-secrets" and ref["key"] in secret_keys, ref


def test_endpoints_use_sql_tracker_atomic_redis_locks_and_the_actions_service():
    from bot.production import lock_store_section

    endpoints = yaml.safe_load(_named("ConfigMap", "assistant-rasa-config")["data"]["endpoints.yml"])
    assert endpoints["lock_store"]["type"] == lock_store_section("redis://x")["type"]
    assert endpoints["lock_store"]["type"] == "bot.lock_store.AtomicRedisLockStore"
    assert importlib.util.find_spec("bot.lock_store") is not None
    assert endpoints["tracker_store"]["type"] == "SQL"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    url = endpoints["action_endpoint"]["url"]
    match = re.fullmatch(r"http://([a-z0-9-]+):(\d+)/webhook", url)
    assert match, url
    service = _named("Service", match.group(1))
    assert int(match.group(2)) in {p["port"] for p in service["spec"]["ports"]}


def test_credentials_name_real_channels():
    credentials = yaml.safe_load(_named("ConfigMap", "assistant-rasa-config")["data"]["credentials.yml"])
    base = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert set(base) <= set(credentials)  # REST and the widget's socket.io, as in make run
    for dotted in credentials:
        module, _, cls = dotted.rpartition(".")
        spec = importlib.util.find_spec(module)
        assert spec is not None, dotted
        assert re.search(rf"^class {cls}\b", Path(spec.origin).read_text(encoding="utf-8"), re.M), dotted


def test_secrets_hold_placeholders_only():
    for secret in _kind("Secret"):
        assert "data" not in secret, "base64 data could hide a real value: use stringData placeholders"
        for key, value in secret.get("stringData", {}).items():
            assert PLACEHOLDER.match(str(value)), f"{secret['__file__']}: {key} is not a placeholder"
    # and no secret-looking value anywhere else in the manifests
    for doc in _kind("ConfigMap"):
        for key in doc["data"]:
            assert not re.search(r"PASSWORD|TOKEN|SECRET", key), key


# --- sizing --------------------------------------------------------------------------------


SIZING = yaml.safe_load((DEPLOY / "sizing.yaml").read_text(encoding="utf-8"))


def test_sizing_calculation_is_consistent():
    t, p = SIZING["throughput"], SIZING["peak"]
    per_core = t["saturation_turns_per_s"] / t["machine_cores"]
    assert t["per_core_turns_per_s"] == pytest.approx(per_core, abs=0.05)
    festival = p["festival_crowd"] * p["chatting_share"] * p["messages_each"] / p["hour_after_fireworks_s"]
    peak = festival * p["burst_factor"] + p["background_msgs_per_s"]
    assert peak <= p["design_peak_msgs_per_s"] < peak + 5
    rasa = SIZING["rasa"]
    per_pod = t["per_core_turns_per_s"] * rasa["cpu_per_replica"]
    needed = p["design_peak_msgs_per_s"] * SIZING["headroom"] / per_pod
    assert rasa["replicas_at_peak"] == math.ceil(needed) + rasa["spare_replicas"]
    hpa = _named("HorizontalPodAutoscaler", "rasa")["spec"]
    assert hpa["minReplicas"] <= rasa["replicas_at_peak"] <= hpa["maxReplicas"]
    container = _named("Deployment", "rasa")["spec"]["template"]["spec"]["containers"][0]
    assert _quantity(container["resources"]["requests"]["cpu"]) == rasa["cpu_per_replica"]
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for number in (t["saturation_turns_per_s"], t["per_core_turns_per_s"], p["design_peak_msgs_per_s"],
                   rasa["replicas_at_peak"]):
        assert str(number) in readme, number


def _requests(replicas: dict[str, int]) -> tuple[float, float]:
    cpu = memory = 0.0
    for name, count in replicas.items():
        (container,) = _named("Deployment", name)["spec"]["template"]["spec"]["containers"]
        cpu += count * _quantity(container["resources"]["requests"]["cpu"])
        memory += count * _quantity(container["resources"]["requests"]["memory"])
    ingress = SIZING["nodes"]["ingress_controller"]
    return cpu + ingress["replicas"] * ingress["cpu"], memory + ingress["replicas"] * ingress["memory_gib"]


def test_resource_requests_fit_the_stated_nodes():
    nodes = SIZING["nodes"]
    hpas = {h["metadata"]["name"]: h["spec"] for h in _kind("HorizontalPodAutoscaler")}
    # At the design peak with one node lost (N+1).
    peak = {name: spec["minReplicas"] for name, spec in hpas.items()}
    peak["rasa"] = SIZING["rasa"]["replicas_at_peak"]
    cpu, memory = _requests(peak)
    assert cpu <= (nodes["count"] - 1) * nodes["allocatable_vcpu"], cpu
    assert memory <= (nodes["count"] - 1) * nodes["allocatable_memory_gib"], memory
    # Every autoscaler at its maximum on all nodes.
    cpu, memory = _requests({name: spec["maxReplicas"] for name, spec in hpas.items()})
    assert cpu <= nodes["count"] * nodes["allocatable_vcpu"], cpu
    assert memory <= nodes["count"] * nodes["allocatable_memory_gib"], memory
    for _workload, container in _workloads():
        resources = container["resources"]
        assert _quantity(resources["requests"]["cpu"]) <= nodes["allocatable_vcpu"]
        assert _quantity(resources["limits"]["memory"]) <= nodes["allocatable_memory_gib"]
        assert _quantity(resources["requests"]["memory"]) <= _quantity(resources["limits"]["memory"])
    assert nodes["allocatable_vcpu"] <= nodes["vcpu"]
    assert nodes["allocatable_memory_gib"] <= nodes["memory_gib"]


# --- the image ------------------------------------------------------------------------------


def _dockerfile() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_dockerfile_copies_files_that_exist_and_pins_requirements():
    lines = _dockerfile()
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    allowed = {entry[1:].rstrip("/") for entry in ignore if entry.startswith("!")}
    copied = set()
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _target = shlex.split(line)[1:]
            for source in sources:
                path = ROOT / source
                assert path.exists(), source
                parts = Path(source.rstrip("/")).parts
                assert any("/".join(parts[:i]) in allowed for i in range(1, len(parts) + 1)), (
                    f"{source} is excluded by Dockerfile.dockerignore")
                copied.add(source.rstrip("/"))
    from bot.launcher import MODEL_INPUTS

    for name in MODEL_INPUTS:  # the fingerprint of the baked-in model needs all of them
        assert any(name == c or name.startswith(c + "/") for c in copied), name
    for package in ("bot", "actions", "knowledge", "admin", "widget"):
        assert package in copied
    text = "\n".join(lines)
    assert re.search(r"pip install -r \S*requirements\.txt -c \S*requirements\.lock", text)
    assert "npm ci --prefix widget" in text
    assert 'from bot.launcher import ensure_model; ensure_model()' in text
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms[-1] == "python:3.10-slim-bookworm"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and not users[-1].startswith(("0", "root"))
    assert re.search(rf"^WORKDIR {IMAGE_ROOT}$", text, re.M)


def test_pods_run_as_the_images_user():
    (user,) = [line.split()[1] for line in _dockerfile() if line.startswith("USER ")]
    uid = int(user.split(":")[0])
    for workload, _container in _workloads():
        security = workload["spec"]["template"]["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == uid
