"""Issue 19, the first hour with certvc: every CLI error is one line saying what to fix
(usage errors included), dates say what to type, no temporary file names, ``issue --number``,
and CSV files as spreadsheets save them (semicolons, tabs, a byte-order mark, any case)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import main
from issuer.errors import FieldError, IssuerCode
from issuer.services import csv_import, fields

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development instance (plaintext keys, demo scheme CWI-2) for the module."""
    folder = tmp_path_factory.mktemp("usability") / "instance"
    done = invoke("init", "--dev", "--instance", str(folder))
    assert done.exit_code == 0, done.stderr
    return folder


def _issue(instance: Path, *args: str) -> Result:
    return invoke(
        "issue",
        "--instance",
        str(instance),
        "--scheme",
        "CWI-2",
        "--scope",
        "VT-2",
        "--reason",
        "examination passed",
        *args,
    )


def _one_error(result: Result) -> str:
    """The one line on stderr of a refused command (exit 2, nothing on stdout)."""
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr.rstrip("\n")


# --- 1. usage errors: one line, code `usage`, exit 2 -------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["suspend", "CWI-2-2026-000001"],
            "certvc: error: usage: missing option '--reason' (see certvc suspend --help)",
        ),
        (
            ["verify", "--bogus", "x.json"],
            "certvc: error: usage: no such option '--bogus' (see certvc verify --help)",
        ),
        (
            ["export", "N-1", "--format", "docx", "--out", "x.docx"],
            "certvc: error: usage: invalid value for '--format': 'docx' is not one of 'pdf', "
            "'badge-png', 'badge-svg', 'qr-png', 'qr-svg', 'json', 'jwt' "
            "(see certvc export --help)",
        ),
        (
            ["withdraw", "--reason", "fraud found"],
            "certvc: error: usage: missing argument 'NUMBER_OR_CREDENTIAL_ID' "
            "(see certvc withdraw --help)",
        ),
        (
            ["keys", "generate", "--type", "rsa", "--out", "k.json"],
            "certvc: error: usage: invalid value for '--type': 'rsa' is not one of 'ed25519', "
            "'p-256', 'p-384' (see certvc keys generate --help)",
        ),
        (
            ["register", "export", "--zzz"],
            "certvc: error: usage: no such option '--zzz' (see certvc register export --help)",
        ),
        (["frobnicate"], "certvc: error: usage: no such command 'frobnicate' (see certvc --help)"),
        (["--bogus"], "certvc: error: usage: no such option '--bogus' (see certvc --help)"),
        (
            ["sign", "--key", "k.json", "--suite", "vc+jwt", "--proof-id", "urn:x", "c.json"],
            "certvc: error: usage: --proof-id and --previous-proof need a Data Integrity "
            "suite (see certvc sign --help)",
        ),
    ],
    ids=[
        "missing-option",
        "unknown-option",
        "bad-choice",
        "missing-argument",
        "subcommand-choice",
        "subcommand-option",
        "unknown-command",
        "root-option",
        "command-raises",
    ],
)
def test_usage_errors_are_one_line_with_the_usage_code(args: list[str], line: str) -> None:
    assert _one_error(invoke(*args)) == line


def test_click_s_suggestions_stay_on_the_line() -> None:
    line = _one_error(invoke("register", "export", "--formt", "csv"))
    assert line.startswith("certvc: error: usage: no such option '--formt'")
    assert "'--format'" in line and line.endswith(" (see certvc register export --help)")


def test_the_usage_code_is_registered() -> None:
    assert IssuerCode.USAGE.value == "usage"


def test_usage_errors_through_the_console_script() -> None:
    """The real process, as a script sees it: stderr, exit status 2."""
    done = subprocess.run(
        [sys.executable, "-m", "issuer", "suspend", "X"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "certvc: error: usage: missing option '--reason' (see certvc suspend --help)\n"
    )


@pytest.mark.parametrize("args", [["suspend", "--help"], ["--help"], ["keys", "generate", "-h"]])
def test_help_is_unchanged(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0 and result.stdout.startswith("Usage: ")
    assert "Options:" in result.stdout and result.stderr == ""


def test_a_group_without_its_subcommand_still_shows_its_help() -> None:
    result = invoke("keys")
    assert "Usage: " in result.output and "generate" in result.output
    assert "certvc: error" not in result.output


# --- 2. a plaintext key outside development mode ------------------------------------------


def test_sign_with_a_plaintext_key_names_the_flag_that_allows_it(tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    made = invoke("keys", "generate", "--type", "ed25519", "--out", str(key), "--plaintext")
    assert made.exit_code == 0, made.stderr
    credential = tmp_path / "c.json"
    credential.write_text("{}")
    line = _one_error(
        invoke("sign", "--key", str(key), "--suite", "eddsa-rdfc-2022", str(credential))
    )
    assert line == (
        f"certvc: error: plaintext_key_refused: {key} holds an unencrypted key, allowed only in "
        "development mode: add --plaintext to sign with it anyway, or use an encrypted key "
        "file (certvc keys generate without --plaintext)"
    )


# --- 3. dates: one wording, what to type --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "01/11/2026",
            "'01/11/2026' is ambiguous (day or month first?): write it as YYYY-MM-DD, "
            "2026-11-01 or 2026-01-11",
        ),
        ("25.11.2026", "'25.11.2026': write the date as YYYY-MM-DD, 2026-11-25"),
        (
            "2026-11-01T09:00",
            "'2026-11-01T09:00' has no time zone: write 2026-11-01T09:00:00Z (UTC) or add an "
            "offset such as +01:00",
        ),
        (
            "2026-02-30",
            "'2026-02-30' is not a real date; write YYYY-MM-DD (2026-11-01) or a date-time "
            "with a time zone (2026-11-01T09:00:00Z)",
        ),
        (
            "next week",
            "'next week' is not a date: write YYYY-MM-DD (2026-11-01) or a date-time with a "
            "time zone (2026-11-01T09:00:00Z)",
        ),
    ],
)
def test_date_errors_say_what_to_type(value: str, message: str) -> None:
    with pytest.raises(FieldError) as refused:
        fields.moment({"effective": value}, "effective")
    assert refused.value.message == f"effective: {message}"
    assert "dateTimeStamp" not in refused.value.message


def test_both_date_forms_are_taken() -> None:
    day = fields.moment({"d": "2026-11-01"}, "d")
    stamp = fields.moment({"d": "2026-11-01T09:00:00+01:00"}, "d")
    assert day is not None and day.isoformat() == "2026-11-01T00:00:00+00:00"
    assert stamp is not None and stamp.isoformat() == "2026-11-01T08:00:00+00:00"


def test_renew_effective_errors_name_the_option_and_the_form(instance: Path) -> None:
    line = _one_error(
        invoke(
            "renew",
            "--instance",
            str(instance),
            "N-1",
            "--reason",
            "r",
            "--effective",
            "01/11/2026",
        )
    )
    assert line == (
        "certvc: error: field_invalid: --effective: '01/11/2026' is ambiguous (day or month "
        "first?): write it as YYYY-MM-DD, 2026-11-01 or 2026-01-11"
    )
    help_text = invoke("renew", "--help").stdout
    assert "YYYY-MM-DD (2026-11-01)" in " ".join(help_text.split())


def test_sign_created_takes_a_date_and_says_what_to_type(tmp_path: Path) -> None:
    line = _one_error(
        invoke("sign", "--key", "k", "--suite", "eddsa-rdfc-2022", "--created", "1/2/2026", "-")
    )
    assert line.startswith("certvc: error: field_invalid: --created: '1/2/2026' is ambiguous")


# --- 4. issue --name "": CLI wording -------------------------------------------------------


def test_issue_without_a_person_names_the_options(instance: Path) -> None:
    line = _one_error(_issue(instance, "--name", ""))
    assert line == (
        "certvc: error: field_invalid: --name: give the person's name (--name NAME), or a "
        "registered person (--person-id ID or --reference REF)"
    )
    assert "personId" not in line


def test_issue_with_an_unknown_reference_and_no_name(instance: Path) -> None:
    line = _one_error(_issue(instance, "--reference", "NOBODY-1"))
    assert line == (
        "certvc: error: field_invalid: --name: no person is registered under --reference "
        "'NOBODY-1': give their name with --name to register them"
    )


def test_issue_service_errors_name_the_options(instance: Path) -> None:
    line = _one_error(
        invoke(
            "issue",
            "--instance",
            str(instance),
            "--scheme",
            "NOPE",
            "--scope",
            "s",
            "--name",
            "A",
            "--reason",
            "r",
        )
    )
    assert line == "certvc: error: unknown_reference: --scheme: no scheme with code 'NOPE'"


# --- 5. exporting into a missing folder ----------------------------------------------------


def test_export_into_a_missing_folder_names_the_folder(instance: Path, tmp_path: Path) -> None:
    issued = _issue(instance, "--name", "Zoë Ångström-Ōtsuka", "--json")
    assert issued.exit_code == 0, issued.stderr
    number = json.loads(issued.stdout)["certification"]["number"]
    missing = tmp_path / "nowhere"
    line = _one_error(
        invoke(
            "export",
            "--instance",
            str(instance),
            number,
            "--format",
            "pdf",
            "--out",
            str(missing / "x.pdf"),
        )
    )
    assert line == (
        f"certvc: error: field_invalid: --out: the folder {missing} does not exist: create it first"
    )
    assert ".tmp" not in line and list(tmp_path.iterdir()) == []


def test_a_key_file_into_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    line = _one_error(
        invoke("keys", "generate", "--type", "ed25519", "--plaintext", "--out", f"{missing}/k")
    )
    assert line == (
        f"certvc: error: field_invalid: --out: the folder {missing} does not exist: create it first"
    )


def test_a_relative_folder_is_named_as_typed(instance: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = _one_error(
        invoke(
            "export",
            "--instance",
            str(instance),
            "N-1",
            "--format",
            "pdf",
            "--out",
            "scratch/certificate.pdf",
        )
    )
    assert line == (
        "certvc: error: field_invalid: --out: the folder scratch does not exist: create it first"
    )


# --- 6. issue --number ----------------------------------------------------------------------


def test_issue_takes_the_number_as_an_option_or_an_argument(instance: Path) -> None:
    by_option = _issue(instance, "--number", "OPT-1", "--name", "Ada", "--json")
    assert by_option.exit_code == 0, by_option.stderr
    assert json.loads(by_option.stdout)["certification"]["number"] == "OPT-1"
    by_argument = _issue(instance, "ARG-1", "--name", "Grace", "--json")
    assert json.loads(by_argument.stdout)["certification"]["number"] == "ARG-1"
    both_same = _issue(instance, "SAME-1", "--number", "SAME-1", "--name", "Alan", "--json")
    assert json.loads(both_same.stdout)["certification"]["number"] == "SAME-1"


def test_issue_refuses_two_different_numbers(instance: Path) -> None:
    line = _one_error(_issue(instance, "A-1", "--number", "B-1", "--name", "Ada"))
    assert line == (
        "certvc: error: usage: the certificate number is given twice, differently ('A-1' and "
        "--number 'B-1'): give it once (see certvc issue --help)"
    )


def test_a_bad_number_names_the_option(instance: Path) -> None:
    line = _one_error(_issue(instance, "--number", "a b", "--name", "Ada"))
    assert line == (
        "certvc: error: field_invalid: --number: may hold only letters, digits, '.', '_' "
        "and '-' (at most 64)"
    )


# --- 7. CSV as spreadsheets save it ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "name;reference;scheme;scope\nLovelace, Ada;P-1;CWI-2;steel; group 1\n",
        '\ufeffName ; Reference;SCHEME;Scope\r\nLovelace, Ada;P-1;CWI-2;"steel; group 1"\r\n',
        "name\treference\tscheme\tscope\nLovelace, Ada\tP-1\tCWI-2\tsteel; group 1\n",
        '"name","reference","scheme","scope"\n"Lovelace, Ada","P-1","CWI-2","steel; group 1"\n',
    ],
    ids=["semicolon", "bom-semicolon-any-case", "tab", "quoted-comma"],
)
def test_csv_dialects(text: str) -> None:
    if text.startswith("name;"):  # an unquoted ';' in a cell is a separator there
        rows = list(csv_import.parse(text))
        assert [type(row).__name__ for row in rows] == ["RowError"]
        assert rows[0].message == "more cells than columns"  # type: ignore[union-attr]
        return
    (row,) = csv_import.parse(text)
    assert isinstance(row, csv_import.Row)
    assert (row.name, row.reference, row.scheme, row.scope) == (
        "Lovelace, Ada",
        "P-1",
        "CWI-2",
        "steel; group 1",
    )


def test_the_delimiter_is_the_header_lines() -> None:
    assert csv_import.delimiter("name;reference\n") == ";"
    assert csv_import.delimiter("\ufeffname\treference\n") == "\t"
    assert csv_import.delimiter('"a;b",name,reference\n') == ","
    assert csv_import.delimiter("name\nA;B,C\n") == ","  # one column: comma


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reference;scope\nX;Y\n", "file: the header row must name a 'name' column"),
        (
            "Name;Password\nA;B\n",
            "file: unknown columns ['Password']; known: name, reference, scheme, scope, "
            "number, effective",
        ),
        ("name;NAME\nA;B\n", "file: columns named more than once: name"),
    ],
)
def test_bad_headers_are_refused_whole(text: str, message: str) -> None:
    with pytest.raises(FieldError) as refused:
        list(csv_import.parse(text))
    assert refused.value.message.startswith(message)


def test_an_unnamed_column_must_be_empty() -> None:
    rows = list(csv_import.parse("name;reference;\nAda;P-1;\nGrace;P-2;oops\n"))
    assert isinstance(rows[0], csv_import.Row) and rows[0].reference == "P-1"
    assert rows[1] == csv_import.RowError(
        3, "a cell under a column without a name in the header row"
    )


def test_csv_dates_say_what_to_type() -> None:
    (row,) = csv_import.parse("name;scheme;scope;effective\nAda;CWI-2;steel;01/11/2026\n")
    assert row == csv_import.RowError(
        2,
        "effective: '01/11/2026' is ambiguous (day or month first?): write it as "
        "YYYY-MM-DD, 2026-11-01 or 2026-01-11",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("name\nZoë\n".encode("latin-1"), "file: the file is not UTF-8 text: save it as CSV UTF-8"),
        ("name\nZoë\n".encode("utf-16"), "file: the file is UTF-16 text, not UTF-8: save it"),
    ],
)
def test_other_encodings_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(FieldError) as refused:
        csv_import.decode(data)
    assert refused.value.message.startswith(message)
    assert csv_import.decode(b"\xef\xbb\xbfname\nZo\xc3\xab\n") == "name\nZoë\n"


def test_the_template_parses_and_names_every_column() -> None:
    (row,) = csv_import.parse(csv_import.TEMPLATE)
    assert isinstance(row, csv_import.Row)
    assert csv_import.columns(csv_import.TEMPLATE) == list(csv_import.COLUMNS)
    assert row.scheme == "CWI-2" and row.effective is not None


def test_import_csv_template_prints_it_without_an_instance_or_reason() -> None:
    result = invoke("import-csv", "--template")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == csv_import.TEMPLATE.replace("\r\n", "\n")


def _import(instance: Path, path: Path, *more: str) -> Result:
    return invoke(
        "import-csv", "--instance", str(instance), str(path), "--reason", "yearly import", *more
    )


def test_the_template_imports_one_row_and_a_rerun_nothing(instance: Path, tmp_path: Path) -> None:
    template = tmp_path / "template.csv"
    template.write_text(invoke("import-csv", "--template").stdout, encoding="utf-8")
    first = _import(instance, template, "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["imported"], report["certifications"], report["errors"]) == (1, 1, [])
    again = json.loads(_import(instance, template, "--json").stdout)
    assert (again["imported"], again["alreadyPresent"]) == (0, 1)


def test_an_excel_semicolon_file_with_a_bom_imports(instance: Path, tmp_path: Path) -> None:
    excel = tmp_path / "excel.csv"
    excel.write_bytes(
        "\ufeffName;Reference;Scheme;Scope;Effective\r\n"
        "Édith Piaf;XL-1;CWI-2;VT-2, steel;2026-11-01\r\n"
        "Jacques Brel;XL-2;;;\r\n".encode()
    )
    result = _import(instance, excel, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["imported"], report["persons"], report["certifications"]) == (2, 2, 1)


def test_import_csv_in_another_encoding_is_one_line(instance: Path, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\nZoë\n".encode("latin-1"))
    line = _one_error(_import(instance, latin))
    assert line == (
        f"certvc: error: input_unusable: {latin}: the file is not UTF-8 text: save it as CSV "
        "UTF-8 (Excel: File > Save As > CSV UTF-8)"
    )


def test_import_csv_with_an_unknown_column_lists_the_known_ones(
    instance: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name;password\nAda;x\n")
    line = _one_error(_import(instance, bad))
    assert line == (
        "certvc: error: field_invalid: file: unknown columns ['password']; known: name, "
        "reference, scheme, scope, number, effective, email"
    )


def test_serve_refuses_a_development_instance_on_another_address(tmp_path: Path) -> None:
    """Issue 19, point 1: one instance, one origin. Served on another port than the one it
    was made for, a development instance would issue for an address nobody answers at while
    the CLI and the exports point at the first: refused, naming the commands that fix it."""
    folder = tmp_path / "instance"
    env = {"CERTVC_INSTANCE": str(folder), "CERTVC_DATABASE_URL": None, "CERTVC_PUBLIC_URL": None}
    made = CliRunner().invoke(main, ["init", "--dev"], env=env)
    assert made.exit_code == 0, made.output
    # A real process with a deadline: were it not refused, it would serve until killed.
    served = subprocess.run(
        [sys.executable, "-m", "issuer", "serve", "--port", "8470"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "CERTVC_INSTANCE": str(folder)},
        timeout=60,
    )
    assert served.returncode == 2
    assert served.stderr.strip().splitlines()[-1] == (
        "certvc: error: instance_url_mismatch: this development instance issues for "
        "http://127.0.0.1:8000, not http://127.0.0.1:8470: serve it there (certvc serve "
        "--host 127.0.0.1 --port 8000), or make one for this address (certvc init --dev "
        "--public-url http://127.0.0.1:8470 --instance instance-8470, then "
        "CERTVC_INSTANCE=instance-8470 certvc serve --port 8470)"
    )


def test_an_instance_for_a_public_host_is_served_behind_its_proxy() -> None:
    """A production URL is not where ``serve`` listens (a TLS proxy is in front): no refusal."""
    from issuer.cli.serve_cmd import check_origin

    check_origin(
        "https://certs.acme.example", "http://127.0.0.1:8000", name="issuer", explicit=False
    )
    check_origin("http://127.0.0.1:8000", "http://127.0.0.1:8470", name="verifier", explicit=False)
    check_origin("http://127.0.0.1:8000", "http://127.0.0.1:8470", name="issuer", explicit=True)
