"""The website chat widget: its static files (static/), the demo page and the aiohttp
routes that serve them under /chat/ (routes.py)."""
