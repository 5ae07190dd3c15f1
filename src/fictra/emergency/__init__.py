"""Emergency and recovery actions: typed definitions, approvals bound to parameters, dry runs, V3
keystore signing, on-chain execution with tracking and read-back verification, automatic response."""
