"""A throwaway PostgreSQL server for the tests: initdb into a temporary directory, then
``pg_ctl start`` listening only on a Unix socket in that directory.

PostgreSQL refuses to run as root: under root (CI) the server runs as the ``postgres``
user that Debian's package creates, through ``runuser``; a developer's own user runs it
directly.  Tests skip with the reason when the binaries or that user are missing.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_USER = "postgres"
START_SECONDS = 30
_numbers = itertools.count(1)


def find_binaries() -> Path | None:
    """The directory of initdb and pg_ctl: Debian's, else the PATH's."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(candidate, "pg_ctl"), os.X_OK):
            return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def why_unavailable() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if find_binaries() is None:
        return (
            "PostgreSQL is not installed (apt-get install postgresql; looked in "
            "/usr/lib/postgresql/*/bin and on PATH)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL"
        if shutil.which("runuser") is None:
            return "running as root, and runuser is missing to start PostgreSQL as postgres"
    return None


class PostgresServer:
    """A running server; ``database()`` makes a fresh database and gives its URL."""

    def __init__(self, directory: Path, binaries: Path) -> None:
        self.directory = directory
        self.binaries = binaries
        self.data = directory / "data"

    def url(self, name: str = "postgres") -> str:
        return f"postgresql:///{name}?host={self.directory}&user={SERVER_USER}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=START_SECONDS, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stdout}{result.stderr}")

    def start(self) -> None:
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SERVER_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        # No TCP at all: the socket lives in the test's directory.  fsync off: the data
        # is thrown away with the directory.
        options = f"-k {self.directory} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self._run(
            str(self.binaries / "pg_ctl"),
            "start",
            "-w",
            "-t",
            str(START_SECONDS),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        self._run(str(self.binaries / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast")

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database for one test, dropped afterwards."""
        import psycopg  # noqa: PLC0415 (the tests skip without it)

        name = f"atompub_test_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.url(), autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server in a new temporary directory; stop it and remove the directory."""
    binaries = find_binaries()
    assert binaries is not None
    # Not under pytest's tmp_path: its parents are private to root, and the server runs
    # as postgres when the tests run as root.
    directory = Path(tempfile.mkdtemp(prefix="atompub-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    server = PostgresServer(directory, binaries)
    try:
        server.start()
        yield server
        server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
