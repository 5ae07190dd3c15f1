"""The operations console: server-rendered pages (Jinja2 + htmx), vendored assets, no build step."""
