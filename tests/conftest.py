# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest configuration."""

pytest_plugins = ["tests.conftest_mediawiki"]
