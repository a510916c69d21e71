from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from trimtab.errors import BadInputError
from trimtab.venues.ccxt.credentials import load_credentials, venue_env_prefix

KEY, SECRET = "key-abc123", "secret-def456"


def _key_file(tmp_path: Path, text: str, mode: int, name: str = "keys.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_no_keys_anywhere_means_public_only() -> None:
    assert load_credentials("binance", environ={}) is None


def test_generic_environment_variables_are_used() -> None:
    found = load_credentials("binance", environ={"TRIMTAB_API_KEY": KEY, "TRIMTAB_API_SECRET": SECRET})
    assert found is not None
    assert (found.api_key, found.secret) == (KEY, SECRET)
    assert found.source == "environment (TRIMTAB_API_KEY)"


def test_per_venue_variables_win_over_generic_ones() -> None:
    env = {
        "TRIMTAB_API_KEY": "generic",
        "TRIMTAB_API_SECRET": "generic-secret",
        "TRIMTAB_BINANCEUSDM_API_KEY": KEY,
        "TRIMTAB_BINANCEUSDM_API_SECRET": SECRET,
        "TRIMTAB_BINANCEUSDM_API_PASSWORD": "phrase",
    }
    found = load_credentials("binanceusdm", environ=env)
    assert found is not None and found.api_key == KEY and found.password == "phrase"
    assert venue_env_prefix("gate.io") == "TRIMTAB_GATE_IO_"


def test_half_a_key_pair_is_bad_input_naming_the_missing_variable() -> None:
    with pytest.raises(BadInputError) as raised:
        load_credentials("binance", environ={"TRIMTAB_API_KEY": KEY})
    assert raised.value.field == "TRIMTAB_API_SECRET"
    assert KEY not in str(raised.value)


def test_a_private_key_file_is_read(tmp_path: Path) -> None:
    path = _key_file(tmp_path, f'api_key = "{KEY}"\nsecret = "{SECRET}"\n', 0o600)
    found = load_credentials("binance", key_file=path, environ={"TRIMTAB_API_KEY": "ignored"})
    assert found is not None and (found.api_key, found.secret) == (KEY, SECRET)
    assert found.source == "key file keys.toml"


def test_a_json_key_file_is_read(tmp_path: Path) -> None:
    path = _key_file(tmp_path, json.dumps({"api_key": KEY, "secret": SECRET}), 0o600, "keys.json")
    found = load_credentials("binance", key_file=path)
    assert found is not None and found.secret == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, f'api_key = "{KEY}"\nsecret = "{SECRET}"\n', mode)
    with pytest.raises(BadInputError, match="chmod 600"):
        load_credentials("binance", key_file=path)


def test_a_malformed_key_file_never_echoes_its_content(tmp_path: Path) -> None:
    path = _key_file(tmp_path, f'api_key = "{KEY}\nsecret = {SECRET}\n', 0o600)
    with pytest.raises(BadInputError) as raised:
        load_credentials("binance", key_file=path)
    assert KEY not in str(raised.value) and SECRET not in str(raised.value)


def test_unknown_fields_and_missing_secret_are_named(tmp_path: Path) -> None:
    path = _key_file(tmp_path, f'api_key = "{KEY}"\nwithdraw = true\n', 0o600)
    with pytest.raises(BadInputError) as raised:
        load_credentials("binance", key_file=path)
    assert raised.value.field == "withdraw"
    path = _key_file(tmp_path, f'api_key = "{KEY}"\n', 0o600)
    with pytest.raises(BadInputError) as raised:
        load_credentials("binance", key_file=path)
    assert raised.value.field == "secret"


def test_a_missing_key_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read"):
        load_credentials("binance", key_file=tmp_path / "absent.toml")


def test_a_key_file_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "keys.toml"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(BadInputError, match=r"keys\.toml: is not a regular file"):
        load_credentials("binance", fifo)
