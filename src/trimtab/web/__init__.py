"""The dashboard and HTTP API (``trimtab serve``): reads the journal that ``trimtab run`` keeps."""

from trimtab.web.app import create_app
from trimtab.web.auth import WebSettings

__all__ = ["WebSettings", "create_app"]
