"""The local devnet: Anvil, the deployed FICTRA reference system, simulated activity and scenarios."""
