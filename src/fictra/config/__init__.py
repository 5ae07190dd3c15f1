"""Configuration, the bottom layer: the strict YAML reader, the problem collector (``file:key.path:
message``), shared field types and the generic section loader. Imports no domain package: the registry
of every domain's section lives in :mod:`fictra.platform.config_set`."""
