"""plugin.toml validation: one clear line per problem, interpolation, insecure http."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisp_plugin import Config, ConfigError, load_config

VALID = """
[plugin]
class = "bot:Bot"

[crisp]
identifier = "${CRISP_IDENTIFIER}"
key = "${CRISP_KEY}"
"""

ENV = {"CRISP_IDENTIFIER": "ident-1", "CRISP_KEY": "k" * 32}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plugin.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env=ENV if env is None else env)
    return caught.value.problems


def test_a_valid_file_gives_typed_settings_with_defaults(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, VALID + '[settings]\nfaq = {hours = "9-5"}\n'), env=ENV)
    assert settings.plugin.class_ == "bot:Bot"
    assert settings.crisp.identifier == "ident-1"
    assert settings.crisp.key.get_secret_value() == "k" * 32
    assert "k" * 32 not in repr(settings)
    assert settings.crisp.api_url == "https://api.crisp.chat"
    assert settings.events.transport == "rtm"
    assert settings.dispatch.concurrency == 100
    assert settings.dispatch.dedupe_ttl == 600
    assert settings.state.backend == "memory"
    assert settings.settings == {"faq": {"hours": "9-5"}}


def test_env_defaults_apply_when_unset_or_empty(tmp_path: Path) -> None:
    text = VALID + '[webhooks]\nport = "${PORT:-9090}"\nhost = "${HOST:-0.0.0.0}"\n'
    settings = load_config(write(tmp_path, text), env={**ENV, "HOST": ""})
    assert settings.webhooks.port == 9090
    assert settings.webhooks.host == "0.0.0.0"
    settings = load_config(write(tmp_path, text), env={**ENV, "PORT": "7000"})
    assert settings.webhooks.port == 7000


def test_unset_env_without_default_names_key_and_fix(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID, env={"CRISP_IDENTIFIER": "ident"})
    assert lines == [
        "crisp.key: environment variable CRISP_KEY is not set: export it or give a "
        "default as ${CRISP_KEY:-...}"
    ]


def test_empty_key_says_how_to_fix(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID, env={**ENV, "CRISP_KEY": ""})
    assert lines == ["crisp.key is empty: set CRISP_KEY or write it in plugin.toml"]


def test_missing_key_and_class(tmp_path: Path) -> None:
    lines = problems(tmp_path, '[crisp]\nidentifier = "abc"\n')
    assert 'plugin.class is missing: name your plugin class, e.g. class = "my_bot:MyBot"' in lines
    assert "crisp.key is missing: set CRISP_KEY or write it in plugin.toml" in lines


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID + (
        '[events]\ntransport = "websocket"\n'
        '[dispatch]\nconcurrency = "many"\nhandler_timeout = -1\nconcurency = 3\n'
        '[log]\nlevel = "loud"\n'
    )
    lines = problems(tmp_path, text)
    assert lines == [
        'events.transport = "websocket" is not one of rtm, webhooks, both',
        'dispatch.concurrency = "many" is not an integer: fix the value\'s type',
        "dispatch.handler_timeout = -1 must be greater than 0: change the value",
        "dispatch.concurency is not a known key: did you mean concurrency?",
        'log.level = "loud" is not one of debug, info, warning, error, critical',
    ]


def test_unknown_section_is_a_problem(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID + "[webhook]\nport = 1\n")
    assert lines == ["webhook is not a known key: did you mean webhooks?"]


def test_a_secret_of_the_wrong_type_is_never_printed(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID.replace('"${CRISP_KEY}"', "123456789"))
    assert lines == ["crisp.key = <hidden> is not a string: fix the value's type"]
    assert not any("123456789" in line for line in lines)


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    text = VALID + 'api_url = "http://api.example.com"\n'
    lines = problems(tmp_path, text.replace("[crisp]\n", "[crisp]\n", 1))
    assert lines == [
        'crisp.api_url = "http://api.example.com" uses plain http to a remote host: use '
        "https, or set crisp.allow_insecure_http = true if you mean it"
    ]
    allowed = load_config(write(tmp_path, text + "allow_insecure_http = true\n"), env=ENV)
    assert allowed.crisp.api_url == "http://api.example.com"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787", "http://localhost:1/", "http://[::1]:9"])
def test_plain_http_to_loopback_is_fine(url: str) -> None:
    settings = Config.model_validate({"crisp": {"api_url": url}})
    assert settings.crisp.api_url == url.rstrip("/")


def test_api_url_loses_a_trailing_v1() -> None:
    settings = Config.model_validate({"crisp": {"api_url": "https://api.crisp.chat/v1/"}})
    assert settings.crisp.api_url == "https://api.crisp.chat"


def test_sandbox_makes_credentials_optional(tmp_path: Path) -> None:
    text = '[plugin]\nclass = "bot:Bot"\n[sandbox]\nenabled = true\n'
    settings = load_config(write(tmp_path, text), env={})
    assert settings.sandbox.enabled and not settings.crisp.has_credentials


def test_signed_webhooks_need_a_secret(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID + '[events]\ntransport = "webhooks"\n')
    assert lines == [
        "webhooks.secret is missing: set CRISP_HOOK_SECRET and write secret = "
        '"${CRISP_HOOK_SECRET}", or set webhooks.unsigned = true for unsigned website hooks'
    ]
    text = VALID + '[events]\ntransport = "both"\n[webhooks]\nsecret = "${CRISP_HOOK_SECRET}"\n'
    settings = load_config(write(tmp_path, text), env={**ENV, "CRISP_HOOK_SECRET": "s" * 20})
    assert settings.webhooks.secret is not None


def test_bad_class_path_shape(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID.replace("bot:Bot", "bot.Bot"))
    assert lines == [
        'plugin.class = "bot.Bot" is not "module:Class": write e.g. class = "my_bot:MyBot"'
    ]


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert "no such file" in caught.value.problems[0]
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[crisp\n"))
    assert "not valid TOML" in caught.value.problems[0]


def test_settings_can_be_built_in_code() -> None:
    settings = Config.model_validate(
        {"plugin": {"class": "x:Y"}, "dispatch": {"concurrency": 5}, "settings": {"a": 1}}
    )
    assert settings.plugin.class_ == "x:Y"
    assert settings.dispatch.concurrency == 5
    assert settings.settings == {"a": 1}
    assert settings.secrets() == []


def test_double_dollar_is_a_literal_env_reference(tmp_path: Path) -> None:
    text = VALID + '[settings]\nliteral = "$${HOME} and ${CRISP_IDENTIFIER}"\nprice = "$5"\n'
    settings = load_config(write(tmp_path, text), env=ENV)
    assert settings.settings["literal"] == "${HOME} and ident-1"
    assert settings.settings["price"] == "$5"


def test_a_bad_env_reference_is_a_problem_naming_the_key(tmp_path: Path) -> None:
    text = VALID + '[settings]\ngreeting = "hi ${BAD NAME}"\nopen = "x ${OOPS"\n'
    assert problems(tmp_path, text) == [
        "settings.greeting: '${BAD NAME}' is not an environment reference: write ${NAME} or "
        "${NAME:-default} (NAME of letters, digits and _), or $${ for a literal ${",
        "settings.open: '${OOPS' is never closed: write ${NAME} or ${NAME:-default} "
        "(NAME of letters, digits and _), or $${ for a literal ${",
    ]


def test_a_bad_reference_in_a_secret_never_shows_the_value(tmp_path: Path) -> None:
    lines = problems(tmp_path, VALID.replace('"${CRISP_KEY}"', '"s3cr3t-${nope"'))
    assert lines == [
        "crisp.key: <hidden> is never closed: write ${NAME} or ${NAME:-default} "
        "(NAME of letters, digits and _), or $${ for a literal ${"
    ]


def test_a_relative_state_path_resolves_against_the_toml_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bot"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    text = VALID + '[state]\nbackend = "sqlite"\npath = "data/state.sqlite3"\n'
    (folder / "data").mkdir()
    settings = load_config(write(folder, text), env=ENV)
    assert settings.state.path == str(folder / "data" / "state.sqlite3")
    absolute = tmp_path / "elsewhere.sqlite3"
    text = VALID + f'[state]\nbackend = "sqlite"\npath = "{absolute}"\n'
    assert load_config(write(folder, text), env=ENV).state.path == str(absolute)
    text = VALID + '[state]\nbackend = "sqlite"\npath = ":memory:"\n'
    assert load_config(write(folder, text), env=ENV).state.path == ":memory:"


def test_an_unopenable_sqlite_path_is_a_problem_naming_state_path(tmp_path: Path) -> None:
    text = VALID + '[state]\nbackend = "sqlite"\npath = "missing/state.sqlite3"\n'
    assert problems(tmp_path, text) == [
        f'state.path = "{tmp_path / "missing" / "state.sqlite3"}": folder '
        f"{tmp_path / 'missing'} does not exist: create it or change the path"
    ]
    (tmp_path / "adir").mkdir()
    text = VALID + '[state]\nbackend = "sqlite"\npath = "adir"\n'
    [line] = problems(tmp_path, text)
    assert line.startswith(f'state.path = "{tmp_path / "adir"}" is a folder')


def test_the_metrics_section_is_validated_one_line_per_problem(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, VALID), env=ENV)
    assert (settings.metrics.enabled, settings.metrics.host, settings.metrics.port) == (
        False,
        "127.0.0.1",
        9090,
    )
    bad = VALID + '[metrics]\nenabled = "sometimes"\nport = 70000\nhots = "x"\n'
    lines = problems(tmp_path, bad)
    assert len(lines) == 3
    assert lines[0].startswith('metrics.enabled = "sometimes"')
    assert lines[1].startswith("metrics.port = 70000")
    assert lines[2] == "metrics.hots is not a known key: did you mean host?"
    clash = VALID + (
        '[events]\ntransport = "webhooks"\n[webhooks]\nport = 8080\nsecret = "s"\n'
        "[metrics]\nenabled = true\nport = 8080\n"
    )
    [line] = problems(tmp_path, clash)
    assert line.startswith("metrics.port = 8080 is the web hook port")


@pytest.mark.parametrize("spelling", ['"${SANDBOX:-true}"', '"true"', '"1"', '"yes"'])
def test_a_boolean_written_as_a_string_means_the_same_in_every_check(
    tmp_path: Path, spelling: str
) -> None:
    """pydantic reads these as true; the checks across sections must read them so too."""
    text = f'[plugin]\nclass = "bot:Bot"\n[sandbox]\nenabled = {spelling}\n'
    settings = load_config(write(tmp_path, text), env={})
    assert settings.sandbox.enabled is True
    hooks = VALID + f'[events]\ntransport = "webhooks"\n[webhooks]\nunsigned = {spelling}\n'
    assert load_config(write(tmp_path, hooks), env=ENV).webhooks.unsigned is True


def test_ports_written_as_strings_are_compared_as_numbers(tmp_path: Path) -> None:
    hooks = VALID + '[events]\ntransport = "webhooks"\n[webhooks]\nsecret = "s"\n'
    clash = hooks + 'port = "${HOOK_PORT:-8080}"\n[metrics]\nenabled = "${M:-true}"\nport = 8080\n'
    [line] = problems(tmp_path, clash)
    assert line.startswith("metrics.port = 8080 is the web hook port")
    # 0 asks each server for a free port of its own: never a clash, however it is written
    free = hooks + 'port = "0"\n[metrics]\nenabled = true\nport = "${METRICS_PORT:-0}"\n'
    settings = load_config(write(tmp_path, free), env=ENV)
    assert (settings.webhooks.port, settings.metrics.port) == (0, 0)


def test_a_check_that_needs_a_wrong_value_is_left_to_that_values_own_line(
    tmp_path: Path,
) -> None:
    """``sandbox.enabled = "sometimes"`` gets its line; whether credentials are needed
    cannot be known from it, so no guess about them is printed."""
    lines = problems(tmp_path, '[plugin]\nclass = "bot:Bot"\n[sandbox]\nenabled = "sometimes"\n')
    assert lines == ['sandbox.enabled = "sometimes" is not true or false: fix the value\'s type']


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787",
        "http://127.0.0.2:8787",
        "http://127.255.255.254",
        "http://[::1]:9",
        "http://[::ffff:127.0.0.1]:9",
        "http://localhost:1",
        "http://LOCALHOST.:1",
        "http://localhost.localdomain",
        "http://ip6-localhost",
    ],
)
def test_plain_http_to_any_loopback_is_accepted_by_the_settings_and_the_client(url: str) -> None:
    from crisp_plugin.rest import RestClient

    assert Config.model_validate({"crisp": {"api_url": url}}).crisp.api_url == url
    assert RestClient("i", "k", api_url=url).api_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://128.0.0.1",
        "http://10.0.0.1",
        "http://0.0.0.0:8787",
        "http://localhost.example.com",
        "http://[::2]",
        "http://api.crisp.chat",
    ],
)
def test_plain_http_elsewhere_is_refused_by_the_settings_and_the_client(url: str) -> None:
    from pydantic import ValidationError

    from crisp_plugin.rest import RestClient

    with pytest.raises(ValidationError) as by_settings:
        Config.model_validate({"crisp": {"api_url": url}})
    with pytest.raises(ConfigError) as by_client:
        RestClient("i", "k", api_url=url)
    expected = (
        f'crisp.api_url = "{url}" uses plain http to a remote host: use https, or set '
        "crisp.allow_insecure_http = true if you mean it"
    )
    assert by_client.value.problems == [expected]
    assert expected in str(by_settings.value)


@pytest.mark.parametrize(
    "url", ["ftp://api.crisp.chat", "https://", "http://[::1", "http://h:99999"]
)
def test_an_api_url_that_is_not_http_is_one_line_from_both(url: str) -> None:
    from pydantic import ValidationError

    from crisp_plugin.rest import RestClient

    expected = (
        f'crisp.api_url = "{url}" is not an http(s) URL: write e.g. '
        'api_url = "https://api.crisp.chat"'
    )
    with pytest.raises(ValidationError) as by_settings:
        Config.model_validate({"crisp": {"api_url": url}})
    assert expected in str(by_settings.value)
    with pytest.raises(ConfigError) as by_client:
        RestClient("i", "k", api_url=url)
    assert by_client.value.problems == [expected]


def test_the_rest_package_imports_nothing_of_the_framework_config() -> None:
    """The REST modules import no config module at run time (type hints aside): the
    api_url check they share with the settings lives in the stdlib-only api_url."""
    import ast

    import crisp_plugin.rest

    def runtime_imports(tree: ast.AST) -> set[str]:
        found: set[str] = set()
        for node in ast.iter_child_nodes(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            found |= runtime_imports(node)
        return found

    folder = Path(crisp_plugin.rest.__file__).parent
    for source in sorted(folder.glob("*.py")):
        names = runtime_imports(ast.parse(source.read_text(encoding="utf-8")))
        assert not names & {"crisp_plugin.config", "crisp_plugin.settings_models"}, source.name
    assert "crisp_plugin.api_url" in runtime_imports(
        ast.parse((folder / "core.py").read_text(encoding="utf-8"))
    )
