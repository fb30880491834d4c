#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Install the Debian packages the end-to-end tests need: MediaWiki 1.39 with
# SQLite under PHP's built-in web server, and headless Chromium with its
# WebDriver. Idempotent: does nothing when everything is already installed.
#
# Naming php-cgi and micro-httpd satisfies the mediawiki package's
# "apache2 | httpd" dependency, so Apache is never pulled in.
set -eu

PACKAGES="mediawiki php-sqlite3 php-cli php-cgi micro-httpd chromium chromium-driver fonts-liberation"

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "MediaWiki test packages already installed."
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "Installing:$missing"
$SUDO apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
