"""Uploaded images: ``check`` (pure: what a PNG or SVG must be to be kept) and ``store`` (the
``images`` table: a scheme's badge and the body's logo, stored and audited).

(Nothing is imported here: ``issuer.db.models`` imports ``check`` for its ``ImageType``.)
"""
