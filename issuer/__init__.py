"""The issuer service (issue 5): records, lifecycle, status lists, APIs, admin UI, CLI.

Rings (STYLE §1): ``credential`` is pure; ``lifecycle``, ``status``, ``audit``, ``catalog``,
``accounts``, ``csv_import``, ``export``, ``instance`` and, for the wallet export (issue 7),
``credential_export``, ``securing``, ``holder_copy``, ``public_page``, ``oid4vci``,
``live_verify`` are services that take a SQLAlchemy ``Session`` first (or, for OpenID4VCI's
per-call store and the instance verifier, a session factory) and never import Flask nor
commit; ``app``/``web``, ``cli`` and ``cli_export`` are the adapters. The web app is
``issuer.app:create_app`` (not imported here: no Flask in this file).
"""

from __future__ import annotations

from .context import IssuerContext as IssuerContext
from .lifecycle import IssueRequest as IssueRequest
from .lifecycle import issue as issue
from .lifecycle import transition as transition
from .models import Action as Action
from .models import State as State
