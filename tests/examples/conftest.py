import sys
from collections.abc import Iterator
from pathlib import Path

# The examples are a package at the repository root, importable from a checkout.
ROOT = str(Path(__file__).resolve().parent.parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


import pytest  # noqa: E402
from postgres_server import PostgresServer, postgres_server, why_unavailable  # noqa: E402


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (skips with the reason without one)."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    pytest.importorskip("psycopg", reason="psycopg is not installed (the test extra has it)")
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a fresh database on the session's server."""
    with postgres.database() as url:
        yield url
