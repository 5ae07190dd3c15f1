"""Reserve operations: continuous proof of reserve (every asset's balance, oracle price and freshness,
value; PT supply; collateral ratio) as a block monitor, and the platform-published proof-of-reserve feed
the PaymentToken's secure-mint check reads. See docs/reserve.md."""
