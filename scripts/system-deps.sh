#!/usr/bin/env bash
# System packages the test suite needs, from Debian's archive: Chromium for the browser
# tests (Playwright drives /usr/bin/chromium; `playwright install` cannot download here).
# Skips anything already present.
set -euo pipefail
need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
# A real IMAP server for the email channel's tests (tests/standins/mail_servers.py).
[[ -x /usr/sbin/dovecot && -x /usr/lib/dovecot/imap ]] || need+=(dovecot-core dovecot-imapd)
if (( ${#need[@]} )); then
  echo "Installing from Debian: ${need[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
