"""How long a change made through the staff API takes to show in the assistant's answers.

One round creates a place through the JSON API, then changes its hours, gives it an
alias and retires it; after each step it asks the running assistant over the REST
channel (a new sender every time, so no conversation context helps) until the answer
shows the change, and records the delay. Used by the end-to-end test and by
``benchmarks/admin_propagation.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bot.text_normalise import strip_diacritics
from tests.e2e.servers import Assistant

# Real places in Đà Nẵng that the seed knowledge does not have (so the assistant cannot
# know them before the API adds them). The facts here are test data, not seed data.
PLACES = (
    {
        "name_vi": "Chùa Tam Bảo",
        "name_en": "Tam Bao Pagoda",
        "category": "pagoda",
        "district": "Hải Châu",
        "address_vi": "253 Phan Chu Trinh, Hải Châu",
        "address_en": "253 Phan Chu Trinh St, Hai Chau",
        "lat": 16.0637,
        "lon": 108.2209,
        "alias": "chùa Tam Bảo Phan Chu Trinh",
    },
    {
        "name_vi": "Chùa Pháp Lâm",
        "name_en": "Phap Lam Pagoda",
        "category": "pagoda",
        "district": "Hải Châu",
        "address_vi": "574 Ông Ích Khiêm, Hải Châu",
        "address_en": "574 Ong Ich Khiem St, Hai Chau",
        "lat": 16.0623,
        "lon": 108.2148,
        "alias": "chùa Pháp Lâm Ông Ích Khiêm",
    },
    {
        "name_vi": "Nhà hát Trưng Vương",
        "name_en": "Trung Vuong Theatre",
        "category": "culture",
        "district": "Hải Châu",
        "address_vi": "35 Phan Châu Trinh, Hải Châu",
        "address_en": "35 Phan Chau Trinh St, Hai Chau",
        "lat": 16.0716,
        "lon": 108.2229,
        "alias": "rạp Trưng Vương",
    },
)

POLL_EVERY = 0.1


@dataclass
class Step:
    name: str
    seconds: float
    reply: str


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def wait_until(assistant: Assistant, question: str, shows: Callable[[str], bool],
               timeout: float) -> tuple[float, str]:
    """Ask ``question`` (a fresh sender each time) until ``shows(answer)``; the delay is
    measured from the call, i.e. from just after the API confirmed the change."""
    start = time.monotonic()
    reply = ""
    while time.monotonic() - start < timeout:
        reply = _text(assistant.ask(f"probe-{uuid.uuid4().hex[:10]}", question))
        if shows(reply):
            return time.monotonic() - start, reply
        time.sleep(POLL_EVERY)
    raise AssertionError(f"after {timeout:.0f} s the assistant still answers {question!r} with: {reply!r}")


def run_round(api: requests.Session, base_url: str, assistant: Assistant, place: dict[str, Any],
              timeout: float = 30.0) -> list[Step]:
    """Create, change, alias and retire ``place`` through the API; the delay of each."""
    fields = {k: v for k, v in place.items() if k != "alias"}
    steps: list[Step] = []
    created = api.post(f"{base_url}/api/v1/places", json={
        **fields, "kind": "attraction", "hours_vi": "Mở cửa 5:30–21:00 hằng ngày",
        "hours_en": "Open 5:30am–9pm daily", "source": "end-to-end test", "verified": False,
    })
    assert created.status_code == 201, created.text
    row = created.json()
    # Typed the way a phone user types it: no diacritics.
    unaccented = strip_diacritics(place["name_vi"]).lower()
    question = f"{unaccented} mo cua may gio"
    seconds, reply = wait_until(assistant, question, lambda r: "5:30–21:00" in r, timeout)
    steps.append(Step("create", seconds, reply))

    changed = api.patch(f"{base_url}/api/v1/places/{row['id']}", json={"hours_vi": "Mở cửa 6:00–20:00"},
                        headers={"If-Match": f'"{row["version"]}"'})
    assert changed.status_code == 200, changed.text
    row = changed.json()
    seconds, reply = wait_until(assistant, f"{place['name_vi']} mở cửa lúc mấy giờ?",
                                lambda r: "6:00–20:00" in r and "5:30" not in r, timeout)
    steps.append(Step("update", seconds, reply))

    aliased = api.patch(f"{base_url}/api/v1/places/{row['id']}", json={"aliases": [place["alias"]]},
                        headers={"If-Match": f'"{row["version"]}"'})
    assert aliased.status_code == 200, aliased.text
    row = aliased.json()
    street = place["address_vi"].split(",")[0]
    seconds, reply = wait_until(assistant, f"{place['alias']} ở đâu", lambda r: street in r, timeout)
    steps.append(Step("alias", seconds, reply))

    url = f"{base_url}/api/v1/places/{row['id']}"
    retired = api.delete(url, headers={"If-Match": f'"{row["version"]}"'})
    assert retired.status_code == 200, retired.text
    seconds, reply = wait_until(
        assistant, f"{place['name_vi']} ở đâu, mở cửa mấy giờ?",
        lambda r: street not in r and "6:00–20:00" not in r, timeout,
    )
    steps.append(Step("retire", seconds, reply))
    return steps
