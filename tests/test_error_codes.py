"""Error codes are public API: each package owns its own, no string is used twice, the docs
promise only codes that exist, and the one HTTP map names only real codes (STYLE §6)."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

import pytest

from contexts.errors import Code
from verifier.web import http_errors
from wallet_export.oid4vci.errors import OAuthErrorCode

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("contexts", "keys", "verifier", "wallet_export", "issuer")
#: Identifiers the docs name in paragraphs about codes that are not error codes.
NOT_CODES = frozenset({"logo_url", "qr_png", "c_nonce", "default_badge_png", "size_mm"})
#: Codes no longer answered, which the docs still name as the old spelling.
RETIRED = frozenset({"request_too_large"})  # now input_too_large everywhere (issue 17)


def _code_enums() -> list[type[Code]]:
    """Every ``Code`` subclass declared in an ``errors`` module of a package."""
    for package in PACKAGES:
        for path in (ROOT / package).rglob("errors.py"):
            importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    found: list[type[Code]] = []
    pending = list(Code.__subclasses__())
    while pending:
        enum = pending.pop()
        found.append(enum)
        pending.extend(enum.__subclasses__())
    return found


def _duplicates(enums: Iterable[type[StrEnum]]) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for enum in enums:
        for member in enum:
            owners.setdefault(member.value, []).append(f"{enum.__name__}.{member.name}")
    return {value: names for value, names in owners.items() if len(names) > 1}


def _all_codes() -> set[str]:
    return {member.value for enum in _code_enums() for member in enum}


def test_each_package_owns_its_codes() -> None:
    owners = {enum.__module__.split(".")[0] for enum in _code_enums()}
    assert owners == set(PACKAGES)
    assert all(enum.__module__.endswith(".errors") for enum in _code_enums())


def test_code_strings_are_unique_across_packages() -> None:
    assert _duplicates(_code_enums()) == {}


def test_the_uniqueness_check_finds_a_duplicate() -> None:
    class First(StrEnum):
        A = "same"

    class Second(StrEnum):
        B = "same"
        C = "other"

    assert _duplicates([First, Second]) == {"same": ["First.A", "Second.B"]}


def _documented_codes() -> Counter[tuple[str, str]]:
    """Code-like names (``snake_case`` in backticks) in the docs' paragraphs about codes."""
    found: Counter[tuple[str, str]] = Counter()
    about_codes = re.compile(r"stable codes?|Refusals|Errors:|error codes?|\bcodes?\b|`error`")
    for doc in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*|] )", doc.read_text()):
            if about_codes.search(paragraph):
                for name in re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", paragraph):
                    found[(doc.name, name)] += 1
    return found


def test_every_code_the_docs_promise_exists() -> None:
    known = _all_codes() | {member.value for member in OAuthErrorCode} | NOT_CODES | RETIRED
    documented = _documented_codes()
    assert len({name for _, name in documented} & _all_codes()) > 20  # the scan finds them
    assert sorted(key for key in documented if key[1] not in known) == []


@pytest.mark.parametrize("code", sorted(http_errors.STATUS))
def test_the_http_map_names_only_declared_codes(code: str) -> None:
    assert code in _all_codes()


def test_retired_codes_are_gone() -> None:
    assert RETIRED.isdisjoint(_all_codes())


def test_unlisted_codes_are_the_clients_fault() -> None:
    assert http_errors.http_status("signature_invalid") == 400
    assert http_errors.http_status("input_too_large") == 413
    assert http_errors.http_status("auth_required") == 401
