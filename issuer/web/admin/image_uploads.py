"""Uploaded images in the admin UI: each scheme's badge image and the body's logo.

Admins only (:data:`~issuer.web.auth.CAN_CONFIGURE`): they set up the body. One page lists the
body's logo and every scheme with its badge; each upload is a CSRF-checked multipart POST with a
reason, checked, stored and audited in one transaction (:mod:`issuer.services.images.store`). A
refused upload re-renders the page with the error code next to the forms (4xx).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from contexts.errors import CertvcError, ErrorCode
from verifier.web.http_errors import http_status

from ...errors import FieldError
from ...services import catalog
from ...services.images import store
from ...services.images.check import MAX_PNG_BYTES, MAX_SVG_BYTES
from ..auth import CAN_CONFIGURE, login_required, user_actor
from ..extensions import database, now

bp = Blueprint("images_admin", __name__, url_prefix="/admin", template_folder="../../templates")

MAX_UPLOAD = max(MAX_PNG_BYTES, MAX_SVG_BYTES)


def _upload() -> bytes:
    """The uploaded file's bytes, read no further than the largest image allowed.

    :raises FieldError: no file. :raises CertvcError: ``input_too_large``.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise FieldError("file", "choose an image file to upload")
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise CertvcError(
            f"the file is larger than {MAX_UPLOAD:,} bytes", code=ErrorCode.INPUT_TOO_LARGE
        )
    return data


def _page(error: CertvcError | None = None, target: str | None = None) -> Any:
    session = database.session()
    page = render_template(
        "admin/images.html",
        body=catalog.get_body(session),
        schemes=catalog.list_schemes(session),
        error=error,
        target=target,
    )
    return page, 200 if error is None else http_status(error.code)


@bp.get("/images")
@login_required(CAN_CONFIGURE)
def page() -> Any:
    return _page()


@bp.post("/images/logo")
@login_required(CAN_CONFIGURE)
def upload_logo() -> Any:
    moment, actor, reason = now(), user_actor(), request.form.get("reason", "")
    try:
        data = _upload()
        stored = database.write(
            lambda s: store.set_body_logo(s, data, reason=reason, actor=actor, now=moment).sha256
        )
    except CertvcError as error:
        return _page(error, "logo")
    flash(f"Logo stored (SHA-256 {stored}).", "success")
    return redirect(url_for("images_admin.page"))


@bp.post("/images/schemes/<code>")
@login_required(CAN_CONFIGURE)
def upload_scheme_image(code: str) -> Any:
    moment, actor, reason = now(), user_actor(), request.form.get("reason", "")
    catalog.get_scheme(database.session(), code)  # an unknown scheme is a 404, not a form error
    try:
        data = _upload()
        stored = database.write(
            lambda s: (
                store.set_scheme_image(s, code, data, reason=reason, actor=actor, now=moment).sha256
            )
        )
    except CertvcError as error:
        return _page(error, code)
    flash(f"Badge image of {code} stored (SHA-256 {stored}).", "success")
    return redirect(url_for("images_admin.page"))
