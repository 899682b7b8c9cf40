"""Optional pieces built on the public API."""
