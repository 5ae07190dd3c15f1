"""The HTTP API routers, one module per domain (the domains never import the API)."""
