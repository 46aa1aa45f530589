"""Bulk CSV import: good rows imported, bad rows listed with their line, nothing half-done."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from issuer.db.models import Action, AuditEvent, Certification, Person
from issuer.errors import FieldError
from issuer.services import audit, csv_import

from .support import NOW

GOOD_AND_BAD = """name,reference,scheme,scope,number,effective
Ada Lovelace,P-1,,,,
Grace Hopper,P-2,CWI-2,steel group 1,N-1,2026-01-15
,P-3,,,,
Alan Turing,P-1,,,,
Edsger Dijkstra,P-4,NOPE,anything,,
Barbara Liskov,P-5,CWI-2,,,
Donald Knuth,P-6,CWI-2,typesetting,N-1,
Frances Allen,P-7,CWI-2,compilers,,2026-02-30
Ken Thompson,P-8,,,,,extra
Ada Lovelace,P-1b,,,,
"""


def _run(env, text: str, size: int = csv_import.CHUNK) -> csv_import.ImportReport:
    report = csv_import.ImportReport()
    for chunk in csv_import.chunks(csv_import.parse(text), size):
        report.add(
            env.write(
                lambda s, chunk=chunk: csv_import.import_chunk(
                    s, env.ctx, chunk, source="t.csv", reason="annual import", actor="t", now=NOW
                )
            )
        )
    return report


def test_good_rows_are_imported_and_bad_rows_listed(env) -> None:
    report = _run(env, GOOD_AND_BAD)
    assert {e.line: e.message for e in report.errors}.keys() == {4, 5, 6, 7, 8, 9, 10}
    messages = {e.line: e.message for e in report.errors}
    assert "name" in messages[4]
    assert "another name" in messages[5]
    assert "NOPE" in messages[6]
    assert "scope" in messages[7]
    assert "taken" in messages[8]
    assert "not a real date" in messages[9]
    assert "more cells" in messages[10]
    assert (report.rows, report.persons, report.certifications) == (10, 3, 1)
    with env.read() as session:
        persons = session.execute(select(Person.reference, Person.name)).all()
        assert sorted(persons) == [
            ("P-1", "Ada Lovelace"),
            ("P-1b", "Ada Lovelace"),
            ("P-2", "Grace Hopper"),
        ]
        cert = session.execute(select(Certification)).scalar_one()
        assert (cert.number, cert.scope) == ("N-1", "steel group 1")
        assert cert.effective.isoformat() == "2026-01-15T00:00:00+00:00"
        imports = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == Action.IMPORT)
        ).scalar_one()
        assert imports == 1
        assert audit.verify_chain(session).ok


def test_a_failed_issuance_row_leaves_no_person_behind(env) -> None:
    """The row that named an unknown scheme created nobody (savepoint rolled back)."""
    _run(env, "name,reference,scheme,scope\nEdsger Dijkstra,P-4,NOPE,x\n")
    with env.read() as session:
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 0


def test_chunks_each_commit_with_their_own_audit_event(env) -> None:
    text = "name,reference\n" + "".join(f"Person {n},R-{n}\n" for n in range(25))
    report = _run(env, text, size=10)
    assert report.persons == 25 and not report.errors
    with env.read() as session:
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.action == Action.IMPORT))
            .scalars()
            .all()
        )
    assert len(events) == 3


@pytest.mark.parametrize(
    "text",
    ["", "reference\nX\n", "name,password\nA,B\n"],
    ids=["empty", "no-name-column", "unknown-column"],
)
def test_unusable_files_are_refused_whole(text: str) -> None:
    with pytest.raises(FieldError):
        list(csv_import.parse(text))


def test_quotes_commas_and_bom_are_read_as_csv() -> None:
    rows = list(csv_import.parse('\ufeffname,reference\n"Lovelace, Ada ""Countess""",P-1\n'))
    assert rows[0].name == 'Lovelace, Ada "Countess"'


RERUN = "name,reference,scheme,scope\n" + "".join(
    f"Person {n},R-{n},{'CWI-2' if n % 2 else ''},{'steel' if n % 2 else ''}\n" for n in range(30)
)


def _counts(env) -> tuple[int, int]:
    with env.read() as session:
        persons = session.execute(select(func.count()).select_from(Person)).scalar_one()
        certs = session.execute(select(func.count()).select_from(Certification)).scalar_one()
    return persons, certs


def test_an_interrupted_import_run_again_ends_with_one_of_everything(env) -> None:
    """Issue 15: the first chunk committed, then the process died; the same file run again
    imports the rest, reports the first chunk's rows as already present, issues nothing twice."""
    first_chunk = next(csv_import.chunks(csv_import.parse(RERUN), 10))
    env.write(
        lambda s: csv_import.import_chunk(
            s, env.ctx, first_chunk, source="t.csv", reason="annual import", actor="t", now=NOW
        )
    )
    assert _counts(env) == (10, 5)
    again = _run(env, RERUN, size=10)
    assert sorted(again.present) == list(range(2, 12))
    assert not again.errors and again.to_json()["imported"] == 20
    assert _counts(env) == (30, 15)
    third = _run(env, RERUN, size=10)
    assert len(third.present) == 30 and third.persons == third.certifications == 0
    assert _counts(env) == (30, 15)
    with env.read() as session:
        assert audit.verify_chain(session).ok


def test_a_rerun_row_with_a_number_of_someone_else_is_refused(env) -> None:
    _run(env, "name,reference,scheme,scope,number\nAda,P-1,CWI-2,steel,N-1\nBob,P-2,,,\n")
    report = _run(env, "name,reference,scheme,scope,number\nBob,P-2,CWI-2,steel,N-1\n")
    assert [e.line for e in report.errors] == [2] and "another certification" in report.errors[
        0
    ].message
    same = _run(env, "name,reference,scheme,scope,number\nAda,P-1,CWI-2,steel,N-1\n")
    assert same.present == [2] and not same.errors
    assert _counts(env) == (2, 1)
