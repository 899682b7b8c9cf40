"""The mounting example: Flask, Django and Pyramid under prefixes, linking to themselves."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from webtest import TestApp

from examples.mounting import make_app
from httpkit.testing import LiveServer, live_server

FRAMEWORKS = ("flask", "django", "pyramid")


@pytest.fixture(scope="module")
def client() -> TestApp:
    return TestApp(make_app())


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(make_app(), threads=2) as running:
        yield running


def test_native_index_links_to_every_mounted_app(client: TestApp) -> None:
    page = client.get("/").json
    assert page["self"] == "/"
    assert page["mounted"] == {name: f"/{name}/" for name in FRAMEWORKS}
    assert client.get("/hello/you").json["self"] == "/hello/you"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_app_builds_links_with_its_mount_prefix(client: TestApp, framework: str) -> None:
    index = client.get(f"/{framework}/").json
    assert index["framework"] == framework
    assert index["self"] == f"/{framework}/"
    assert index["hello"] == f"/{framework}/hello/{framework}"
    # Following the app's own link lands on the app again.
    hello = client.get(index["hello"]).json
    assert hello == {
        "framework": framework,
        "greeting": f"Hello, {framework}!",
        "self": f"/{framework}/hello/{framework}",
    }


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_links_stay_right_under_an_outer_prefix(framework: str) -> None:
    # Served itself under /site (e.g. `httpkit serve --url-prefix /site`).
    outer = TestApp(make_app(), extra_environ={"SCRIPT_NAME": "/site"})
    assert outer.get(f"/{framework}/").json["self"] == f"/site/{framework}/"


def test_unknown_paths_are_each_apps_own_404(client: TestApp) -> None:
    for framework in FRAMEWORKS:
        client.get(f"/{framework}/no-such-page", status=404)
    client.get("/no-such-app", status=404)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_through_the_real_server(server: LiveServer, framework: str) -> None:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        index = http.get(f"/{framework}/").json()
        assert http.get(index["hello"]).json()["self"] == f"/{framework}/hello/{framework}"
