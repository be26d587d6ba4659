"""plot name keys (case- and Unicode-insensitive uniqueness); who confirmed a diagnosis

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:00:00

* plots.name_key: NFC, invisible format characters removed, spaces collapsed, case-folded; unique.
  Existing plots get their key here. If an existing database already holds two names with the same key
  (`Doi A` and `doi a`), the older keeps the plain key and the newer gets `<key>#<id>`: both stay
  reachable (the second by its exact name or id), and no new look-alike can be added.
* observations.confirmed_by / confirmed_at: the person who confirmed a model result. Rows written before
  this revision were never confirmed by anyone, so they stay NULL (shown as "unconfirmed").
"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _key(name: str) -> str:  # frozen copy of fieldlog.text.name_key as of this revision
    text = unicodedata.normalize("NFC", name)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = re.sub(r"\s+", " ", text).strip()
    return unicodedata.normalize("NFC", text.casefold())


def upgrade() -> None:
    with op.batch_alter_table('plots') as batch:
        batch.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
    conn = op.get_bind()
    plots = sa.table('plots', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('name_key', sa.String))
    seen = set()
    for pid, name in conn.execute(sa.select(plots.c.id, plots.c.name).order_by(plots.c.id)).all():
        key = _key(name)[:190]
        if key in seen:
            key = f"{key}#{pid}"
        seen.add(key)
        conn.execute(plots.update().where(plots.c.id == pid).values(name_key=key))
    with op.batch_alter_table('plots') as batch:
        batch.alter_column('name_key', existing_type=sa.String(length=200), nullable=False)
        batch.create_unique_constraint('uq_plots_name_key', ['name_key'])
    with op.batch_alter_table('observations') as batch:
        batch.add_column(sa.Column('confirmed_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('observations') as batch:
        batch.drop_column('confirmed_at')
        batch.drop_column('confirmed_by')
    with op.batch_alter_table('plots') as batch:
        batch.drop_constraint('uq_plots_name_key', type_='unique')
        batch.drop_column('name_key')
