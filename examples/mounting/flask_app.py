"""The Flask application of the mounting example: its links come from ``url_for``."""

from __future__ import annotations

import flask

__all__ = ["make_flask_app"]


def make_flask_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/")
    def index() -> flask.Response:
        # url_for includes SCRIPT_NAME, which the Router set to the mount prefix.
        return flask.jsonify(
            {
                "framework": "flask",
                "self": flask.url_for("index"),
                "hello": flask.url_for("hello", name="flask"),
            }
        )

    @app.route("/hello/<name>")
    def hello(name: str) -> flask.Response:
        return flask.jsonify(
            {
                "framework": "flask",
                "greeting": f"Hello, {name}!",
                "self": flask.url_for("hello", name=name),
            }
        )

    return app
