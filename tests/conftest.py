"""Shared fixtures: the test PostgreSQL server, the stores and the loopback Teams channel."""

pytest_plugins = ["tests.postgres", "tests.imap", "tests.harness.fixtures"]
