"""The issuer's services: each takes a SQLAlchemy ``Session`` first (or, for OpenID4VCI's
per-call store and the instance verifier, a session factory), never imports Flask and never
commits; the adapters (``issuer.web``, ``issuer.cli``) own the transaction.

(Nothing is imported here: ``issuer.db.models`` imports ``images.check`` through this package.)
"""
