"""The run configuration file: defaults < file < TRIMTAB__SECTION__KEY < flags, and errors naming their source."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from pydantic import BaseModel

from trimtab.cli.settings import RunSection, ServeSection, Settings, load_settings
from trimtab.errors import BadInputError
from trimtab.execution.config import ExecutionConfig
from trimtab.notify.config import RateSection, TelegramSection, WebhookSection

STARTER = resources.files("trimtab.cli") / "starter" / "trimtab.toml"


def write(tmp_path: Path, text: str, name: str = "trimtab.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_without_file_or_environment_every_setting_is_its_default() -> None:
    assert load_settings(None, {}) == Settings()
    assert load_settings(None, {}).run.venue == "paper"


def test_the_environment_wins_over_the_file_and_a_flag_over_both(tmp_path: Path) -> None:
    path = write(tmp_path, '[run]\ninterval = 30\nvenue = "binance"\n[execution]\nmax_order_notional = 1000.0\n')
    env = {
        "TRIMTAB__RUN__INTERVAL": "300",
        "TRIMTAB__EXECUTION__ALLOWED_SYMBOLS": '["BTC/USDT", "ETH/USDT"]',
        "TRIMTAB__RUN__STATE": "postgresql+psycopg://bot@db:5432/trimtab",
        "TRIMTAB__SERVE__ALLOW_REMOTE": "true",
        "OTHER__RUN__INTERVAL": "1",
    }
    settings = load_settings(path, env, {"run.venue": "binanceusdm"})
    assert settings.run.interval == 300.0
    assert settings.run.venue == "binanceusdm"
    assert settings.run.state == "postgresql+psycopg://bot@db:5432/trimtab"
    assert settings.serve.allow_remote is True
    assert settings.execution.max_order_notional == 1000.0
    assert settings.execution.allowed_symbols == ["BTC/USDT", "ETH/USDT"]


def test_nested_tables_take_overrides_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[[notify.telegram]]\nchat_id = "42"\n')
    settings = load_settings(path, {"TRIMTAB__NOTIFY__RATE__BURST": "3"})
    assert settings.notify is not None
    assert settings.notify.rate.burst == 3
    assert settings.notify.telegram[0].chat_id == "42"


def test_paths_in_the_file_are_relative_to_its_folder(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = write(tmp_path / "conf", '[run]\npolicy = "policy.toml"\ndata = "/srv/market"\n[serve]\nreports = "r"\n')
    settings = load_settings(path, {"TRIMTAB__RUN__PORTFOLIO": "p.toml"})
    assert settings.run.policy == str(tmp_path / "conf" / "policy.toml")
    assert settings.run.data == "/srv/market"
    assert settings.serve.reports == str(tmp_path / "conf" / "r")
    assert settings.run.portfolio == "p.toml"  # from the environment: as given, relative to the working folder


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[run]\ninterval = -1\n", {}, "trimtab.toml: run.interval: must be at least 0"),
        ("[run]\nintervall = 5\n", {}, "trimtab.toml: run.intervall: unknown key (did you mean 'interval'?)"),
        ('[execution]\nalgo = "fast"\n', {}, "trimtab.toml: execution.algo: "),
        ("[run]\napi_key = 'x'\n", {}, "trimtab.toml: run.api_key: unknown key"),
        ("[run]\n", {"TRIMTAB__RUN__INTERVAL": "soon"}, "TRIMTAB__RUN__INTERVAL: must be a number"),
        ("[run]\n", {"TRIMTAB__EXECUTION__ALGOO": "market"}, "TRIMTAB__EXECUTION__ALGOO: unknown key"),
        ("[run]\n", {"TRIMTAB__INTERVAL": "5"}, "TRIMTAB__INTERVAL: must be TRIMTAB__SECTION__KEY"),
        ("[run]\ninterval = 5\n", {"TRIMTAB__RUN__INTERVAL__X": "5"}, "TRIMTAB__RUN__INTERVAL__X: interval is not"),
        ("[run\n", {}, "trimtab.toml: is not valid TOML"),
    ],
)
def test_bad_settings_name_the_file_and_field_or_the_variable(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(BadInputError) as error:
        load_settings(write(tmp_path, text), env)
    assert str(error.value).startswith(message), str(error.value)


def test_a_bad_flag_is_named_as_the_flag() -> None:
    with pytest.raises(BadInputError, match=r"^--port: must be at most 65535"):
        load_settings(None, {}, {"serve.port": 70000})


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_the_starter_file_is_valid_and_names_every_setting() -> None:
    text = STARTER.read_text(encoding="utf-8")
    parsed = load_settings(None, {})  # defaults
    written = Settings.model_validate(tomllib.loads(text))
    # What the starter sets, it sets to the defaults (apart from the starter files it points to).
    assert written.execution == parsed.execution
    assert written.serve == parsed.serve
    # Every key appears, commented out or not, so the file documents every setting.
    keys = set(re.findall(r"^#?\s*([a-z_]+) = ", text, flags=re.MULTILINE))
    for model in (RunSection, ServeSection, ExecutionConfig, RateSection, WebhookSection, TelegramSection):
        assert _fields(model) <= keys, f"{model.__name__}: {sorted(_fields(model) - keys)} missing from the starter"
