"""The OpenAPI 3.1 document of the issuer's HTTP interfaces (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from keys.suites import REGISTRY

_ERROR = {"$ref": "#/components/responses/Error"}


def _op(
    summary: str,
    scope: str | None,
    *,
    body: str | None = None,
    ok: int = 200,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {"description": "success", "content": {"application/json": {}}},
            "400": _ERROR,
            "401": _ERROR,
            "403": _ERROR,
            "404": _ERROR,
            "409": _ERROR,
            "413": _ERROR,
            "415": _ERROR,
            "422": _ERROR,
        },
    }
    if scope is None:
        operation["security"] = []
    else:
        operation["security"] = [{"token": []}]
        operation["x-certvc-scope"] = scope
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    if params:
        operation["parameters"] = params
    return operation


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


_PAGING = [_query("limit", "integer"), _query("offset", "integer")]
_REASON = {"type": "string", "minLength": 1, "maxLength": 2000}
_REMINDER_DAYS = {
    "type": "array",
    "items": {"type": "integer", "minimum": 1, "maximum": 3660},
    "maxItems": 10,
    "description": "days before expiry at which the person is e-mailed (default [90, 30, 7]; "
    "[] for none)",
}
_DATE = {
    "type": "string",
    "description": "YYYY-MM-DD (midnight UTC) or an XML Schema dateTimeStamp",
}


def _register_export() -> dict[str, Any]:
    operation = _op(
        "Export the register (personal data: audited as register.export with the filters and "
        "the row count; Cache-Control: no-store). CSV: UTF-8 with a byte-order mark, every cell "
        "quoted, a cell starting with =, +, -, @, tab or carriage return prefixed with ' "
        "(OWASP CSV injection). JSON: {generatedAt, filters, certifications, total}",
        "admin",
        params=[
            {**_query("format"), "schema": {"enum": ["json", "csv"], "default": "json"}},
            _query("scheme"),
            {
                **_query("state"),
                "schema": {"enum": ["active", "suspended", "withdrawn", "expired"]},
            },
            {
                **_query("expiringWithin", "integer"),
                "description": "live certifications whose expiry is at most this many days away",
                "schema": {"type": "integer", "minimum": 0, "maximum": 3660},
            },
            {**_query("reason"), "description": "recorded in the audit event"},
        ],
    )
    operation["responses"]["200"]["content"] = {"application/json": {}, "text/csv": {}}
    return operation


def _surveillance_post(number: list[dict[str, Any]]) -> dict[str, Any]:
    operation = _op(
        "Record a surveillance activity (audited as surveillance.record). JSON without files, "
        "or multipart/form-data with files named attachments (PDF, PNG, JPEG or UTF-8 text, "
        "typed from their content; each at most SURVEILLANCE_MAX_ATTACHMENT_BYTES: larger is "
        "input_too_large, another type unsupported_media_type, and nothing is recorded). "
        "Answer 201: {record, followUps: the moves the outcome may call for (none is taken)} "
        "and the GET's fields",
        "issue",
        ok=201,
        params=number,
    )
    fields = {
        "date": {"type": "string", "format": "date"},
        "kind": {"enum": ["document-review", "assessment", "cpd-evidence", "interview", "other"]},
        "outcome": {"enum": ["satisfactory", "findings", "not-satisfactory"]},
        "notes": {"type": "string", "maxLength": 10000},
        "reason": _REASON,
    }
    schema = {"type": "object", "required": ["date", "kind", "outcome"], "properties": fields}
    files = {"type": "array", "items": {"type": "string", "contentEncoding": "binary"}}
    operation["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": schema},
            "multipart/form-data": {
                "schema": {**schema, "properties": {**fields, "attachments": files}}
            },
        },
    }
    return operation


def openapi_document(public_url: str) -> dict[str, Any]:
    number = [_path_param("number")]
    lifecycle_ops = {
        "suspend": ("Suspend (suspension bit set)", "status"),
        "reinstate": ("Reinstate (suspension bit cleared)", "status"),
        "withdraw": ("Withdraw (revocation bit set; final)", "status"),
        "renew": ("Renew: new credential with new dates; the old one is superseded", "issue"),
        "reduce-scope": ("Reduce scope: withdraw and reissue with the given scope", "issue"),
    }
    paths: dict[str, Any] = {
        "/credentials/issue": {
            "post": _op(
                "W3C VC API: issue a credential ({verifiableCredential}: a secured JSON-LD "
                "credential, or with vc+jwt an EnvelopedVerifiableCredential whose id is "
                "data:application/vc+jwt,<JWS>); errors carry Problem Details fields",
                "issue",
                body="IssueRequest",
                ok=201,
            )
        },
        "/credentials/status": {
            "post": _op("W3C VC API: set or clear a status", "status", body="StatusRequest")
        },
        "/status/{id}": {
            "get": _op(
                "A signed BitstringStatusListCredential (ETag, Cache-Control)",
                None,
                params=[_path_param("id")],
            )
        },
        "/.well-known/did.json": {"get": _op("The body's did:web document", None)},
        "/audit/checkpoints": {
            "get": _op(
                "The audit log's signed checkpoints, oldest first: {did, didDocument, "
                "checkpoints: [{seq, hash, at, keyId, signature}], next} (at most limit, 1 to "
                "1000, after event after)",
                None,
                params=[_query("after", "integer"), _query("limit", "integer")],
            )
        },
        "/api/v1/openapi.json": {"get": _op("This document", None)},
        "/api/v1/body": {
            "get": _op("The certification body: identity and accreditation", "any"),
            "patch": _op(
                "Change the body's identity or accreditation (new credentials carry it)",
                "admin",
                body="BodyChange",
            ),
        },
        "/api/v1/schemes": {
            "get": _op("List schemes", "any"),
            "post": _op("Define a scheme", "admin", body="Scheme", ok=201),
        },
        "/api/v1/schemes/{code}": {
            "get": _op("One scheme", "any", params=[_path_param("code")]),
            "patch": _op(
                "Change a scheme (new credentials only; the code never changes)",
                "admin",
                body="SchemeChange",
                params=[_path_param("code")],
            ),
        },
        "/api/v1/schemes/{code}/retire": {
            "post": _op(
                "Retire a scheme: it certifies nobody new, its certifications run their course",
                "admin",
                body="Reason",
                params=[_path_param("code")],
            )
        },
        "/api/v1/persons": {
            "get": _op("List persons", "issue", params=[_query("q"), *_PAGING]),
            "post": _op("Register a person", "issue", body="Person", ok=201),
        },
        "/api/v1/persons/{id}": {
            "get": _op("One person", "issue", params=[_path_param("id")]),
            "patch": _op(
                "Change a person's e-mail address (null removes it; audited)",
                "issue",
                body="PersonEmail",
                params=[_path_param("id")],
            ),
        },
        "/api/v1/certifications": {
            "get": _op(
                "Search certifications",
                "any",
                params=[
                    _query("person"),
                    _query("number"),
                    _query("scheme"),
                    _query("state"),
                    *_PAGING,
                ],
            ),
            "post": _op("Certify: record and first credential", "issue", body="Certify", ok=201),
        },
        "/api/v1/certifications/{number}": {
            "get": _op("One certification (number or credential id)", "any", params=number)
        },
        "/api/v1/certifications/{number}/credential": {
            "get": _op("The current signed credential", "issue", params=number)
        },
        "/api/v1/certifications/{number}/export": {
            "get": _op(
                "Export the current credential: pdf, badge-png, badge-svg, qr-png, qr-svg, json "
                "(application/vc) or jwt (application/vc+jwt), as a file",
                "issue",
                params=[*number, _query("format"), _query("paper"), _query("mode")],
            )
        },
        "/api/v1/certifications/{number}/offer": {
            "post": _op(
                "An OpenID4VCI credential offer (link, offer, txCode shown once)",
                "issue",
                body="OfferRequest",
                ok=201,
                params=number,
            )
        },
        "/api/v1/certifications/{number}/public-page": {
            "post": _op(
                "Turn the public credential page on or off (audited)",
                "issue",
                body="PublicPageRequest",
                params=number,
            )
        },
        "/credentials/{credential_uuid}": {
            "get": _op(
                "A credential's id URL while its public page is on: the page (text/html) or "
                "the signed credential (application/vc, application/vc+jwt)",
                None,
                params=[_path_param("credential_uuid")],
            )
        },
        "/credentials/{credential_uuid}/badge.png": {
            "get": _op(
                "The baked badge of a public credential",
                None,
                params=[_path_param("credential_uuid")],
            )
        },
        # OpenID4VCI 1.0 (https instances only; wallet_export.oid4vci, docs/wallet-export.md)
        "/.well-known/openid-credential-issuer": {"get": _op("Credential Issuer metadata", None)},
        "/.well-known/oauth-authorization-server": {
            "get": _op("Authorization server metadata (pre-authorized code grant)", None)
        },
        "/oid4vci/offers/{id}": {
            "get": _op("A credential offer by reference", None, params=[_path_param("id")])
        },
        "/oid4vci/token": {"post": _op("Token endpoint (form-encoded)", None)},
        "/oid4vci/nonce": {"post": _op("Nonce endpoint", None)},
        "/oid4vci/credential": {"post": _op("Credential endpoint (Bearer access token)", None)},
        "/api/v1/register": {"get": _register_export()},
        "/api/v1/bulk": {
            "post": _op(
                "Suspend, reinstate or withdraw every certification a selection finds (at most "
                "10,000; more is field_invalid: narrow it). dryRun: what would change and what "
                "would be refused, and why, changing nothing. The real run applies it in chunks "
                "of 200, one transaction each, one audit event per certification; expect (a "
                "dry run's fingerprint) makes it refuse to start (conflict) if the result "
                "would differ. Answer: {action, dryRun, selected, changed: [numbers], refused: "
                "[{number, code, message}], fingerprint}",
                "status",
                body="BulkRequest",
            )
        },
        "/api/v1/certifications/{number}/surveillance": {
            "get": _op(
                "The certification's surveillance: {certification, intervalMonths, status: "
                "{state: not-required|scheduled|due|overdue|recertification|closed, due, basis}, "
                "records: [{id, date, kind, outcome, notes, recordedBy, recordedAt, "
                "attachments: [{id, filename, mediaType, size, sha256}]}]}",
                "issue",
                params=number,
            ),
            "post": _surveillance_post(number),
        },
        "/api/v1/certifications/{number}/surveillance/attachments/{attachment_id}": {
            "get": _op(
                "A surveillance attachment, as a download (the type checked on upload)",
                "issue",
                params=[*number, _path_param("attachment_id")],
            )
        },
        "/api/v1/cycle": {
            "get": _op(
                "The certification cycle now, read only (certvc cycle run --dry-run --json; "
                "docs/cycle.md): {at, dryRun, reminders, surveillanceDue, surveillanceOverdue, "
                "emails, needsDecision, counts}",
                "issue",
            )
        },
        "/api/v1/audit": {
            "get": _op("The audit log, newest first", "admin", params=[_query("subject"), *_PAGING])
        },
        "/api/v1/audit/verify": {"get": _op("Check the audit hash chain", "admin")},
        # The verifier mounted on the issuer (verifier.app.init_verifier; docs/verifier.md).
        "/credentials/verify": {
            "post": _op(
                "W3C VC API: verify a credential. verified reflects options.checks (default "
                "proof, status, validity; add trust to require a vouched-for issuer); the answer "
                "always carries the verdict, the trust result and the status freshness "
                "(200 verified, 400 not)",
                None,
            )
        },
        "/presentations/verify": {
            "post": _op("W3C VC API: verify a presentation (challenge, domain)", None)
        },
        "/api/v1/verify": {
            "post": _op(
                "Verify any input (JSON, vc+jwt, QR text, QR image, PDF certificate or baked "
                "badge upload): verdict, checks, status freshness, the certificate as stated",
                None,
            )
        },
    }
    for name, (summary, scope) in lifecycle_ops.items():
        paths[f"/api/v1/certifications/{{number}}/{name}"] = {
            "post": _op(summary, scope, body="LifecycleAction", params=number)
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "certvc issuer",
            "version": "1",
            "description": "Issuer of an ISO/IEC 17024 personnel-certification body. Errors are "
            '{"error": {"code", "message"}} with a stable code. Scopes: issue, status, admin '
            "(admin includes the others); 'any' means any valid token.",
        },
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "an error with a stable machine code",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "IssueRequest": {
                    "type": "object",
                    "required": ["credential"],
                    "properties": {
                        "credential": {
                            "type": "object",
                            "description": "unsigned VC 2.0 credential; issuer omitted or the "
                            "body's DID; no credentialStatus (assigned here)",
                        },
                        "options": {
                            "type": "object",
                            "properties": {
                                "credentialId": {"type": "string"},
                                "credentialStatus": {"type": "object"},
                            },
                            "additionalProperties": False,
                        },
                        "reason": _REASON,
                    },
                },
                "StatusRequest": {
                    "type": "object",
                    "required": ["credentialId", "credentialStatus"],
                    "properties": {
                        "credentialId": {"type": "string"},
                        "credentialStatus": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 2,
                            "items": {
                                "type": "object",
                                "required": ["type", "status"],
                                "properties": {
                                    "type": {"const": "BitstringStatusListEntry"},
                                    "statusPurpose": {"enum": ["revocation", "suspension"]},
                                    "status": {
                                        "oneOf": [
                                            {"type": "boolean"},
                                            {"enum": ["revoked", "suspended", "unsuspended"]},
                                        ]
                                    },
                                },
                            },
                        },
                        "reason": _REASON,
                    },
                },
                "Scheme": {
                    "type": "object",
                    "required": ["code", "name", "criteria", "standard", "validityDays"],
                    "properties": {
                        "code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "criteria": {"type": "string"},
                        "standard": {"type": "string"},
                        "standardUrl": {"type": "string", "format": "uri"},
                        "validityDays": {"type": "integer", "minimum": 1},
                        "achievementType": {
                            "enum": ["Certification", "Certificate", "License", "Competency"]
                        },
                        "suite": {"enum": sorted(REGISTRY)},
                        "surveillanceMonths": {"type": "integer", "minimum": 1},
                        "reminderDays": _REMINDER_DAYS,
                        "recertification": {"type": "string"},
                        "reason": _REASON,
                    },
                },
                "BodyChange": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "legalName": {"type": "string", "maxLength": 200},
                        "url": {"type": "string", "format": "uri"},
                        "email": {"type": ["string", "null"], "format": "email"},
                        "description": {"type": "string", "maxLength": 2000},
                        "address": {
                            "type": "object",
                            "properties": {
                                part: {"type": "string", "maxLength": 200}
                                for part in ("street", "postalCode", "locality", "region")
                            },
                        },
                        "country": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"},
                        "accreditation": {
                            "type": "string",
                            "description": "free one-line statement (when accreditedBy is empty)",
                        },
                        "accreditedBy": {
                            "type": ["object", "null"],
                            "properties": {
                                "body": {"type": "string"},
                                "number": {"type": "string"},
                                "standard": {"type": "string", "default": "ISO/IEC 17024:2012"},
                                "validFrom": _DATE,
                                "validUntil": _DATE,
                                "url": {"type": ["string", "null"], "format": "uri"},
                            },
                        },
                        "reason": _REASON,
                    },
                },
                "SchemeChange": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "criteria": {"type": "string"},
                        "standard": {"type": "string"},
                        "standardUrl": {"type": "string", "format": "uri"},
                        "validityDays": {"type": "integer", "minimum": 1},
                        "achievementType": {
                            "enum": ["Certification", "Certificate", "License", "Competency"]
                        },
                        "suite": {"enum": sorted(REGISTRY)},
                        "surveillanceMonths": {"type": ["integer", "null"], "minimum": 1},
                        "reminderDays": _REMINDER_DAYS,
                        "recertification": {"type": "string"},
                        "reason": _REASON,
                    },
                },
                "Reason": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {"reason": _REASON},
                },
                "Person": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "reference": {"type": "string"},
                        "email": {"type": "string", "format": "email"},
                        "reason": _REASON,
                    },
                },
                "PersonEmail": {
                    "type": "object",
                    "required": ["email", "reason"],
                    "properties": {
                        "email": {"type": ["string", "null"], "format": "email"},
                        "reason": _REASON,
                    },
                },
                "Certify": {
                    "type": "object",
                    "required": ["scheme", "scope", "reason"],
                    "properties": {
                        "scheme": {"type": "string"},
                        "scope": {"type": "string"},
                        "personId": {"type": "integer"},
                        "person": {"$ref": "#/components/schemas/Person"},
                        "number": {"type": "string"},
                        "effective": _DATE,
                        "expires": _DATE,
                        "reason": _REASON,
                    },
                },
                "OfferRequest": {
                    "type": "object",
                    "properties": {
                        "txCode": {"type": "boolean"},
                        "byReference": {"type": "boolean"},
                    },
                },
                "PublicPageRequest": {
                    "type": "object",
                    "required": ["enabled", "reason"],
                    "properties": {"enabled": {"type": "boolean"}, "reason": _REASON},
                },
                "BulkRequest": {
                    "type": "object",
                    "required": ["action", "selection", "reason"],
                    "properties": {
                        "action": {"enum": ["suspend", "reinstate", "withdraw"]},
                        "selection": {
                            "type": "object",
                            "description": "every filter given must hold; at least one",
                            "properties": {
                                "scheme": {"type": "string"},
                                "state": {"enum": ["active", "suspended", "withdrawn", "expired"]},
                                "numbers": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "maxItems": 10000,
                                    "description": "unknown numbers are refused (not_found)",
                                },
                                "references": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "maxItems": 10000,
                                    "description": "persons' references: all their certifications",
                                },
                                "expiringBefore": _DATE,
                            },
                        },
                        "reason": _REASON,
                        "dryRun": {"type": "boolean", "default": False},
                        "expect": {
                            "type": "string",
                            "description": "a dry run's fingerprint",
                        },
                    },
                },
                "LifecycleAction": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {
                        "reason": _REASON,
                        "scope": {"type": "string", "description": "reduce-scope: the new scope"},
                        "effective": _DATE,
                    },
                },
            },
        },
    }
