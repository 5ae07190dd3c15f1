"""CEL rules: the expression engine, rule config and templates (nothing else lives here)."""
