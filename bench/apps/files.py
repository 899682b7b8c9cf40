"""Static files: ``files:router`` serves the directory named by ``BENCH_STATIC_DIR``
at ``/files/`` with httpkit's ``Router.static``."""

from __future__ import annotations

import os

from httpkit import Router

router = Router()
router.static("/files", os.environ.get("BENCH_STATIC_DIR", "."))
