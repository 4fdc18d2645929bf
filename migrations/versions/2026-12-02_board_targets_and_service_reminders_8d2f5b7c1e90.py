"""board targets and service reminders: the manager's 看板 targets per month, the
reminder contacts (客户关怀), the vehicle's inspection and insurance dates and the
customer's opt-out, and the dealership's bill tolerance, summary time and km a year

Revision ID: 8d2f5b7c1e90
Revises: 3f6c2a9d8e14
Create Date: 2026-12-02 10:50:26
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "8d2f5b7c1e90"
down_revision: str | None = "3f6c2a9d8e14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "board_target",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["staff_user.id"], name=op.f("fk_board_target_set_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_target")),
        sa.UniqueConstraint("month", "code", name=op.f("uq_board_target_month")),
    )
    op.create_table(
        "reminder_contact",
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("snooze_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_reminder_contact_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["staff_user.id"], name=op.f("fk_reminder_contact_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_reminder_contact_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbound_message.id"],
            name=op.f("fk_reminder_contact_message_id_outbound_message"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_reminder_contact_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_contact")),
    )
    with op.batch_alter_table("reminder_contact") as batch:
        batch.create_index(batch.f("ix_reminder_contact_at"), ["at"], unique=False)
        batch.create_index(batch.f("ix_reminder_contact_customer_id"), ["customer_id"])
        batch.create_index(batch.f("ix_reminder_contact_vehicle_id"), ["vehicle_id"])
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("reminders_opt_out_at", UTC_TIME, nullable=True))
        batch.add_column(
            sa.Column(
                "reminders_opt_out_reason", sa.Text(), nullable=False, server_default=sa.text("''")
            )
        )
    with op.batch_alter_table("dealership") as batch:
        batch.add_column(
            sa.Column(
                "bill_tolerance_percent",
                sa.Numeric(precision=5, scale=2),
                nullable=False,
                server_default=sa.text("'5'"),
            )
        )
        batch.add_column(
            sa.Column(
                "daily_summary_at",
                sa.String(length=5),
                nullable=False,
                server_default=sa.text("'18:30'"),
            )
        )
        for name, default in (
            ("km_per_year", "15000"),
            ("reminder_days_ahead", "30"),
            ("reminder_km_ahead", "1000"),
        ):
            batch.add_column(
                sa.Column(
                    name, sa.Integer(), nullable=False, server_default=sa.text(f"'{default}'")
                )
            )
    with op.batch_alter_table("vehicle") as batch:
        batch.add_column(sa.Column("inspection_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("insurance_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("sold_at", UTC_TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vehicle") as batch:
        batch.drop_column("sold_at")
        batch.drop_column("insurance_due_on")
        batch.drop_column("inspection_due_on")
    with op.batch_alter_table("dealership") as batch:
        for name in (
            "reminder_km_ahead",
            "reminder_days_ahead",
            "km_per_year",
            "daily_summary_at",
            "bill_tolerance_percent",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("reminders_opt_out_reason")
        batch.drop_column("reminders_opt_out_at")
    with op.batch_alter_table("reminder_contact") as batch:
        batch.drop_index(batch.f("ix_reminder_contact_vehicle_id"))
        batch.drop_index(batch.f("ix_reminder_contact_customer_id"))
        batch.drop_index(batch.f("ix_reminder_contact_at"))
    op.drop_table("reminder_contact")
    op.drop_table("board_target")
