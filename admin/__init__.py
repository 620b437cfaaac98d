"""The staff web admin and the JSON API (one aiohttp application on :8080)."""
