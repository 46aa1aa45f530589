"""The issuer service (issue 5): records, lifecycle, status lists, APIs, admin UI, CLI.

The map (docs/issuer.md, "Layout"):

- ``db``: engines, sessions and ``run_transaction`` (``db/__init__.py``), the tables
  (``db.models``), Alembic run from code (``db.migrate``, ``db/migrations``).
- ``services``: take a SQLAlchemy ``Session`` first (or, for OpenID4VCI's per-call store and
  the instance verifier, a session factory), never import Flask nor commit: ``lifecycle``,
  ``status_lists``, ``audit``, ``catalog``, ``accounts``, ``csv_import``, ``fields``,
  ``instance``, ``keyring``, ``issuing_context``, ``static_publish``, ``images`` (``check``,
  ``store``) and, for the wallet export (issue 7), ``wallet_files``, ``securing``,
  ``holder_copy``, ``public_page``, ``oid4vci``, ``live_verify``.
- the adapters: ``app`` and ``web`` (``web.admin``, ``web.api``, ``web.public``, and the
  shared ``web.wallet``, ``web.auth``, ``web.extensions``, ``web.error_handlers``), and
  ``cli``, the whole ``certvc`` command line. The web app is ``issuer.app:create_app`` (not
  imported here: no Flask in this file).
- ``errors``: ``IssuerCode`` and the issuer's error classes.
"""

from __future__ import annotations

from .db.models import Action as Action
from .db.models import State as State
from .services.issuing_context import IssuerContext as IssuerContext
from .services.lifecycle import IssueRequest as IssueRequest
from .services.lifecycle import issue as issue
from .services.lifecycle import transition as transition
