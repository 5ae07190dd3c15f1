"""FICTRA Ops: the operations platform for the FICTRA commodity-trading token system."""

__version__ = "0.1.0"
