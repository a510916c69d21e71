"""The access token, loopback binding, trusted hosts and the cross-site check."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from trimtab.errors import BadInputError
from trimtab.storage import open_store
from trimtab.storage.state import StateStore
from trimtab.web.security import (
    TOKEN_HASH_KEY,
    allowed_hosts,
    bearer,
    check_bind,
    cross_site,
    digest,
    is_loopback,
    load_or_create_token,
    token_matches,
)


def test_the_first_start_makes_a_private_token_file_next_to_the_journal(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'trimtab-paper.db'}")
    first = load_or_create_token(store)
    path = tmp_path / "trimtab-paper.db.token"
    assert first.new_token is not None and len(first.new_token) >= 40
    assert first.location == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first.new_token
    assert first.token_sha256 == digest(first.new_token)
    again = load_or_create_token(store)
    assert again.new_token is None  # shown once only
    assert again.token_sha256 == first.token_sha256


def test_two_journals_never_share_a_token(tmp_path: Path) -> None:
    one = load_or_create_token(open_store(f"sqlite:///{tmp_path / 'a.db'}"))
    two = load_or_create_token(open_store(f"sqlite:///{tmp_path / 'b.db'}"))
    assert one.new_token != two.new_token


def test_rotating_makes_a_new_token(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'j.db'}")
    first = load_or_create_token(store)
    second = load_or_create_token(store, rotate=True)
    assert second.new_token is not None and second.token_sha256 != first.token_sha256


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'j.db'}")
    load_or_create_token(store)
    path = tmp_path / "j.db.token"
    path.chmod(0o644)
    with pytest.raises(BadInputError, match="chmod 600"):
        load_or_create_token(store)


def test_without_a_file_only_the_digest_is_kept_in_the_journal() -> None:
    store = open_store("sqlite://")
    made = load_or_create_token(store)
    assert made.new_token is not None
    kept = StateStore(store).get(TOKEN_HASH_KEY)
    assert kept == digest(made.new_token) != made.new_token
    assert load_or_create_token(store).new_token is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_reachable_address_needs_allow_remote() -> None:
    check_bind("127.0.0.1", allow_remote=False)
    check_bind("0.0.0.0", allow_remote=True)
    with pytest.raises(BadInputError, match=r"--host: 0.0.0.0 is reachable from other machines"):
        check_bind("0.0.0.0", allow_remote=False)


def test_tokens_compare_by_digest() -> None:
    secret = "s3cret-token"
    assert token_matches(secret, digest(secret))
    assert not token_matches("s3cret-tokem", digest(secret))
    assert not token_matches(None, digest(secret))
    assert not token_matches("", digest(""))
    assert bearer("Bearer abc") == "abc"
    assert bearer("Basic abc") is None


@pytest.mark.parametrize(
    ("origin", "fetch_site", "host", "refused"),
    [
        (None, None, "127.0.0.1:8765", False),  # curl, scripts
        ("http://127.0.0.1:8765", "same-origin", "127.0.0.1:8765", False),
        ("http://evil.example", None, "127.0.0.1:8765", True),
        ("http://127.0.0.1:9999", None, "127.0.0.1:8765", True),  # another local service
        ("null", None, "127.0.0.1:8765", True),  # a sandboxed frame or a file:// page
        (None, "cross-site", "127.0.0.1:8765", True),
    ],
)
def test_cross_site_requests_are_recognised(
    origin: str | None, fetch_site: str | None, host: str, refused: bool
) -> None:
    assert cross_site(origin, fetch_site, host) is refused


def test_the_host_allowlist_has_loopback_the_bound_address_and_extras() -> None:
    assert allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "::1", "[::1]"]
    assert "10.0.0.5" in allowed_hosts("10.0.0.5")
    assert "0.0.0.0" not in allowed_hosts("0.0.0.0")
    assert "dash.example.org" in allowed_hosts("0.0.0.0", ("dash.example.org",))
