"""corrections: a person's label for a logged photo, with who, when, the photo's hash and the model version

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 08:30:00

* corrections: one row per correction (the latest is the photo's label); the observation keeps the model's
  answer unchanged. photo_sha256 and model_version are copied from the observation so each row is complete
  provenance on its own (training data exported from corrections carries them).
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('previous_label', sa.String(length=200), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('photo_sha256', sa.String(length=64), nullable=False),
    sa.Column('model_version', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_observation_id'), ['observation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_photo_sha256'), ['photo_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_photo_sha256'))
        batch_op.drop_index(batch_op.f('ix_corrections_observation_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_at'))
    op.drop_table('corrections')
