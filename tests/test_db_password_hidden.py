"""A cooperative's field log on a PostgreSQL server is named with its password in the URL (`--db
postgresql://u:PASS@host/db`). A refusal must never print the password, in any language: the Vietnamese refusal of a
`log` command printed the URL as typed (the English one hid it)."""
from __future__ import annotations

import pytest

from leafscout.cli import main
from leafscout.safety import shown_db


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("password", ["s3cret", "s3/cr:et"])
def test_a_log_refusal_hides_the_database_password(capsys, lang, password):
    url = f"postgresql://u:{password}@127.0.0.1:1/db"
    rc = main(["log", "plots", "--db", url, "--lang", lang])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip(), err
    assert password not in err and "s3" not in err, err


def test_shown_db_hides_only_the_password():
    assert shown_db("postgresql://u:s3/cr:et@host:5432/db") == "postgresql://u:***@host:5432/db"
    assert shown_db("postgresql://host/db") == "postgresql://host/db"
    assert shown_db("/media/usb/Sổ HTX/fieldlog.sqlite") == "/media/usb/Sổ HTX/fieldlog.sqlite"
