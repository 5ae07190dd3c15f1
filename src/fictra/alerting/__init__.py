"""Alerts: findings from monitors become stateful P0–P3 alerts (dedup, confirmations, retraction)."""
