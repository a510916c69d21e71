"""The dashboard's ASGI application: API, pages, static files, trusted hosts and security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from trimtab import __version__
from trimtab.storage.database import StorageError, Store
from trimtab.web.api import actions, open_routes, reads
from trimtab.web.auth import WebSettings, can_read
from trimtab.web.limits import BodyLimit
from trimtab.web.pages import pages
from trimtab.web.security import allowed_hosts

STATIC = Path(__file__).resolve().parent / "static"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(store: Store, settings: WebSettings) -> FastAPI:
    """The dashboard for ``store``.

    Parameters
    ----------
    store:
        The journal that ``trimtab run`` keeps (read, plus the pause, halt and approval flags).
    settings:
        The token's digest, the bound address (reads need the token beyond loopback), the reports folder.

    Returns
    -------
    FastAPI
        An ASGI application; ``trimtab serve`` runs it with uvicorn.
    """
    app = FastAPI(
        title="trimtab",
        version=__version__,
        description="Dashboard and API of a trimtab journal. Actions need the token in the X-Trimtab-Token header.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema stays at /openapi.json
        redoc_url=None,
        openapi_url=None,  # served below, behind the token like every read when the server is remote
    )
    app.state.store = store
    app.state.settings = settings
    app.include_router(open_routes)
    app.include_router(reads)
    app.include_router(actions)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_schema(request: Request) -> JSONResponse:
        if not can_read(request):
            return JSONResponse({"detail": "this server needs the token for reads too (--allow-remote)"}, 401)
        return JSONResponse(app.openapi())

    @app.exception_handler(StorageError)
    async def storage_unavailable(_request: Request, error: StorageError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    # Added last so it runs first: a request for another host name (DNS rebinding) is refused before anything.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings.host, settings.extra_hosts))
    # Outermost: a body past the limit is refused before any of it is read, token or not.
    app.add_middleware(BodyLimit)
    return app
