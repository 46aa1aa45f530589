"""``certvc keys report [KEY_ID]``: what each of the instance's keys signed.

Read only, and no passphrase needed: the key ring's index names the keys, the database says
what carries their signatures (:mod:`issuer.services.key_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..services import key_report
from ..services.instance import KEYS_DIR
from ..services.keyring import Keyring
from .common import now
from .opened import (
    OpenedInstance,
    echo_result,
    instance_option,
    json_option,
    reports_instance_errors,
)
from .reading import read_session


def _day(stamp: str | None) -> str:
    return stamp[:10] if stamp else "-"


def _text(data: dict[str, Any]) -> str:
    counts = data["credentials"]
    lists = ", ".join(f"{s['id']} ({s['purpose']} #{s['sequence']})" for s in data["statusLists"])
    lines = [
        f"{data['keyId']} ({data['type'] or '?'}, {data['status']}; created "
        f"{_day(data['created'])}, retired {_day(data['retired'])})",
        "  credentials: "
        + ", ".join(f"{state} {counts[state]}" for state in key_report.STATES)
        + f" (total {counts['total']}); wallet copies {data['walletCopies']}; "
        f"secured the other way {data['alternateSecurings']}",
        f"  signed from {_day(data['firstSigned'])} to {_day(data['lastSigned'])}",
        f"  status lists it signed: {lists or 'none'}",
        f"  certifications to reissue: {data['certificationsToReissue']}",
    ]
    for row in data.get("certifications", ()):
        lines.append(f"    {row['number']} ({row['state']}, expires {_day(row['expires'])})")
    return "\n".join(lines)


@click.command("report")
@instance_option
@click.argument("key", metavar="[KEY_ID]", required=False)
@json_option
@reports_instance_errors
def keys_report(instance_dir: Path, key: str | None, as_json: bool) -> None:
    """What each key (active and retired) signed: credentials by state, wallet copies, status
    lists, first and last dates. With KEY_ID (the full id or its fragment, e.g. ed25519-1):
    also the certifications whose current credential it signed and that still hold, the ones
    to reissue if the key is compromised."""
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        settings = opened.settings
        ring = Keyring(
            opened.folder / KEYS_DIR,
            settings.did,
            None,
            allow_plaintext=settings.dev_mode,
            now=moment,
        )
        with read_session(opened) as session:
            uses = key_report.report(session, ring.records(), now=moment)
            if key is None:
                data: dict[str, Any] = {"keys": [u.to_json() for u in uses]}
                text = "\n".join(_text(u) for u in data["keys"])
            else:
                chosen = key_report.find(uses, key)
                data = {
                    **chosen.to_json(),
                    "certifications": list(
                        key_report.certifications_to_reissue(session, chosen.key_id, now=moment)
                    ),
                }
                text = _text(data)
    echo_result(as_json, data, text)
