# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests: the gadget in a real MediaWiki with headless Chromium."""
