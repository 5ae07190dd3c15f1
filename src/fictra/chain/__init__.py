"""Chain access: JSON-RPC pool with failover, the block follower, ABIs/artifacts, decoding."""
