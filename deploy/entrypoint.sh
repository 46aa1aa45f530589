#!/bin/sh
# The container's entry point: secrets from files (Docker/Kubernetes secrets), then the command.
# CERTVC_KEY_PASSPHRASE_FILE names a file holding the key passphrase (one trailing newline is
# dropped); the PKCS#11 PIN needs nothing here (CERTVC_PKCS11_PIN_FILE is read by certvc).
# Nothing is written: the root filesystem may be read-only.
set -eu
if [ -n "${CERTVC_KEY_PASSPHRASE_FILE:-}" ] && [ -z "${CERTVC_KEY_PASSPHRASE:-}" ]; then
  if [ ! -r "$CERTVC_KEY_PASSPHRASE_FILE" ]; then
    echo "certvc: error: cannot read CERTVC_KEY_PASSPHRASE_FILE ($CERTVC_KEY_PASSPHRASE_FILE)" >&2
    exit 2
  fi
  CERTVC_KEY_PASSPHRASE="$(cat "$CERTVC_KEY_PASSPHRASE_FILE")"
  export CERTVC_KEY_PASSPHRASE
fi
unset CERTVC_KEY_PASSPHRASE_FILE
exec "$@"
