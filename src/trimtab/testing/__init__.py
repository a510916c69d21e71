"""Test helpers other test suites reuse: the fake exchange, its pytest fixtures and the venue contract registry."""
