"""The Rasa credentials file for this run: the committed ``credentials.yml`` (REST and the
website's socket.io channel) plus every messaging channel whose settings are present in
the environment (Telegram, Zalo).

Secrets never reach the file: a channel's section refers to its environment variables as
``${NAME}``, which Rasa substitutes when it reads the file.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from knowledge.config import PROJECT_ROOT

BASE = PROJECT_ROOT / "credentials.yml"
# Each module defines CHANNEL (the dotted class name Rasa loads) and
# credentials_from_env(env) -> dict | None.
CHANNEL_MODULES = ("bot.channels.telegram", "bot.channels.zalo")


def channel_sections(env: Mapping[str, str]) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for name in CHANNEL_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        section = module.credentials_from_env(env)
        if section is not None:
            sections[module.CHANNEL] = section
    return sections


def render(env: Mapping[str, str]) -> str:
    credentials = yaml.safe_load(BASE.read_text(encoding="utf-8")) or {}
    credentials.update(channel_sections(env))
    header = "# written by bot/credentials.py for this run from credentials.yml and the environment\n"
    return header + yaml.safe_dump(credentials, allow_unicode=True, sort_keys=False)


def write(path: Path, env: Mapping[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(env), encoding="utf-8")
    return path
