"""A realistic ISO/IEC 17024 certification credential, for the demo, the benchmarks and tests.

Open Badges 3.0 under VC 2.0: the person's name (an ``identifier`` of type ``name``), the
certificate number (``licenseNumber``), the body (issuer ``Profile``), the scheme and the standard
it follows (``achievement`` with an ``alignment``), the scope, effective date and expiry, and the
two status entries every certvc credential carries. About 1.6 KB of JSON.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contexts.urls import CREDENTIALS_V2, OPEN_BADGES_V3
from keys.dates import format_datetime_stamp

VC_V2 = CREDENTIALS_V2
OB_V3 = OPEN_BADGES_V3


def certification_credential(
    issuer_did: str,
    *,
    valid_from: datetime,
    person_name: str = "Zoë Ångström-Ōtsuka",
    certificate_number: str = "CB-2026-004217",
    base_url: str = "https://certs.example-body.org",
    status_index: tuple[int, int] = (94567, 31337),
    validity: timedelta = timedelta(days=3 * 365),
) -> dict[str, Any]:
    """Build an unsigned certification credential (no proof)."""
    status_list = f"{base_url}/status/1"
    return {
        "@context": [VC_V2, OB_V3],
        "id": f"{base_url}/credentials/{certificate_number}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certified Welding Inspector — Level 2",
        "issuer": {
            "id": issuer_did,
            "type": ["Profile"],
            "name": "Example Personnel Certification Body",
            "url": base_url,
            "description": "ISO/IEC 17024 accredited, no. PCB-0042",
        },
        "validFrom": format_datetime_stamp(valid_from),
        "validUntil": format_datetime_stamp(valid_from + validity),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": person_name,
                }
            ],
            "licenseNumber": certificate_number,
            "achievement": {
                "id": f"{base_url}/schemes/CWI-2",
                "type": ["Achievement"],
                "achievementType": "Certification",
                "humanCode": "CWI-2",
                "name": "Certified Welding Inspector — Level 2",
                "description": "Scope: visual testing of welds, steel groups 1, 2 and 8",
                "criteria": {"narrative": "Passed the CWI-2 examinations; 3 years' experience"},
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": "ISO 9712:2021",
                        "targetUrl": "https://www.iso.org/standard/74831.html",
                        "targetType": "ext:Standard",
                    }
                ],
            },
        },
        "credentialStatus": [
            {
                "id": f"{status_list}#{status_index[0]}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": str(status_index[0]),
                "statusListCredential": status_list,
            },
            {
                "id": f"{status_list}-suspension#{status_index[1]}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "suspension",
                "statusListIndex": str(status_index[1]),
                "statusListCredential": f"{status_list}-suspension",
            },
        ],
    }
