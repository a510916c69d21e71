"""The dashboard and HTTP API (``trimtab serve``): reads the journal that ``trimtab run`` keeps.

The application (FastAPI) loads on first use: ``trimtab pause``, ``status`` and the Telegram commands use
:mod:`trimtab.web.controls` and :mod:`trimtab.web.queries` without paying for the web framework.
"""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
    from trimtab.web.app import create_app
    from trimtab.web.auth import WebSettings

__all__ = ["WebSettings", "create_app"]

__getattr__, __dir__ = lazy_exports(
    __name__, {"trimtab.web.app": ("create_app",), "trimtab.web.auth": ("WebSettings",)}
)
