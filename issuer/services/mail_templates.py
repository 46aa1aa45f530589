"""The messages certvc sends, rendered from ``issuer/templates/mail/`` (plain text and HTML).

One template per kind of message, with the body's name, address and logo: the body's own
identity is the "per-body template" (its name and logo come from its record, so every body
running certvc sends mail that looks like its own). HTML is autoescaped; the plain text is
not HTML and is not escaped. The claim link is left as :data:`CLAIM_LINK`, filled in when the
message is sent (the link's token is minted then: only its hash is ever stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

#: Where the claim link goes until the message is sent: control characters no name, subject or
#: scope may hold (``fields.text`` refuses them), so nothing else can look like it.
CLAIM_LINK = "\x1eclaim-link\x1e"

_FOLDER = Path(__file__).resolve().parent.parent / "templates" / "mail"
_ENV = Environment(
    loader=FileSystemLoader(_FOLDER),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


class ClaimEvent(Enum):
    """Why a claim link is sent."""

    ISSUED = "issued"
    RENEWED = "renewed"
    SCOPE_REDUCED = "scope-reduced"
    REISSUED = "reissued"  # the same certification signed anew (a key compromise)


_SUBJECTS = {
    ClaimEvent.ISSUED: "Your certificate {number}: {name}",
    ClaimEvent.RENEWED: "Your certificate {number} was renewed: {name}",
    ClaimEvent.SCOPE_REDUCED: "Your certificate {number} was updated: {name}",
    ClaimEvent.REISSUED: "Your certificate {number} was issued anew: {name}",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class ClaimLetter:
    """What a claim message says."""

    event: ClaimEvent
    person_name: str
    certification_name: str
    number: str
    expires: str
    body_name: str
    body_url: str
    logo_url: str | None
    ttl_days: int


def render_claim(letter: ClaimLetter) -> Rendered:
    """The subject, plain text and HTML of a claim message (the link left as
    :data:`CLAIM_LINK`)."""
    subject = _SUBJECTS[letter.event].format(number=letter.number, name=letter.certification_name)[
        :300
    ]
    values = {
        "subject": subject,
        "event": letter.event.value,
        "person_name": letter.person_name,
        "certification_name": letter.certification_name,
        "number": letter.number,
        "expires": letter.expires,
        "body_name": letter.body_name,
        "body_url": letter.body_url,
        "logo_url": letter.logo_url,
        "ttl_days": letter.ttl_days,
        "claim_link": CLAIM_LINK,
    }
    text = _ENV.get_template("claim.txt").render(values)
    html = _ENV.get_template("claim.html").render(values)
    return Rendered(subject, text, html)


def fill(text: str, link: str) -> str:
    """``text`` with its claim link in place."""
    return text.replace(CLAIM_LINK, link)


def render(name: str, values: Mapping[str, object]) -> tuple[str, str]:
    """The plain text and HTML of the template pair ``name`` (``<name>.txt``, ``<name>.html``):
    the other messages' way to the same look (the certification cycle's reminders)."""
    return (
        _ENV.get_template(f"{name}.txt").render(values),
        _ENV.get_template(f"{name}.html").render(values),
    )
