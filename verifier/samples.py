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

from .model import credentials
from .model.status_list import StatusPurpose

VC_V2 = CREDENTIALS_V2
OB_V3 = OPEN_BADGES_V3


#: The sample body and scheme (the demo instance's): the sample is built by the issuer's own
#: builder, so the demo, the benchmarks and the tests measure what certvc issues.
SAMPLE_BODY_NAME = "Example Personnel Certification Body"
SAMPLE_ACCREDITATION = "ISO/IEC 17024 accredited, no. PCB-0042"


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
    return credentials.certification_credential(
        credential_id=f"{base_url}/credentials/{certificate_number}",
        body=credentials.BodyProfile(
            did=issuer_did, name=SAMPLE_BODY_NAME, url=base_url, accreditation=SAMPLE_ACCREDITATION
        ),
        scheme=credentials.SchemeInfo(
            code="CWI-2",
            url=f"{base_url}/schemes/CWI-2",
            name="Certified Welding Inspector — Level 2",
            description="",
            criteria="Passed the CWI-2 examinations; 3 years' experience",
            standard_name="ISO 9712:2021",
            standard_url="https://www.iso.org/standard/74831.html",
            achievement_type="Certification",
        ),
        person_name=person_name,
        number=certificate_number,
        scope="visual testing of welds, steel groups 1, 2 and 8",
        valid_from=valid_from,
        valid_until=valid_from + validity,
        status=(
            credentials.StatusRef(StatusPurpose.REVOCATION, status_list, status_index[0]),
            credentials.StatusRef(
                StatusPurpose.SUSPENSION, f"{status_list}-suspension", status_index[1]
            ),
        ),
    )
