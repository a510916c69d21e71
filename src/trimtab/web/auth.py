"""Request checks shared by the API and the pages: who may read, who may act."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request

from trimtab.web.security import TOKEN_COOKIE, TOKEN_HEADER, bearer, cross_site, is_loopback, token_matches


@dataclass(frozen=True)
class WebSettings:
    """How the dashboard serves: the token's digest, the bound address, the reports folder.

    ``reads_need_token`` is true once the server listens beyond loopback (``--allow-remote``): then every
    page and API answer, not only the actions, needs the token.
    """

    token_sha256: str
    host: str = "127.0.0.1"
    allow_remote: bool = False
    reports: Path | None = None
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    refresh_seconds: float = 5.0

    @property
    def reads_need_token(self) -> bool:
        return self.allow_remote or not is_loopback(self.host)


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def presented_token(request: Request, allow_cookie: bool) -> str | None:
    """The token the request carries: the header, a bearer token, or (reads only) the session cookie."""
    token = request.headers.get(TOKEN_HEADER) or bearer(request.headers.get("authorization"))
    if token is None and allow_cookie:
        token = request.cookies.get(TOKEN_COOKIE)
    return token


def can_read(request: Request) -> bool:
    """Whether the request may see read-only pages and API answers."""
    settings = settings_of(request)
    if not settings.reads_need_token:
        return True
    return token_matches(presented_token(request, allow_cookie=True), settings.token_sha256)


def require_read(request: Request) -> None:
    """Dependency of read-only API routes: 401 when the server needs a token for reads and none matches."""
    if not can_read(request):
        raise HTTPException(status_code=401, detail="this server needs the token for reads too (--allow-remote)")


def require_action(request: Request) -> None:
    """Dependency of every action: same-site, and the token in a header (a cookie alone is not enough).

    Raises
    ------
    HTTPException
        403 for a cross-site request or a wrong token, 401 when no token was sent.
    """
    if cross_site(request.headers.get("origin"), request.headers.get("sec-fetch-site"), request.headers.get("host")):
        raise HTTPException(status_code=403, detail="cross-site request refused")
    token = presented_token(request, allow_cookie=False)
    if token is None:
        raise HTTPException(status_code=401, detail=f"actions need the token in the {TOKEN_HEADER} header")
    if not token_matches(token, settings_of(request).token_sha256):
        raise HTTPException(status_code=403, detail="wrong token")
