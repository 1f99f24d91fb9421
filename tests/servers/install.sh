#!/usr/bin/env bash
# Install what the compatibility servers need, without replacing Dovecot:
# Cyrus and Courier declare a conflict with dovecot-imapd, so their .debs are
# downloaded and unpacked into a cache dir (dpkg-deb -x) and only their
# libraries are installed. pymap comes from PyPI with the `test` extra.
# Idempotent: a second run with everything in place does nothing but check.
# Run as root (CI does); the suite finds the servers in $FOLLOWUP_SERVERS.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
DEST="${FOLLOWUP_SERVERS:-/var/cache/followup-servers}"
mkdir -p "$DEST/debs"

# Shared libraries and tools the unpacked binaries link against or call.
LIBS="libclamav12 libical3 libicu72 libjansson4 libxapian30 libzephyr4 libpq5 libwrap0
      libpcre3 libsasl2-modules sasl2-bin libcourier-unicode4 libgamin0 gamin libgdbm6 libidn12
      courier-authlib courier-authlib-userdb courier-authdaemon
      libxml2 libldap-2.5-0 libsqlite3-0 libgnutls30 libkrb5-3 libssl3 libstdc++6"
missing=""
for p in $LIBS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-upgrade --no-install-recommends $missing >/dev/null
fi

# Cyrus drops from root to this user and refuses to run as anyone else.
id cyrus >/dev/null 2>&1 || useradd --system --gid mail --no-create-home \
  --home-dir /nonexistent --shell /usr/sbin/nologin cyrus

unpack() {  # name, packages...
  local name=$1; shift
  [ -f "$DEST/$name/.done" ] && return 0
  # As root apt warns that it downloads unsandboxed: noise, but keep real errors.
  (cd "$DEST/debs" && apt-get download -qq "$@" 2>&1 | grep -v "unsandboxed" >&2 || true)
  for p in "$@"; do
    ls "$DEST"/debs/"${p}"_*.deb >/dev/null 2>&1 || { echo "install.sh: could not download $p" >&2; exit 1; }
  done
  rm -rf "$DEST/$name" && mkdir -p "$DEST/$name"
  for p in "$@"; do dpkg-deb -x "$DEST"/debs/"${p}"_*.deb "$DEST/$name"; done
  touch "$DEST/$name/.done"
}
unpack cyrus cyrus-common cyrus-imapd
unpack courier courier-base courier-imap
