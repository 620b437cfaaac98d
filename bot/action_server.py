"""The rasa_sdk action server with what production needs: ``python -m bot.action_server
--actions actions --port N`` takes rasa_sdk's own arguments and adds Prometheus
``/metrics``, a request id on every log line and JSON logs when ``LOG_FORMAT=json``.
(rasa_sdk's ``/health`` stays the liveness and readiness probe: actions load before the
server listens.)"""

from __future__ import annotations

from typing import Any

from bot import logging_config


def install() -> None:
    import rasa_sdk.endpoint
    import rasa_sdk.utils

    from bot.metrics import instrument

    original = rasa_sdk.endpoint.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        instrument(app, "actions")
        return app

    rasa_sdk.endpoint.create_app = create_app
    if logging_config.json_wanted():
        rasa_sdk.utils.configure_colored_logging = lambda level: logging_config.configure(level)


def main() -> None:
    if logging_config.json_wanted():
        logging_config.configure()  # before rasa_sdk's imports warn
    install()
    import rasa_sdk.__main__

    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()
