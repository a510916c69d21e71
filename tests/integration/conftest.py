"""Fixtures shared by the integration tests."""

from trimtab.testing.postgres import pg_url

__all__ = ["pg_url"]
