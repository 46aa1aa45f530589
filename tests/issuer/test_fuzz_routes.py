"""Property-based fuzzing of everything a client can send (issue 16, finding 4): every operation
of the OpenAPI document the issuer serves (``GET /api/v1/openapi.json``: the REST API, the W3C
VC API, the public documents, OpenID4VCI, the verifier) and every admin form, as a signed-in
admin with a valid CSRF token, driven with generated values: strings of any script, huge and
negative integers, dates near year 9999, nulls, wrong types, broken JSON, random uploads. No
answer may be a 5xx.

Each request starts from a plausible one (the schema's types, known numbers and codes, the
form's own fields harvested from the admin pages) with hostile contents, and sometimes one field
left out or replaced by any JSON at all, so most requests get past the first checks. Every route
is also sent once without a token or CSRF token and once with a made-up one.

Deterministic (``derandomize=True``) with a bounded number of examples per route, so ``make
test`` stays within about a minute; the last test prints the counts (recorded in the README),
and with ``FUZZ_ROUTES_DEBUG=1`` the answers of each route by status.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from issuer.db.models import Role
from issuer.services import accounts

from .conftest import HTTPS_URL, AppEnv
from .support import NOW

#: Examples per route: about 110 routes, so about 1,400 requests in all.
EXAMPLES = 12
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
ADMIN, OFFICER, PASSWORD = "fuzz-admin", "olga", "correct horse battery"

# --- hostile values -------------------------------------------------------------------------

EDGE_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999",
    "1" * 5000,
    "1e309",
    "NaN",
    "null",
    "true",
    "²",
    "٣٤",
    "9999-12-31",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999+14:00",
    "9999-12-31T23:59:59-14:00",
    "10000-01-01",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "0000-00-00",
    "2026-02-30",
    "2026-13-01",
    "\x00",
    "\ud7ff\ue000\U0010ffff",
    "../../etc/passwd",
    "%00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "a" * 3000,
    "CWI-2",
    "https://example.org/",
    "javascript:alert(1)",
    "did:web:example.org",
    "yes",
]
DATES = st.sampled_from(
    [
        "9999-12-31",
        "9999-12-30",
        "9999-12-31T23:59:59Z",
        "9998-01-01",
        "9999-12-31T00:00:00+14:00",
        "0001-01-01",
        "1900-01-01",
        "2026-12-05",
        "2026-12-05T12:00:00Z",
    ]
)
TEXT = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=30), DATES)
INTEGERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, 3660, 3661]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), INTEGERS, st.floats(allow_nan=False, allow_infinity=False), TEXT
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)


def _mostly(usual: Any, other: Any) -> Any:
    """``usual`` three times in four, else ``other``: deep enough to pass the first checks
    often, hostile often enough to find what the later ones miss."""
    return st.one_of(usual, usual, usual, other)


#: Plausible values by field name (JSON properties and form fields), mixed with hostile ones.
PLAUSIBLE: dict[str, list[str]] = {
    "name": ["Ada Lovelace", "Zoë Ångström-Ōtsuka", "李小龍"],
    "scheme": ["CWI-2"],
    "scope": ["steel group 1", "visual testing of welds"],
    "reason": ["committee decision", "audit"],
    "reference": ["P-1", "P-2"],
    "state": ["active", "suspended", "withdrawn", "expired"],
    "role": ["officer", "auditor", "admin"],
    "password": ["a long enough password 1"],
    "validityDays": ["365", "3650", "999999999"],
    "surveillanceMonths": ["12", "0"],
    "achievementType": ["Certification", "License"],
    "suite": ["eddsa-rdfc-2022", "ecdsa-rdfc-2019", "vc+jwt"],
    "enabled": ["on", "1", "true", "off"],
    "confirm_final": ["yes"],
    "format": ["json", "csv", "pdf", "badge-png", "qr-svg", "jwt"],
    "country": ["FR", "DE"],
    "email": ["office@example.org"],
    "url": ["https://example.org/"],
    "standardUrl": ["https://www.iso.org/standard/74831.html"],
    "code": ["CWI-2", "NEW-1"],
}


# --- the site: an https instance with something in it -------------------------------------


@dataclass
class Counts:
    routes: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_route: dict[str, Counter[int]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)


COUNTS = Counts()


@dataclass
class Site:
    env: AppEnv
    token: str
    known: dict[str, list[str]]
    admin: Any = None
    csrf: str = ""

    def sign_in(self) -> None:
        self.admin = self.env.app.test_client()
        page = self.admin.get("/admin/login", base_url=HTTPS_URL).data
        answer = self.admin.post(
            "/admin/login",
            data={"username": ADMIN, "password": PASSWORD, "csrf_token": _csrf(page)},
            base_url=HTTPS_URL,
        )
        assert answer.status_code == 302, answer.data[:300]
        self.csrf = _csrf(self.admin.get("/admin/", base_url=HTTPS_URL).data)


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1).decode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One https instance (OpenID4VCI on) on SQLite; jobs run in the request (no thread)."""
    folder = tmp_path_factory.mktemp("fuzz") / "instance"
    folder.parent.mkdir(exist_ok=True)
    url = f"sqlite:///{folder.parent / 'fuzz.db'}"
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        # The rate limits would answer most requests 429 (every made-up token counts as a
        # failure): high enough here that each request reaches its route.
        env = AppEnv(
            folder,
            url,
            HTTPS_URL,
            IMPORT_IN_BACKGROUND=False,
            RATELIMIT_API_TOKEN_FAILURES="100000 per 10 minute",
            VERIFIER_RATE_PER_MINUTE=0,
        )
        for name, role in ((ADMIN, Role.ADMIN), (OFFICER, Role.OFFICER)):
            env.write(
                lambda s, name=name, role=role: accounts.create_user(
                    s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
                )
            )
        token = env.tokens["admin"]
        client = env.app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        made = client.post(
            "/api/v1/certifications",
            json={
                "scheme": "CWI-2",
                "scope": "visual testing",
                "person": {"name": "Zoë Ångström", "reference": "P-1"},
                "reason": "committee",
            },
            headers=headers,
            base_url=HTTPS_URL,
        ).get_json()
        number = made["certification"]["number"]
        credential = made["verifiableCredential"]
        client.post(
            f"/api/v1/certifications/{number}/public-page",
            json={"enabled": True, "reason": "holder asked"},
            headers=headers,
            base_url=HTTPS_URL,
        )
        offer = client.post(
            f"/api/v1/certifications/{number}/offer",
            json={"byReference": True},
            headers=headers,
            base_url=HTTPS_URL,
        ).get_json()
        person = client.get("/api/v1/persons", headers=headers, base_url=HTTPS_URL).get_json()
        known = {
            "number": [number],
            "code": ["CWI-2"],
            "id": [str(person["persons"][0]["id"]), "1", "2"],
            "person_id": [str(person["persons"][0]["id"])],
            "list_id": ["1", "2"],
            "credential_uuid": [credential["id"].rsplit("/", 1)[-1]],
            "offer_id": [str(offer.get("offerUri", "x")).rsplit("/", 1)[-1]],
            "job_id": ["1"],
            "username": [OFFICER],
            "action": ["suspend", "reinstate", "withdraw", "renew", "reduce-scope"],
            "credentialId": [credential["id"]],
            "filename": ["admin.css"],
        }
        made_site = Site(env, token, known)
        made_site.sign_in()
        # A claim link (the holder's page and its actions): its token from the admin's page.
        page = made_site.admin.post(
            f"/admin/certifications/{number}/claim-links",
            data={"reason": "holder asked", "csrf_token": made_site.csrf},
            base_url=HTTPS_URL,
        ).get_data(as_text=True)
        claim = re.search(r"/claim/([A-Za-z0-9_-]{20,})", page)
        assert claim, page[:500]
        known["token"] = [claim.group(1)]
        known["form"] = ["json", "pdf", "badge-png", "badge-svg", "qr-png", "qr-svg"]
        yield made_site
        env.engine.dispose()
        env.app.extensions["certvc.db"].engine.dispose()


# --- sending and checking ---------------------------------------------------------------------


def _send(site: Site, route: str, client: Any, method: str, path: str, **kwargs: Any) -> Any:
    COUNTS.routes.add(route)
    COUNTS.requests += 1
    answer = client.open(path, method=method, base_url=HTTPS_URL, **kwargs)
    body = answer.get_data()
    answer.close()
    COUNTS.statuses[answer.status_code] += 1
    COUNTS.by_route.setdefault(route, Counter())[answer.status_code] += 1
    if answer.status_code >= 500:
        COUNTS.server_errors.append(f"{method} {path} -> {answer.status_code}: {body[:300]!r}")
    assert answer.status_code < 500, f"{method} {path} {repr(kwargs)[:600]}: {body[:500]!r}"
    return answer


def _path_value(site: Site, name: str) -> st.SearchStrategy[str]:
    known = site.known.get(name, [])
    hostile = st.one_of(TEXT, INTEGERS.map(str))
    return st.one_of(st.sampled_from(known), hostile) if known else hostile


def _fill(site: Site, template: str, values: dict[str, str]) -> str:
    """``template`` with its ``{name}`` / ``<conv:name>`` placeholders filled, each quoted."""

    def one(match: re.Match[str]) -> str:
        return quote(values[match.group("name")], safe="")

    return re.sub(r"[{<](?:[a-z]+:)?(?P<name>[A-Za-z_]+)[}>]", one, template)


def _placeholders(template: str) -> list[str]:
    return re.findall(r"[{<](?:[a-z]+:)?([A-Za-z_]+)[}>]", template)


# --- generating requests: a plausible request with at most one field made hostile ---------------


def _mutated(base: Any, keys: list[str]) -> Any:
    """``base`` (a dict strategy) as it is, or with one of ``keys`` dropped or given any JSON
    value at all (a wrong type, a null, a huge number): most requests get past the first
    checks, and each field meets hostile values often enough."""
    if not keys:
        return base
    change = st.one_of(
        st.none(),
        st.tuples(st.sampled_from(keys), st.one_of(st.just(_DROP), ANY_JSON)),
    )

    def apply(pair: tuple[dict[str, Any], Any]) -> dict[str, Any]:
        value, changed = pair
        value = dict(value)
        if changed is not None:
            key, hostile = changed
            if hostile is _DROP:
                value.pop(key, None)
            else:
                value[key] = hostile
        return value

    return st.tuples(base, change).map(apply)


_DROP = object()


def _plausible(site: Site, name: str, fallback: Any) -> Any:
    known = site.known.get(name, []) + PLAUSIBLE.get(name, [])
    return _mostly(st.sampled_from(known), fallback) if known else fallback


def _typed(site: Site, schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """Values of ``schema``'s type with hostile contents (edge strings, dates near 9999, huge
    numbers); known or plausible values by property name most of the time."""
    if "$ref" in schema:
        return _typed(site, components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "oneOf" in schema:
        return st.one_of([_typed(site, item, components) for item in schema["oneOf"]])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        properties = schema.get("properties", {})
        required = [name for name in schema.get("required", []) if name in properties]

        def value(name: str) -> Any:
            return _plausible(site, name, _typed(site, properties[name], components))

        # Every property, then some optional ones left out (none in the simplest example).
        optional = sorted(name for name in properties if name not in required)
        left_out = st.sets(st.sampled_from(optional)) if optional else st.just(set())
        base = st.tuples(
            st.fixed_dictionaries({name: value(name) for name in properties}), left_out
        ).map(lambda pair: {k: v for k, v in pair[0].items() if k not in pair[1]})
        return _mutated(base, sorted(properties))
    if kind == "array":
        return st.lists(_typed(site, schema.get("items", {}), components), max_size=3)
    if kind == "integer":
        return INTEGERS
    if kind == "boolean":
        return st.booleans()
    if "YYYY-MM-DD" in schema.get("description", ""):
        return _mostly(DATES, TEXT)
    return TEXT


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation: dict[str, Any]

    @property
    def route(self) -> str:
        return f"{self.method} {self.template}"


def _operations(site: Site) -> tuple[list[Operation], dict[str, Any]]:
    document = site.env.app.test_client().get("/api/v1/openapi.json").get_json()
    found = [
        Operation(method.upper(), template, operation)
        for template, item in document["paths"].items()
        for method, operation in item.items()
    ]
    return found, document["components"]["schemas"]


#: Bodies no schema describes: any JSON, bytes that are not JSON, a number too long for int(),
#: a form instead of JSON.
ODD_BODIES = st.one_of(
    ANY_JSON.map(lambda value: {"json": value}),
    st.binary(max_size=200).map(lambda raw: {"data": raw, "content_type": "application/json"}),
    st.just({"data": b'{"reason": ' + b"9" * 5000 + b"}", "content_type": "application/json"}),
    st.dictionaries(st.sampled_from(["reason", "code", "format"]), TEXT, max_size=3).map(
        lambda form: {"data": form}
    ),
)


def _request(site: Site, op: Operation, components: dict[str, Any]) -> Any:
    parameters = op.operation.get("parameters", [])
    queries = {
        p["name"]: _plausible(site, p["name"], st.one_of(TEXT, INTEGERS.map(str), DATES))
        for p in parameters
        if p["in"] == "query"
    }
    schema = (
        op.operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    body: Any = st.just({})
    if op.method != "GET":
        body = ODD_BODIES
        if schema is not None:
            typed = _typed(site, schema, components).map(lambda value: {"json": value})
            body = _mostly(typed, ODD_BODIES)
    return st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(
                {name: _path_value(site, name) for name in _placeholders(op.template)}
            ),
            "query": st.fixed_dictionaries({}, optional=queries),
            "body": body,
        }
    )


def _drive(strategy: Any, act: Any, *args: Any) -> None:
    """Run ``act(example, *args)`` on ``strategy``'s examples (hypothesis, deterministic)."""

    def example(value: Any) -> None:
        act(value, *args)

    SETTINGS(given(strategy)(example))()


# --- the OpenAPI document ---------------------------------------------------------------------


def test_every_openapi_operation_answers_without_a_5xx(site: Site) -> None:
    """Each operation with the admin token (scope admin holds every other), then once with no
    token and once with a made-up one."""
    operations, components = _operations(site)
    assert len(operations) >= 40
    client = site.env.app.test_client()
    for op in operations:

        def act(request: dict[str, Any], op: Operation, authorization: str) -> None:
            _send(
                site,
                op.route,
                client,
                op.method,
                _fill(site, op.template, request["path"]),
                query_string=request["query"],
                headers={"Authorization": authorization} if authorization else {},
                **request["body"],
            )

        _drive(_request(site, op, components), act, op, f"Bearer {site.token}")
        for authorization in ("", "Bearer cvc_made-up"):
            plain = {"path": {n: "x" for n in _placeholders(op.template)}, "query": {}}
            act(
                plain | {"body": {"json": {"reason": "r"}} if op.method != "GET" else {}},
                op,
                authorization,
            )


# --- the admin forms ------------------------------------------------------------------------

#: Field names of the admin forms not found on a page (filled by scripts or the browser).
EXTRA_FIELDS = ["page", "format", "key", "next", "subject"]
#: Not driven with the admin's session: they end or start it (the login form is fuzzed
#: signed out, below).
SESSION_ROUTES = {"/admin/logout", "/admin/login"}
#: The admin pages whose forms are harvested.
FORM_PAGES = [
    "/admin/",
    "/admin/certify",
    "/admin/certifications/{number}",
    "/admin/body",
    "/admin/schemes",
    "/admin/staff",
    "/admin/bulk",
    "/admin/images",
    "/admin/import",
    "/admin/audit",
]


class _Forms(HTMLParser):
    """The forms of a page: action -> the names of its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, set[str]] = {}
        self._action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self._action = named.get("action") or ""
            self.forms.setdefault(self._action, set())
        elif tag in ("input", "select", "textarea", "button") and self._action is not None:
            if named.get("name") and named["name"] != "csrf_token":
                self.forms[self._action].add(str(named["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None


def _harvest(site: Site) -> dict[str, set[str]]:
    """Every form the admin pages show, by the rule its action matches."""
    parser = _Forms()
    for page in FORM_PAGES:
        path = page.format(number=site.known["number"][0])
        parser.feed(site.admin.get(path, base_url=HTTPS_URL).get_data(as_text=True))
    adapter = site.env.app.url_map.bind("localhost")
    fields: dict[str, set[str]] = {}
    for action, names in parser.forms.items():
        try:
            rule, _args = adapter.match(
                action.split("?")[0] or "/admin/", method="POST", return_rule=True
            )
        except HTTPException:
            continue
        fields.setdefault(rule.rule, set()).update(names)
    return fields


def _admin_rules(site: Site) -> list[tuple[str, str]]:
    rules = []
    for rule in site.env.app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.rule in SESSION_ROUTES:
            continue
        if "static" in rule.endpoint:
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            rules.append((method, rule.rule))
    return sorted(rules)


def _field_value(site: Site, name: str) -> Any:
    return _plausible(site, name, st.one_of(TEXT, DATES, INTEGERS.map(str)))


def _form(site: Site, method: str, rule: str, names: set[str]) -> Any:
    fields = sorted(names) or EXTRA_FIELDS
    base = st.fixed_dictionaries(
        {name: _field_value(site, name) for name in fields},
        optional={name: _field_value(site, name) for name in EXTRA_FIELDS if name not in fields},
    )
    hostile = st.one_of(TEXT, DATES, INTEGERS.map(str))
    change = st.one_of(st.none(), st.tuples(st.sampled_from(fields), st.one_of(st.none(), hostile)))

    def apply(pair: tuple[dict[str, str], Any]) -> dict[str, str]:
        value, changed = pair
        value = dict(value)
        if changed is not None:
            key, text = changed
            if text is None:
                value.pop(key, None)
            else:
                value[key] = text
        return value

    uploads = st.one_of(
        st.none(),
        st.tuples(
            st.one_of(st.binary(max_size=600), TEXT.map(lambda t: t.encode("utf-8", "replace"))),
            st.sampled_from(["rows.csv", "badge.png", "logo.svg", "x", "../x.csv"]),
        ),
    )
    return st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(
                {name: _path_value(site, name) for name in _placeholders(rule)}
            ),
            "fields": st.tuples(base, change).map(apply),
            "upload": uploads if method == "POST" and "file" in names else st.none(),
        }
    )


def test_every_admin_form_answers_without_a_5xx(site: Site) -> None:
    """Each admin route as a signed-in admin with a valid CSRF token, its form's fields filled
    (one sometimes dropped or made hostile); each POST once more without and with a forged
    CSRF token."""
    rules = _admin_rules(site)
    harvested = _harvest(site)
    posts = [rule for method, rule in rules if method == "POST"]
    assert len(posts) >= 15, posts
    assert set(harvested) - SESSION_ROUTES <= set(posts), set(harvested) - set(posts)
    for method, rule in rules:

        def act(form: dict[str, Any], method: str, rule: str, csrf: str | None) -> None:
            data: dict[str, Any] = dict(form["fields"])
            if method == "POST" and csrf is not None:
                data["csrf_token"] = csrf
            if form["upload"] is not None:
                raw, name = form["upload"]
                data["file"] = (io.BytesIO(raw), name)
            path = _fill(site, rule, form["path"])
            if method == "GET":
                answer = _send(site, f"GET {rule}", site.admin, "GET", path, query_string=data)
            else:
                answer = _send(site, f"POST {rule}", site.admin, "POST", path, data=data)
            if answer.status_code == 302 and "/admin/login" in (answer.location or ""):
                site.sign_in()  # a form ended the session (it may: e.g. a role change)

        names = harvested.get(rule, set()) if method == "POST" else set(EXTRA_FIELDS)
        _drive(
            _form(site, method, rule, names), lambda f, m=method, r=rule: act(f, m, r, site.csrf)
        )
        if method == "POST":
            plain = {"path": {n: "x" for n in _placeholders(rule)}, "fields": {}, "upload": None}
            for csrf in (None, "forged"):
                act(plain, method, rule, csrf)


# --- every other route --------------------------------------------------------------------

#: Not driven here: files served as they are.
STATIC_ENDPOINTS = ("static", "admin.static", "verifier.static")


def _other_rules(site: Site) -> list[tuple[str, str]]:
    """The routes neither the OpenAPI document nor the admin UI lists: public pages, the
    holder's claim pages, health checks, badges, the verifier page."""
    operations, _components = _operations(site)
    listed = {(op.method, re.sub(r"\{([A-Za-z_]+)\}", r"<\1>", op.template)) for op in operations}
    rules = []
    for rule in site.env.app.url_map.iter_rules():
        if rule.rule.startswith("/admin") or rule.endpoint in STATIC_ENDPOINTS:
            continue
        plain = re.sub(r"<[a-z]+:([A-Za-z_]+)>", r"<\1>", rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PATCH"}):
            if (method, plain) not in listed:
                rules.append((method, rule.rule))
    return sorted(rules)


def test_every_other_route_answers_without_a_5xx(site: Site) -> None:
    """Each route outside the OpenAPI document and the admin UI, without a session, its path
    parameters known or hostile, with hostile query strings and form or JSON bodies."""
    rules = _other_rules(site)
    assert ("GET", "/claim/<token>") in rules and ("GET", "/healthz") in rules, rules
    client = site.env.app.test_client()
    for method, rule in rules:
        queries = st.dictionaries(st.sampled_from(["format", "page", "lang", "next"]), TEXT)
        strategy = st.fixed_dictionaries(
            {
                "path": st.fixed_dictionaries(
                    {name: _path_value(site, name) for name in _placeholders(rule)}
                ),
                "query": queries,
                "body": ODD_BODIES if method != "GET" else st.just({}),
            }
        )

        def act(request: dict[str, Any], method: str, rule: str) -> None:
            path = _fill(site, rule, request["path"])
            _send(
                site,
                f"{method} {rule}",
                client,
                method,
                path,
                query_string=request["query"],
                **request["body"],
            )

        _drive(strategy, lambda r, m=method, u=rule: act(r, m, u))


def test_signing_in_and_out_answers_without_a_5xx(site: Site) -> None:
    client = site.env.app.test_client()
    page = client.get("/admin/login", base_url=HTTPS_URL).data
    token = _csrf(page)

    def act(fields: dict[str, str]) -> None:
        signed = fields | {"csrf_token": token}
        _send(site, "POST /admin/login", client, "POST", "/admin/login", data=signed)
        _send(site, "POST /admin/logout", client, "POST", "/admin/logout", data=fields)

    fields = st.fixed_dictionaries(
        {},
        optional={
            "username": _mostly(st.sampled_from([OFFICER, "nobody"]), TEXT),
            "password": _mostly(st.sampled_from([PASSWORD, "wrong"]), TEXT),
            "next": TEXT,
        },
    )
    _drive(fields, act)


def test_the_counts(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """Printed for the README: routes driven, requests sent, answers that were a 5xx."""
    with capsys.disabled():
        print(
            f"\nfuzz: {len(COUNTS.routes)} routes, {COUNTS.requests} requests, "
            f"{len(COUNTS.server_errors)} 5xx; answers by status: "
            f"{dict(sorted(COUNTS.statuses.items()))}"
        )
        if os.environ.get("FUZZ_ROUTES_DEBUG"):
            for route, statuses in sorted(COUNTS.by_route.items()):
                print(f"  {route}: {dict(sorted(statuses.items()))}")
    assert COUNTS.requests > 0 and COUNTS.server_errors == []
