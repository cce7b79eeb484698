#!/usr/bin/env bash
# `make certs`: a self-signed certificate for trying pgreel's TLS locally (LOCAL USE ONLY).
#
#   scripts/certs.sh [DIR]     default DIR: .certs (gitignored)
#
# Writes DIR/server.crt (CN localhost; names localhost, 127.0.0.1 and ::1) and DIR/server.key (mode 600, as
# pgreel and PostgreSQL require of a private key). Keeps existing files: delete them to make new ones.
set -euo pipefail

DIR="${1:-.certs}"
say() { printf 'certs: %s\n' "$*"; }

command -v openssl >/dev/null 2>&1 || { echo "certs: openssl is not installed (apt-get install openssl)" >&2; exit 1; }

if [[ -f "$DIR/server.crt" && -f "$DIR/server.key" ]]; then
    say "$DIR/server.crt and $DIR/server.key exist; delete them to make new ones"
    exit 0
fi
mkdir -p "$DIR"
chmod 700 "$DIR"
( umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$DIR/server.key" -out "$DIR/server.crt" 2>/dev/null )
chmod 600 "$DIR/server.key"
chmod 644 "$DIR/server.crt"
say "wrote $DIR/server.crt and $DIR/server.key (self-signed, valid 365 days, for localhost only)"
say "start the proxy with it:  make run TLS=1   (or make proxy TLS=1)"
say "connect and check it:     psql \"host=localhost port=5433 user=pseudo_user dbname=postgres sslmode=verify-full sslrootcert=$DIR/server.crt\""
