"""Change management (issue 14): change requests with impact, risk, approvals bound to their content,
scheduling conflicts, implementation with on-chain steps as emergency action kinds, verification,
rollback and the post-implementation review. See docs/changes.md."""
