"""The command line: ``httpkit serve MODULE:APP`` and ``httpkit routes MODULE:APP``.

Every option of ``serve`` comes from the settings table in :mod:`httpkit.config`, with
its default in ``--help``; ``HTTPKIT_*`` environment variables supply values the
command line does not.  Any mistake (unknown option, bad value, port in use, an app
that does not import) ends with one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from httpkit import __version__
from httpkit.config import SETTINGS, Setting, Settings
from httpkit.errors import ConfigError
from httpkit.runner import print_cause, run_spec
from httpkit.wsgi import load_app
from httpkit.wsgi.loader import with_article

__all__ = ["build_parser", "main"]

EXIT_USAGE = 2  # bad command line or settings (the argparse convention)
EXIT_FAILURE = 1  # valid settings that could not be put to work (e.g. port in use)


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints the usage before an error; one clear line is easier to read.

    Abbreviations are off: ``--thread 3`` is a mistake to report (with the option it
    probably meant), not a silent ``--threads 3`` that a later option could change.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def unknown_arguments(self, extras: list[str]) -> NoReturn:
        """Exit naming the first unknown option, and the known one closest to it."""
        options = [option for option in extras if option.startswith("-")]
        if not options:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        name = options[0].partition("=")[0]
        known = [flag for action in self._actions for flag in action.option_strings]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        self.error(f"unknown option {name}{hint}")


def _option_help(setting: Setting) -> str:
    default = "none" if setting.default is None else setting.default or "empty"
    if setting.type is bool:
        default = "on" if setting.default else "off"
    choices = f" One of: {', '.join(setting.choices)}." if setting.choices else ""
    text = f"{setting.help}{choices} [default: {default}; env {setting.env_var}]"
    return text.replace("%", "%%")  # argparse expands %-placeholders in help


def _add_setting(group: argparse._ArgumentGroup, setting: Setting) -> None:
    if setting.type is bool:
        group.add_argument(
            setting.flag,
            dest=setting.name,
            action=argparse.BooleanOptionalAction,
            default=None,
            help=_option_help(setting),
        )
        return
    group.add_argument(
        setting.flag,
        dest=setting.name,
        metavar=setting.metavar or setting.type_name.split()[0].upper(),
        type=str,
        default=None,
        action="append" if setting.repeatable else "store",
        choices=setting.choices or None,
        help=_option_help(setting),
    )


def build_parser() -> _OneLineParser:
    parser = _OneLineParser(prog="httpkit", description="The httpkit HTTP/1.1 server.")
    parser.add_argument("--version", action="version", version=f"httpkit {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_OneLineParser
    )
    serve = commands.add_parser(
        "serve",
        help="serve a WSGI or ASGI application",
        description="Serve a WSGI or ASGI application (detected, or named by --interface). "
        "APP is MODULE:NAME, or MODULE:FACTORY() to call a factory with no arguments; the "
        "current directory is importable.",
    )
    serve.add_argument("app", metavar="MODULE:APP")
    group = serve.add_argument_group("settings")
    for setting in SETTINGS:
        _add_setting(group, setting)
    routes = commands.add_parser(
        "routes",
        help="print the route table of an httpkit.web.Router application",
        description="Print the route table of an httpkit.web.Router (or of a wrapper's .app).",
    )
    routes.add_argument("app", metavar="MODULE:APP")
    return parser


def settings_from(arguments: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Settings from the parsed command line over ``HTTPKIT_*`` variables over defaults."""
    overrides: dict[str, Any] = {}
    for setting in SETTINGS:
        value = getattr(arguments, setting.name)
        if value is None:
            continue
        if setting.repeatable:
            value = ",".join(value)
        overrides[setting.name] = value if setting.type is bool else setting.parse(value)
    return Settings.from_env(environ, **overrides)


def _serve(arguments: argparse.Namespace) -> int:
    settings = settings_from(arguments, dict(os.environ))
    try:
        return run_spec(arguments.app, settings)
    except ConfigError as error:
        print_cause(error, settings)
        raise


def _routes(arguments: argparse.Namespace) -> int:
    app = load_app(arguments.app)
    try:
        # Lazily: serving an app must not import WebOb and Routes.
        from httpkit.web import Router  # noqa: PLC0415
        from httpkit.web.table import format_route_table  # noqa: PLC0415
    except ImportError as error:
        raise ConfigError(f"the route table is not available: {error}") from None
    print(format_route_table(_find_router(app, arguments.app, Router)))
    return 0


_MAX_WRAPPERS = 16  # a bound on the walk down .app, which may lead anywhere


def _find_router(app: Any, spec: str, router_class: type[Any]) -> Any:
    """The Router ``app`` is, or wraps: middleware such as SQLiteGuard keeps the
    application it wraps as ``.app``."""
    chain = [app]
    for _ in range(_MAX_WRAPPERS + 1):
        current = chain[-1]
        if isinstance(current, router_class):
            return current
        inner = getattr(current, "app", None)
        if inner is None or not callable(inner):
            what = " around ".join(with_article(type(item).__name__) for item in chain)
            raise ConfigError(f"{spec} is {what}, not an httpkit.web.Router")
        if any(inner is seen for seen in chain):
            raise ConfigError(f"{spec} wraps itself: following .app leads back to it")
        chain.append(inner)
    raise ConfigError(f"{spec} has more than {_MAX_WRAPPERS} wrappers (.app) around it")


def _command_parser(parser: _OneLineParser, command: str) -> _OneLineParser:
    """The sub-parser of ``command`` (whose options an unknown one is compared with)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: _OneLineParser = action.choices[command]
            return found
    raise LookupError(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (also used by ``python -m httpkit``)."""
    parser = build_parser()
    arguments, extras = parser.parse_known_args(argv)
    if extras:
        where = parser if arguments.command is None else _command_parser(parser, arguments.command)
        where.unknown_arguments(extras)
    if arguments.command is None:  # just "httpkit": what it can do, as a mistake
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    command = _serve if arguments.command == "serve" else _routes
    try:
        return command(arguments)
    except ConfigError as error:
        message = str(error)
        status = EXIT_FAILURE if message.startswith("cannot listen") else EXIT_USAGE
        print(f"httpkit: error: {message}", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        return 130
