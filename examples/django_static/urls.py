"""The example project's URLs: only the admin."""

from __future__ import annotations

from django.contrib import admin  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

urlpatterns = [path("admin/", admin.site.urls)]
