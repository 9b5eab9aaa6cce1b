"""Step seconds on task rows: wait, work and duration written at completion, version and practice copied from the case

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NAMES = ("wait", "work", "duration")


def _seconds(dialect: str, start: str, end: str) -> str:
    if dialect == "sqlite":
        return f"(julianday({end}) - julianday({start})) * 86400.0"
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('practice', sa.Boolean(), server_default='0', nullable=False))
        for name in NAMES:
            batch_op.add_column(sa.Column(f'{name}_seconds', sa.Float(), nullable=True))
    # Rows written before this revision: the same values the engine now writes at completion.
    dialect = op.get_bind().dialect.name
    claimed = "coalesce(claimed_at, completed_at)"
    op.execute("UPDATE tasks SET process_version_id = (SELECT c.process_version_id FROM cases c WHERE c.id = tasks.case_id), "
               "practice = (SELECT c.practice FROM cases c WHERE c.id = tasks.case_id)")
    op.execute(f"UPDATE tasks SET wait_seconds = {_seconds(dialect, 'ready_at', claimed)}, "
               f"work_seconds = {_seconds(dialect, claimed, 'completed_at')}, "
               f"duration_seconds = {_seconds(dialect, 'ready_at', 'completed_at')} "
               "WHERE state = 'completed' AND completed_at IS NOT NULL")
    op.create_index('ix_tasks_completed', 'tasks', ['state', 'completed_at', 'process_version_id', 'step_id',
                                                    'practice', 'wait_seconds', 'work_seconds', 'duration_seconds'])
    op.create_index('ix_cases_closed', 'cases', ['status', 'practice', 'process_key', 'closed_at',
                                                 'process_version_id', 'deadline_at'])
    for name in NAMES:
        op.create_index(f'ix_tasks_{name}_order', 'tasks',
                        ['state', 'process_version_id', 'step_id', f'{name}_seconds', 'completed_at', 'practice'])


def downgrade() -> None:
    for name in NAMES:
        op.drop_index(f'ix_tasks_{name}_order', table_name='tasks')
    op.drop_index('ix_cases_closed', table_name='cases')
    op.drop_index('ix_tasks_completed', table_name='tasks')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for name in reversed(NAMES):
            batch_op.drop_column(f'{name}_seconds')
        batch_op.drop_column('practice')
        batch_op.drop_column('process_version_id')
