"""Wallet export (issue 7): the PDF certificate, baked badges, downloads, LinkedIn, and
OpenID4VCI offers. Pure library code over plain credential data; adapters call these. QR
codes are drawn by :mod:`verifier.qr_symbol`.

The names below are imported on first use (PEP 562): ``import wallet_export.errors``, which every
issuer command does, then does not load the PDF, font and image libraries (about 0.25 s of
every ``certvc`` command's start).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from keys.did_jwk import HolderResolver as HolderResolver
from keys.did_jwk import did_jwk as did_jwk
from keys.did_jwk import resolve_did_jwk as resolve_did_jwk

if TYPE_CHECKING:
    from .badge import bake as bake
    from .badge import bake_png as bake_png
    from .badge import bake_svg as bake_svg
    from .badge import unbake as unbake
    from .badge import unbake_png as unbake_png
    from .badge import unbake_svg as unbake_svg
    from .badge_image import default_badge_png as default_badge_png
    from .badge_image import default_badge_svg as default_badge_svg
    from .containers import Extracted as Extracted
    from .containers import extract_credential as extract_credential
    from .downloads import Download as Download
    from .downloads import credential_download as credential_download
    from .downloads import json_download as json_download
    from .downloads import jwt_download as jwt_download
    from .fonts import FontSet as FontSet
    from .fonts import default_fonts as default_fonts
    from .linkedin import add_to_profile_url as add_to_profile_url
    from .pdf import PRINT_LAYOUT as PRINT_LAYOUT
    from .pdf import Labels as Labels
    from .pdf import Paper as Paper
    from .pdf import PrintedQr as PrintedQr
    from .pdf import QrLayout as QrLayout
    from .pdf import certificate_pdf as certificate_pdf
    from .pdf import render_pdf as render_pdf
    from .pdf_extract import extract_from_pdf as extract_from_pdf
    from .pdf_extract import find_in_pdf as find_in_pdf
    from .view import Branding as Branding
    from .view import CertificateView as CertificateView
    from .view import certificate_view as certificate_view

#: Each public name and the submodule that defines it.
_EXPORTS = {
    "bake": "badge",
    "bake_png": "badge",
    "bake_svg": "badge",
    "unbake": "badge",
    "unbake_png": "badge",
    "unbake_svg": "badge",
    "default_badge_png": "badge_image",
    "default_badge_svg": "badge_image",
    "Extracted": "containers",
    "extract_credential": "containers",
    "Download": "downloads",
    "credential_download": "downloads",
    "json_download": "downloads",
    "jwt_download": "downloads",
    "FontSet": "fonts",
    "default_fonts": "fonts",
    "add_to_profile_url": "linkedin",
    "PRINT_LAYOUT": "pdf",
    "Labels": "pdf",
    "Paper": "pdf",
    "PrintedQr": "pdf",
    "QrLayout": "pdf",
    "certificate_pdf": "pdf",
    "render_pdf": "pdf",
    "extract_from_pdf": "pdf_extract",
    "find_in_pdf": "pdf_extract",
    "Branding": "view",
    "CertificateView": "view",
    "certificate_view": "view",
}

__all__ = ["HolderResolver", "did_jwk", "resolve_did_jwk", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
