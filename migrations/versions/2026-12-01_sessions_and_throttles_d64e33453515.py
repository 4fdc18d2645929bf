"""sessions and throttles: server-side staff sessions, sign-in throttled per address too

Revision ID: d64e33453515
Revises: ef2768e388f7
Create Date: 2026-12-01 14:27:35.265478
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "d64e33453515"
down_revision: str | None = "ef2768e388f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column(
            "expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("customer_mode_order_id", sa.Integer(), nullable=True),
        sa.Column("customer_locale", sa.String(length=10), nullable=True),
        sa.Column("exit_failures", sa.Integer(), nullable=False),
        sa.Column(
            "exit_first_failure_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "exit_locked_until",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_mode_order_id"],
            ["work_order.id"],
            name=op.f("fk_staff_session_customer_mode_order_id_work_order"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_session_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_staff_session_key_hash")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_session_customer_mode_order_id"),
            ["customer_mode_order_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_staff_session_device_id"), ["device_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staff_session_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_staff_session_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_constraint("uq_login_throttle_username", type_="unique")
        batch_op.alter_column(
            "username",
            new_column_name="subject",
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="user")
        )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", server_default=None, existing_type=sa.String(length=16), existing_nullable=False
        )
        batch_op.create_unique_constraint("uq_login_throttle_kind", ["kind", "subject"])


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle WHERE kind <> 'user'")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_constraint("uq_login_throttle_kind", type_="unique")
        batch_op.drop_column("kind")
        batch_op.alter_column(
            "subject",
            new_column_name="username",
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_login_throttle_username", ["username"])

    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_staff_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_staff_session_device_id"))
        batch_op.drop_index(batch_op.f("ix_staff_session_customer_mode_order_id"))
    op.drop_table("staff_session")
