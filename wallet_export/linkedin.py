"""LinkedIn's "Add to profile" link for a certification.

LinkedIn documents a plain link for this (Add to Profile for certifications):
``https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME`` with ``name``,
``organizationId`` (the body's LinkedIn page id, preferred: the entry then shows the body's
logo) or ``organizationName``, ``issueYear``/``issueMonth``, ``expirationYear``/
``expirationMonth``, ``certUrl`` (where anyone can verify) and ``certId``. The person opens it
while signed in and confirms; nothing is sent to LinkedIn by certvc.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from contexts.errors import CertvcError

from .view import CertificateView

ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


def add_to_profile_url(
    view: CertificateView, *, verification_url: str, organization_id: str | int | None = None
) -> str:
    """The "Add to profile" link of a certificate.

    ``verification_url`` is the public page or verifier link for this credential (https).
    With ``organization_id`` the body's LinkedIn page is linked instead of its name.
    """
    parts = urlsplit(verification_url)
    if parts.scheme != "https" or not parts.netloc:
        raise CertvcError("the verification URL must be an https URL")
    params: list[tuple[str, str]] = [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", view.certification_name),
    ]
    if organization_id is not None:
        if not str(organization_id).isdigit():
            raise CertvcError("a LinkedIn organization id is a number")
        params.append(("organizationId", str(organization_id)))
    else:
        params.append(("organizationName", view.body_name))
    if view.valid_from is not None:
        params += [("issueYear", str(view.valid_from.year))]
        params += [("issueMonth", str(view.valid_from.month))]
    if view.valid_until is not None:
        params += [("expirationYear", str(view.valid_until.year))]
        params += [("expirationMonth", str(view.valid_until.month))]
    params += [("certUrl", verification_url), ("certId", view.certificate_number)]
    return f"{ADD_TO_PROFILE}?{urlencode(params)}"
