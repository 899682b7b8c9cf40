"""The asyncio connection server: listeners, one protocol per connection, timeouts."""
