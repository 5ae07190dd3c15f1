"""Users, roles and access: permissions (``permissions``), the role map (``config/roles.yaml``), stored
users, sessions, API tokens and access attempts (``models``/``service``), FastAPI dependencies (``deps``),
the HTTP endpoints (``views``) and the access-attempts monitor (``monitor``)."""
