"""``certvc body show|set``: the certification body's identity and accreditation, which new
credentials carry (``issuer.services.body_identity``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..services import body_identity, catalog
from .common import now
from .opened import (
    OpenedInstance,
    cli_actor,
    echo_result,
    instance_option,
    json_option,
    reason_option,
    reports_instance_errors,
)


@click.group("body")
def body() -> None:
    """The certification body: its identity and accreditation."""


def _text(data: dict[str, Any]) -> str:
    accredited = data["accreditedBy"]
    address = ", ".join(data["address"].values())
    rows = [
        ("name", data["name"]),
        ("legal name", data["legalName"]),
        ("website", data["url"]),
        ("e-mail", data["email"]),
        ("address", " ".join(p for p in (address, data["country"] or "") if p)),
        ("description", data["description"]),
        ("accreditation", data["accreditation"]),
        ("accredited by", accredited["body"]),
        ("accreditation no.", accredited["number"]),
        ("standard", accredited["standard"]),
        ("valid", f"{accredited['validFrom'] or '-'} .. {accredited['validUntil'] or '-'}"),
        ("certificate", accredited["url"]),
        ("DID", data["did"]),
    ]
    return "\n".join(f"{label:18} {value}" for label, value in rows if value)


@body.command("show")
@instance_option
@json_option
@reports_instance_errors
def show(instance_dir: Path, as_json: bool) -> None:
    """Show the body as new credentials name it."""
    with OpenedInstance.open(instance_dir) as opened, opened.writer() as session:
        data = body_identity.body_json(catalog.get_body(session))
    echo_result(as_json, data, _text(data))


#: option -> (field, part of an object or None); an empty value clears an optional field.
_OPTIONS = (
    ("name", "name", None, "The body's name (on every new credential)."),
    ("legal_name", "legalName", None, "Registered legal name."),
    ("url", "url", None, "Website (https://...)."),
    ("email", "email", None, "Contact e-mail address."),
    ("description", "description", None, "One or two sentences about the body."),
    ("street", "address", "street", "Address: street and number."),
    ("postal_code", "address", "postalCode", "Address: postal code."),
    ("locality", "address", "locality", "Address: town or city."),
    ("region", "address", "region", "Address: region or state."),
    ("country", "country", None, "Country, ISO 3166-1 alpha-2 (DE, FR, ...)."),
    ("accreditation", "accreditation", None, "Free accreditation statement (one line)."),
    ("accredited_by", "accreditedBy", "body", "The accreditation body (e.g. DAkkS)."),
    ("accreditation_number", "accreditedBy", "number", "The accreditation number."),
    ("accreditation_standard", "accreditedBy", "standard", "Default ISO/IEC 17024:2012."),
    ("accredited_from", "accreditedBy", "validFrom", "Accreditation valid from (YYYY-MM-DD)."),
    ("accredited_until", "accreditedBy", "validUntil", "Accreditation valid until (YYYY-MM-DD)."),
    ("accreditation_url", "accreditedBy", "url", "Link to the accreditation certificate."),
)


def _with_options(command: Any) -> Any:
    for option, _field, _part, help_text in reversed(_OPTIONS):
        command = click.option(f"--{option.replace('_', '-')}", option, help=help_text)(command)
    return command


@body.command("set")
@instance_option
@_with_options
@reason_option
@json_option
@reports_instance_errors
def set_(instance_dir: Path, reason: str, as_json: bool, **values: str | None) -> None:
    """Change the body's identity or accreditation (audited with the reason). New credentials
    carry it; credentials already issued keep what they say. An empty value clears a field."""
    data: dict[str, Any] = {}
    address: dict[str, str] = {}
    accredited: dict[str, str | None] = {}
    for option, field, part, _help in _OPTIONS:
        value = values.get(option)
        if value is None:
            continue
        if field == "address" and part is not None:
            address[part] = value
        elif field == "accreditedBy" and part is not None:
            accredited[part] = value or None
        else:
            data[field] = value
    with OpenedInstance.open(instance_dir) as opened:
        if address:
            with opened.writer() as session:
                current = body_identity.address_json(catalog.get_body(session))
            data["address"] = {k: v for k, v in {**current, **address}.items() if v}
        if accredited:
            data["accreditedBy"] = accredited
        moment = now()

        def work(session: Any) -> dict[str, Any]:
            changed_body, changed = body_identity.update_body(
                session, data, reason=reason, actor=cli_actor(), now=moment
            )
            return {"body": body_identity.body_json(changed_body), "changed": sorted(changed)}

        result = opened.write(work)
    text = "changed: " + (", ".join(result["changed"]) or "nothing (the same values)")
    echo_result(as_json, result, f"{_text(result['body'])}\n{text}")
