from server_helpers import raw_client, serve, threads

__all__ = ["raw_client", "serve", "threads"]
