"""The `rasa` command with one performance fix, for serving: ``python -m bot.server run ...``
takes the same arguments as ``rasa run``.

Rasa 3.6 checks every action-server response against its JSON schema with
``jsonschema.validate``, which first re-validates the (large) events schema itself and
builds a new validator each time: 66 ms per action call on the 2-core machine, half of
a whole turn. The same check with one validator built once takes about 1 ms, so every
response is still validated exactly as before, only faster.

It also adds what running several replicas needs (bot/metrics.py): ``/readyz`` (model
loaded, tracker store and lock store reachable; 503 otherwise), Prometheus ``/metrics``,
and JSON log lines when ``LOG_FORMAT=json`` (bot/logging_config.py).
"""

from __future__ import annotations

import asyncio
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jsonschema import ValidationError, exceptions, validators
from sanic import Sanic, response
from sanic.request import Request

from bot import logging_config

if TYPE_CHECKING:
    from rasa.core.actions.action import RemoteAction


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error: ValidationError | None = exceptions.best_match(_response_validator().iter_errors(result))
    if error is not None:
        # Same message as Rasa's own check, so logs and docs still match.
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid."
        )
        raise error
    return True


def _stores_reachable(agent: Any) -> str | None:
    """None if the tracker store's database and the lock store's Redis answer, else why not.
    Blocking calls: run in a thread."""
    store = getattr(agent, "tracker_store", None)
    store = getattr(store, "_tracker_store", store)  # Rasa wraps it in a FailSafeTrackerStore
    engine = getattr(store, "engine", None)
    try:
        if engine is not None:
            import sqlalchemy as sa

            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"tracker store: {exc.__class__.__name__}"
    redis = getattr(getattr(agent, "lock_store", None), "red", None)
    try:
        if redis is not None:
            redis.ping()
    except Exception as exc:  # noqa: BLE001
        return f"lock store: {exc.__class__.__name__}"
    return None


def add_probes(app: Sanic) -> None:
    """``/readyz``: 200 once the model is loaded and the stores answer. (``/`` only says the
    process is up.) nginx and Kubernetes send traffic only to ready replicas."""

    async def readyz(request: Request) -> response.HTTPResponse:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return response.json({"status": "loading", "reason": "model not loaded"}, status=503)
        problem = await asyncio.to_thread(_stores_reachable, agent)
        if problem:
            return response.json({"status": "unavailable", "reason": problem}, status=503)
        return response.json({"status": "ready"})

    app.add_route(readyz, "/readyz", methods=["GET"], name="readyz")


def _configure_app(original: Any) -> Any:
    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        app = original(*args, **kwargs)
        from bot.metrics import instrument

        add_probes(app)
        instrument(app, "rasa")
        if logging_config.json_wanted():
            # Sanic configured its own loggers while the app was made: take them back.
            logging_config.configure()
        return app

    return configure_app


def _cache_event_classes() -> None:
    """Rasa finds the class of every stored event by walking all Event subclasses; loading
    a 500-event conversation spent a quarter of its time there. The classes do not change
    while the server runs, so each name is looked up once."""
    from rasa.shared.core.events import Event

    lookup = Event.resolve_by_type
    found: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        cls = found.get(type_name)
        if cls is None:
            cls = lookup(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def install() -> None:
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
    _cache_event_classes()
    import rasa.utils.io

    from bot.metrics import count_turns

    rasa.core.run.configure_app = _configure_app(rasa.core.run.configure_app)
    count_turns()
    if logging_config.json_wanted():
        # Rasa installs coloredlogs on the root logger after parsing its arguments.
        rasa.utils.io.configure_colored_logging = lambda level: logging_config.configure(level)


def main() -> None:
    if logging_config.json_wanted():
        # Before Rasa is imported: its imports already log and warn.
        logging_config.configure()
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
