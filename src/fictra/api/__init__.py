"""HTTP API (FastAPI): one app, each domain contributes a router."""
