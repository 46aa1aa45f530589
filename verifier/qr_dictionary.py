"""The DEFLATE preset dictionaries of the QR payload format (docs/qr-format.md).

A preset dictionary (RFC 1950 §2.2, zlib ``zdict``) is text the compressor may refer back to as
if it had already been sent: the boilerplate every certvc credential repeats (context URLs, type
names, the Open Badges skeleton, status entries, the proof) then costs a few bits instead of its
length, which halves the payload of a typical credential.

A dictionary is part of the format: a QR code printed today must decode in ten years. Each one is
frozen under its version digit and pinned by SHA-256 in the tests; a better dictionary is a new
version, never an edit. DEFLATE finds nearer matches cheaper, so the likeliest text comes last.
"""

from __future__ import annotations

_V1_FRAGMENTS = (
    # rarer properties and values, farthest from the data
    '"termsOfUse""evidence""credentialSchema""refreshService""image":{"id":"https://",'
    '"type":"Image"}"resultDescription""result""endDate""startDate""awardedDate""hashed":true'
    '"salt":"identityType":"emailAddress""email""phone""address""familyName""givenName"'
    '"creator""tag":["@value""@language":"en""related""version"',
    '"https://www.w3.org/2018/credentials/v1""https://w3id.org/security/data-integrity/v2"'
    '"https://www.w3.org/ns/credentials/examples/v2"',
    '"ttl":"encodedList":"u""BitstringStatusListCredential""BitstringStatusList",'
    '"statusPurpose":"refresh""message""statusSize""statusMessage""statusReference"'
    '"expires":"20","domain":"","challenge":"","nonce":"',
    # vc+jwt protected headers (the payload part is the credential JSON below)
    '{"alg":"ES384","kid":"did:key:z82L","typ":"vc+jwt","cty":"vc"}'
    '{"alg":"ES256","kid":"did:key:zDna","typ":"vc+jwt","cty":"vc"}'
    '{"alg":"EdDSA","kid":"did:web:","typ":"vc+jwt","cty":"vc"}'
    '{"alg":"EdDSA","kid":"did:key:z6Mk","typ":"vc+jwt","cty":"vc"}',
    # words certification credentials use
    '"Certified ""Inspector""Engineer""Technician""Auditor""Specialist""Level 1""Level 2"'
    '"Level 3""ISO/IEC 17024:2012""ISO 9712:2021""accredited""Personnel Certification Body"'
    '" — ""Scope: ""examination""experience""years"T00:00:00Z"T12:00:00Z"'
    '"https://www.iso.org/standard/""Passed the ""criteria":{"id":"https://"',
    '"alignment":[{"type":["Alignment"],"targetName":"","targetUrl":"https://",'
    '"targetDescription":"","targetFramework":"","targetCode":"","targetType":"ext:Standard"}],'
    '"achievementType":"Certification","humanCode":"","creditsAvailable":"fieldOfStudy":"",'
    '"specialization":"","criteria":{"narrative":"',
    # an ecdsa-rdfc-2019 proof
    '"proof":{"type":"DataIntegrityProof","cryptosuite":"ecdsa-rdfc-2019",'
    '"created":"2026-01-01T00:00:00Z","verificationMethod":"did:key:zDna',
    # the certification credential certvc issues (Open Badges 3.0 under VC 2.0), nearest
    '{"@context":["https://www.w3.org/ns/credentials/v2",'
    '"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],"id":"https://",'
    '"type":["VerifiableCredential","OpenBadgeCredential"],"name":"","description":"",'
    '"issuer":{"id":"did:web:","type":["Profile"],"name":"","url":"https://","email":"",'
    '"description":"ISO/IEC 17024 accredited, no. "},"validFrom":"2026-01-01T00:00:00Z",'
    '"validUntil":"2030-01-01T00:00:00Z","credentialSubject":{"id":"did:",'
    '"type":["AchievementSubject"],"identifier":[{"type":"IdentityObject",'
    '"identityType":"name","hashed":false,"identityHash":""}],"licenseNumber":"",'
    '"achievement":{"id":"https://","type":["Achievement"],"achievementType":"Certification",'
    '"humanCode":"","name":"","description":"Scope: ","criteria":{"narrative":""}}},'
    '"credentialStatus":[{"id":"https:///status/1#","type":"BitstringStatusListEntry",'
    '"statusPurpose":"revocation","statusListIndex":"","statusListCredential":"https:///status/"},'
    '{"id":"https:///status/1-suspension#","type":"BitstringStatusListEntry",'
    '"statusPurpose":"suspension","statusListIndex":"",'
    '"statusListCredential":"https:///status/1-suspension"}],'
    '"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022",'
    '"created":"2026-01-01T00:00:00Z","verificationMethod":"did:web:#key-1",'
    '"proofPurpose":"assertionMethod","proofValue":"z',
)

#: Format version 1 (frozen: pinned by SHA-256 in tests/verifier/test_qr.py).
V1: bytes = "".join(_V1_FRAGMENTS).encode("utf-8")

#: Dictionary by format version digit.
DICTIONARIES: dict[str, bytes] = {"1": V1}
