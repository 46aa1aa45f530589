"""docs/conformance.md names, for every MUST, the test that shows it: each named test exists.

A renamed or deleted test would otherwise leave the table claiming a proof that is gone.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "conformance.md"
#: `path.py` or `path.py::name`, then `::name` cells that continue the last path named.
_REFERENCE = re.compile(r"`([\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def _references() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        last: str | None = None
        for match in _REFERENCE.finditer(line):
            if match.group(1):
                last = match.group(1)
                found.append((last, match.group(2)))
            elif last is not None:
                found.append((last, match.group(3)))
    return found


def test_every_test_the_conformance_table_names_exists() -> None:
    references = _references()
    assert len(references) > 100  # the table is read, not skipped
    missing = []
    for path, name in references:
        test_file = ROOT / "tests" / path
        if not test_file.exists():
            if (ROOT / path).exists():  # a source file the row points to, not a test
                continue
            missing.append(path)
        elif name is not None and f"def {name}(" not in test_file.read_text(encoding="utf-8"):
            missing.append(f"{path}::{name}")
    assert missing == []
