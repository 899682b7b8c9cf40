from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy_helpers import HttpkitProcess, write_site


@pytest.fixture
def httpkit(tmp_path: Path) -> Iterator[Callable[..., HttpkitProcess]]:
    """httpkit(*args) -> a running ``httpkit serve deploy_site:app ARGS`` process."""
    write_site(tmp_path)
    started: list[HttpkitProcess] = []

    def start(*args: str, **popen: Any) -> HttpkitProcess:
        process = HttpkitProcess(list(args), tmp_path, **popen)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
