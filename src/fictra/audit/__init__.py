"""The tamper-evident audit log: a hash chain of every state change, signed RFC 6962 checkpoints,
inclusion/consistency proofs and an optional on-chain anchor.

Every state change calls :func:`fictra.audit.service.record` in its own transaction.
"""
