"""Pinned JSON-LD contexts and the offline document loader (no network, ever)."""

from __future__ import annotations

from .errors import CertvcError as CertvcError
from .errors import Code as Code
from .errors import ContextIntegrityError as ContextIntegrityError
from .errors import ContextNotAllowed as ContextNotAllowed
from .errors import ErrorCode as ErrorCode
from .errors import InputError as InputError
from .errors import JsonLdError as JsonLdError
from .errors import SafeModeEvent as SafeModeEvent
from .errors import ShapeError as ShapeError
from .errors import UnsafeJsonLd as UnsafeJsonLd
from .jsonld import expand as expand
from .jsonld import to_dataset as to_dataset
from .loader import ContextStore as ContextStore
from .loader import DocumentLoader as DocumentLoader
from .loader import default_store as default_store
from .loader import parse_context_option as parse_context_option
