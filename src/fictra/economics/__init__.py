"""Economic monitoring: the PT/CASH pool (reserves, price, depth at 1% and 5% of reserves, TWAP from the
pair's cumulative prices), realized volatility (EWMA, λ = 0.94) and the peg against 1.0 with P1/P2
thresholds, and the fee impact assessment by replaying PT transfers under a proposed fee. See
docs/economics.md."""
