"""The context URLs certvc itself writes into credentials: defined here, once.

(The QR dictionary of ``verifier/qr_dictionary.py`` spells them out too, on purpose: a
dictionary is frozen forever under its version digit.)
"""

from __future__ import annotations

#: W3C Verifiable Credentials Data Model 2.0.
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
#: W3C Verifiable Credentials Data Model 1.1 (read, and signed on request; never what certvc
#: issues as its own certification credential).
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
#: 1EdTech Open Badges 3.0 (the version the issuer writes).
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
