"""The route index picks exactly what a linear scan in definition order would pick."""

from __future__ import annotations

from typing import Any

import webob
from hypothesis import given, settings
from hypothesis import strategies as st

from httpkit import Router

SEGMENTS = st.sampled_from(["a", "b", "ab", "{var}", "x{var}", "{var:.*}"])
PATH_SEGMENTS = st.sampled_from(["a", "b", "ab", "xa", "", "a/b"])


@st.composite
def templates(draw: Any) -> str:
    parts = draw(st.lists(SEGMENTS, min_size=0, max_size=4))
    # Each variable needs its own name within one template.
    named = [part.replace("var", f"v{index}") for index, part in enumerate(parts)]
    trailing = "/" if draw(st.booleans()) else ""
    return "/" + "/".join(named) + trailing


def answering(text: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text.encode()]

    return app


def reference_choice(router: Router, path: str) -> int | None:
    for position, route in enumerate(router.routes):
        if route.regex.match(path):
            return position
    return None


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(templates(), st.booleans()), min_size=1, max_size=12),
    st.lists(PATH_SEGMENTS, min_size=0, max_size=4),
)
def test_index_agrees_with_linear_scan(
    template_list: list[tuple[str, bool]], path_parts: list[str]
) -> None:
    router = Router()
    for position, (template, as_mount) in enumerate(template_list):
        if as_mount and "{" not in template:
            router.mount(template, answering(str(position)))
        else:
            router.add(template, lambda request, position=position, **params: str(position))
    path = "/" + "/".join(path_parts)
    expected = reference_choice(router, path)
    # PATH_INFO set directly: an HTTP client would normalise paths like "//".
    request = webob.Request.blank("/")
    request.environ["PATH_INFO"] = path
    response = request.get_response(router)
    if expected is None:
        assert response.status_int == 404
    else:
        assert response.text == str(expected)
