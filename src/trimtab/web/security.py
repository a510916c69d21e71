"""Who may read and who may act: the access token, loopback binding, trusted hosts and same-origin actions.

The token is made once with :mod:`secrets` and kept where only its owner can read it: a file with mode 0600
next to a SQLite journal, or (any other database) only its SHA-256 in the journal's state table. The server
compares digests in constant time and never sends the token back. Actions need it in a request header, never
in a cookie alone, and a request whose ``Origin`` or ``Sec-Fetch-Site`` says it came from another site is
refused, so a page elsewhere cannot press a button on the user's behalf.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from trimtab.errors import BadInputError
from trimtab.storage.database import Store
from trimtab.storage.state import StateStore

TOKEN_BYTES = 32
TOKEN_HEADER = "X-Trimtab-Token"
TOKEN_COOKIE = "trimtab_token"
TOKEN_HASH_KEY = "web_token_sha256"
"""State key holding the token's digest when the journal is not a SQLite file."""
LOOPBACK_NAMES = ("localhost",)


def digest(token: str) -> str:
    """The SHA-256 of a token, hex: what the server keeps in memory and compares."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only accepts connections from this machine."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse to listen on an address other machines can reach unless ``--allow-remote`` was given.

    Raises
    ------
    BadInputError
        If ``host`` is not a loopback address and ``allow_remote`` is false.
    """
    if not is_loopback(host) and not allow_remote:
        raise BadInputError(
            "--host",
            "",
            f"{host} is reachable from other machines; keep 127.0.0.1 and use an SSH tunnel or a TLS reverse "
            "proxy, or pass --allow-remote (every request then needs the token)",
        )


@dataclass(frozen=True)
class TokenInfo:
    """The token's digest, where it is kept, and the token itself only when it was just made."""

    token_sha256: str
    location: str
    new_token: str | None = None


def token_file_for(store: Store) -> Path | None:
    """The token file next to a SQLite journal (``trimtab-paper.db.token``), or None for other databases."""
    path = store.sqlite_path
    return None if path is None else path.with_name(path.name + ".token")


def load_or_create_token(store: Store, token_file: Path | None = None, rotate: bool = False) -> TokenInfo:
    """The dashboard's access token: read it, or make one at first start (or when ``rotate``).

    Parameters
    ----------
    store:
        The journal the dashboard serves.
    token_file:
        Where to keep the token; by default next to a SQLite journal. Without a file (a PostgreSQL
        journal) only the token's digest is kept, in the journal's state table.
    rotate:
        Make a new token even if one exists (the old one stops working).

    Returns
    -------
    TokenInfo
        ``new_token`` is set only when a token was made now: the caller shows it once.

    Raises
    ------
    BadInputError
        If the token file can be read by other users, or is empty.
    """
    path = token_file if token_file is not None else token_file_for(store)
    if path is None:
        state = StateStore(store)
        known = state.get(TOKEN_HASH_KEY)
        if known and not rotate:
            return TokenInfo(str(known), "the journal's state table (digest only)")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        state.set(TOKEN_HASH_KEY, digest(token))
        return TokenInfo(digest(token), "the journal's state table (digest only)", new_token=token)
    if path.exists() and not rotate:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise BadInputError(
                str(path.name), "", f"permissions {mode:o} let other users read the token; run chmod 600 on it"
            )
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise BadInputError(str(path.name), "", "the token file is empty; delete it to make a new token")
        return TokenInfo(digest(token), str(path))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    write_private(path, token + "\n")
    return TokenInfo(digest(token), str(path), new_token=token)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, created that way (never world-readable, even briefly)."""
    temporary = path.with_name(path.name + f".{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


def token_matches(given: str | None, token_sha256: str) -> bool:
    """Whether ``given`` is the token, compared by digest in constant time."""
    if not given:
        return False
    return hmac.compare_digest(digest(given), token_sha256)


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def cross_site(origin: str | None, fetch_site: str | None, host: str | None) -> bool:
    """Whether a request came from another site: its ``Origin`` is not this host, or the browser says so.

    Requests without either header (curl, scripts) are not cross-site: a browser always sends ``Origin``
    on a cross-origin POST.
    """
    if fetch_site is not None and fetch_site.lower() == "cross-site":
        return True
    if not origin:
        return False
    if origin == "null":
        return True
    return urlsplit(origin).netloc.lower() != (host or "").lower()


def allowed_hosts(host: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The ``Host`` header values the server answers: the loopback names, the bound address and ``extra``."""
    names = ["127.0.0.1", "localhost", "::1", "[::1]"]
    bound = host.strip("[]")
    if bound not in ("0.0.0.0", "::") and bound not in names:
        names.append(bound)
    names.extend(name for name in extra if name not in names)
    return names
