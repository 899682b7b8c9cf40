"""The settings table: one declaration gives validation, environment and keyword arguments."""

from __future__ import annotations

import pytest

import httpkit
from httpkit.config import SETTINGS, Settings
from httpkit.errors import ConfigError


def test_defaults_match_the_documented_ones() -> None:
    settings = Settings()
    assert (settings.host, settings.port, settings.threads) == ("127.0.0.1", 8000, 4)
    assert settings.max_body == 1 << 30
    assert (settings.header_timeout, settings.keepalive_timeout) == (10.0, 5.0)
    assert settings.unix is None


def test_every_setting_has_help_and_a_valid_default() -> None:
    for setting in SETTINGS:
        assert setting.help.endswith(".")
        assert setting.validate(setting.default) == setting.default


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"prot": 80}, "unknown setting: prot"),
        ({"port": "80"}, "port: expected integer, got str"),
        ({"port": -1}, "port: must be at least 0"),
        ({"threads": True}, "threads: expected integer, got bool"),
        ({"keepalive_timeout": 0}, "keepalive_timeout: must be at least 0.01"),
        ({"log_level": "loud"}, "log_level: must be one of debug, info"),
        ({"url_prefix": "/a/"}, "url_prefix: must start with / and not end with /"),
        ({"host": "[::1]"}, "host: not a valid IPv6 address"),
        ({"server_header": "x\r\ny"}, "server_header: must not contain control characters"),
    ],
)
def test_bad_values_are_refused_clearly(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        Settings(**values)


def test_environment_variables_and_overrides() -> None:
    environ = {"HTTPKIT_PORT": "9000", "HTTPKIT_ACCESS_LOG": "yes", "PATH": "/bin"}
    settings = Settings.from_env(environ, port=9001)
    assert settings.port == 9001  # the explicit value wins
    assert settings.access_log is True
    assert Settings.from_env({"HTTPKIT_UNIX": "none"}).unix is None
    assert Settings.from_env({"HTTPKIT_HEADER_TIMEOUT": "2.5"}).header_timeout == 2.5
    with pytest.raises(ConfigError, match="unknown setting in environment: HTTPKIT_PORTS"):
        Settings.from_env({"HTTPKIT_PORTS": "1"})
    with pytest.raises(ConfigError, match="finite"):
        Settings.from_env({"HTTPKIT_BODY_TIMEOUT": "nan"})


def test_settings_are_read_only_and_replace_validates() -> None:
    settings = Settings(threads=0)
    with pytest.raises(AttributeError):
        settings.threads = 2  # type: ignore[misc]
    changed = settings.replace(port=0)
    assert (changed.threads, changed.port) == (0, 0)
    assert changed != settings
    assert "threads=0" in repr(settings)
    with pytest.raises(ConfigError):
        settings.replace(port=1 << 20)


def test_serve_refuses_unknown_settings_before_binding() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        return []

    with pytest.raises(ConfigError, match="unknown setting: thread"):
        httpkit.serve(app, port=0, thread=2)


def test_unknown_settings_suggest_the_close_match() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting: thread \(did you mean threads\?\)"):
        Settings(thread=2)
    with pytest.raises(ConfigError, match=r"HTTPKIT_PROT \(did you mean HTTPKIT_PORT\?\)"):
        Settings.from_env({"HTTPKIT_PROT": "1"})


@pytest.mark.parametrize(
    "host", ["localhost", "example.com", "example.com.", "my-host.lan", "0.0.0.0", "::", "::1"]
)
def test_hosts_that_are_addresses_or_dns_names(host: str) -> None:
    assert Settings(host=host).host == host


@pytest.mark.parametrize(
    "host",
    ["bad host!", "-lead.example", "under_score", "a..b", "999.1.1.1", "1.2.3", "x" * 64, "é.fr"],
)
def test_hosts_that_are_neither_are_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="host: not an IP address or a DNS name"):
        Settings(host=host)
