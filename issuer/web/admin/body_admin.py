"""The body's profile and its schemes in the admin UI (admins only: they set up the body).

Server-rendered forms, CSRF-checked, each change with a reason and audited in one transaction
(:mod:`issuer.services.body_identity`, :mod:`issuer.services.scheme_admin`). A refused change
re-renders its form with the values typed and the field's error (4xx), and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from contexts.errors import CertvcError
from verifier.web.http_errors import http_status

from ...db.models import AchievementType, SecuringSuite
from ...services import body_identity, catalog, scheme_admin
from ..auth import CAN_CONFIGURE, login_required, user_actor
from ..extensions import database, now

bp = Blueprint("body_admin", __name__, url_prefix="/admin", template_folder="../../templates")

#: What the form calls the fields a save changed (the flash message names them).
_LABELS = {
    "legal_name": "legal name",
    "url": "website",
    "email": "e-mail",
    "accreditation": "accreditation statement",
    "accreditation_body": "accreditation body",
    "accreditation_number": "accreditation number",
    "accreditation_standard": "standard",
    "accredited_from": "accredited from",
    "accredited_until": "accredited until",
    "accreditation_url": "accreditation certificate link",
}
_BODY_TEXT = ("name", "legalName", "url", "email", "description", "country", "accreditation")
_ADDRESS = ("street", "postalCode", "locality", "region")
_ACCREDITED = ("body", "number", "standard", "validFrom", "validUntil", "url")
_SCHEME_FIELDS = (
    "name",
    "description",
    "criteria",
    "standard",
    "standardUrl",
    "validityDays",
    "achievementType",
    "suite",
    "surveillanceMonths",
    "reminderDays",
    "recertification",
)


def _body_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The PATCH document of the body form (every field: the form shows them all)."""
    data: dict[str, Any] = {name: form.get(name, "").strip() for name in _BODY_TEXT}
    data["address"] = {part: form.get(f"address.{part}", "").strip() for part in _ADDRESS}
    data["accreditedBy"] = {
        part: form.get(f"accreditedBy.{part}", "").strip() or None for part in _ACCREDITED
    }
    return data


def _body_page(error: CertvcError | None = None, typed: Mapping[str, Any] | None = None) -> Any:
    body = body_identity.body_json(catalog.get_body(database.session()))
    values = typed or {**body, "accreditation": catalog.get_body(database.session()).accreditation}
    page = render_template("admin/body.html", body=body, values=values, error=error)
    return page, 200 if error is None else http_status(error.code)


@bp.get("/body")
@login_required(CAN_CONFIGURE)
def body_page() -> Any:
    return _body_page()


@bp.post("/body")
@login_required(CAN_CONFIGURE)
def update_body() -> Any:
    data = _body_form(request.form)
    reason, actor, moment = request.form.get("reason", ""), user_actor(), now()
    try:
        changed = database.write(
            lambda session: body_identity.update_body(
                session, data, reason=reason, actor=actor, now=moment
            )[1]
        )
    except CertvcError as error:
        return _body_page(error, data)
    labels = sorted(_LABELS.get(column, column.replace("_", " ")) for column in changed)
    flash(f"Saved: {', '.join(labels)}." if changed else "Nothing changed.", "success")
    return redirect(url_for("body_admin.body_page"))


def _whole_number(value: str) -> int | str | None:
    """A number field as the service checks it: an int when it is one (ASCII digits, and few
    enough for int(): longer ones are out of any range anyway), else the text, None if empty."""
    digits = value.removeprefix("-")
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(value)
    return value or None


def _scheme_form(form: Mapping[str, str], *, creating: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _SCHEME_FIELDS:
        value = form.get(name, "").strip()
        if name in ("validityDays", "surveillanceMonths"):
            data[name] = _whole_number(value)
        else:
            data[name] = value or (None if name == "standardUrl" else "")
    if creating:
        data["code"] = form.get("code", "").strip()
    return data


def _schemes_page(
    error: CertvcError | None = None,
    target: str | None = None,
    typed: Mapping[str, Any] | None = None,
) -> Any:
    schemes = [catalog.scheme_json(s) for s in catalog.list_schemes(database.session())]
    page = render_template(
        "admin/schemes.html",
        schemes=schemes,
        error=error,
        target=target,
        typed=typed or {},
        achievement_types=[t.value for t in AchievementType],
        suites=sorted(s.value for s in SecuringSuite),
    )
    return page, 200 if error is None else http_status(error.code)


@bp.get("/schemes")
@login_required(CAN_CONFIGURE)
def schemes_page() -> Any:
    return _schemes_page()


@bp.post("/schemes")
@login_required(CAN_CONFIGURE)
def create_scheme() -> Any:
    data = _scheme_form(request.form, creating=True)
    data["reason"] = request.form.get("reason", "")
    actor, moment = user_actor(), now()
    if data.get("surveillanceMonths") is None:
        data.pop("surveillanceMonths")
    try:
        code = database.write(
            lambda session: catalog.create_scheme(session, data, actor=actor, now=moment).code
        )
    except CertvcError as error:
        return _schemes_page(error, "new", data)
    flash(f"Scheme {code} defined.", "success")
    return redirect(url_for("body_admin.schemes_page") + f"#scheme-{code}")


@bp.post("/schemes/<code>")
@login_required(CAN_CONFIGURE)
def update_scheme(code: str) -> Any:
    data = _scheme_form(request.form, creating=False)
    reason, actor, moment = request.form.get("reason", ""), user_actor(), now()
    try:
        changed = database.write(
            lambda session: scheme_admin.update_scheme(
                session, code, data, reason=reason, actor=actor, now=moment
            )[1]
        )
    except CertvcError as error:
        return _schemes_page(error, code, data)
    flash(
        f"{code}: saved {', '.join(sorted(changed))}." if changed else f"{code}: nothing changed.",
        "success",
    )
    return redirect(url_for("body_admin.schemes_page") + f"#scheme-{code}")


@bp.post("/schemes/<code>/retire")
@login_required(CAN_CONFIGURE)
def retire_scheme(code: str) -> Any:
    reason, actor, moment = request.form.get("reason", ""), user_actor(), now()
    try:
        database.write(
            lambda session: scheme_admin.retire_scheme(
                session, code, reason=reason, actor=actor, now=moment
            )
        )
    except CertvcError as error:
        return _schemes_page(error, code)
    flash(f"{code} retired: it certifies nobody new.", "success")
    return redirect(url_for("body_admin.schemes_page") + f"#scheme-{code}")
