"""``python -m admin``: serve the admin and the API (ADMIN_HOST, ADMIN_PORT, DATABASE_URL)."""

from __future__ import annotations

import logging

from aiohttp import web

from admin.app import create_app
from admin.config import AdminConfig
from bot import logging_config


def main() -> None:
    if logging_config.json_wanted():
        logging_config.configure()  # JSON lines, like every other server in production
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = AdminConfig.from_env()
    web.run_app(create_app(config), host=config.host, port=config.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
