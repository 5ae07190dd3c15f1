"""Foundation token operations: the sovereign allocation registry reconciled with the chain (allocations on
FoundationToken, balances, delegated votes) and FT issuance requests checked against the registry before
they become ``ft_issue`` actions under approval. See docs/tokens.md."""
