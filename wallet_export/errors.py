"""The codes of what the holder takes away: QR images, PDF, baked badges, OpenID4VCI.

They arise in ``wallet_export`` (STYLE §6); the strings are public API. OpenID4VCI's own error
names are the spec's and stay in :mod:`wallet_export.oid4vci.errors`.
"""

from __future__ import annotations

from contexts.errors import Code


class WalletCode(Code):
    IMAGE_INVALID = "image_invalid"
    BADGE_ALREADY_BAKED = "badge_already_baked"
    BADGE_NOT_BAKED = "badge_not_baked"
    FONT_MISSING_GLYPH = "font_missing_glyph"
    CREDENTIAL_NOT_FOUND = "credential_not_found"
    TOOL_UNAVAILABLE = "tool_unavailable"
    #: An OpenID4VCI request was refused; the protocol's own error name is in ``error``.
    OID4VCI_REFUSED = "oid4vci_refused"
