"""Governance proposals: followed from the chain, reviewed (decoded calls, risk, fork simulation,
sign-off), verified after execution. See docs/proposals.md."""
