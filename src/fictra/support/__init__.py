"""The support queue: tickets from participants (API, email, console), SLAs, replies through the outbox."""
