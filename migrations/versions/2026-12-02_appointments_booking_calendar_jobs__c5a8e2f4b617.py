"""appointments: booking calendar, jobs, history (预约): what was booked, each move and
cancellation, the slot a booking holds (unique, so two tablets cannot both take the last
slot), and the dealership's slot length and day-before reminder time

Revision ID: c5a8e2f4b617
Revises: b7e4a1c9d203
Create Date: 2026-12-02 15:30:18.034833
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "c5a8e2f4b617"
down_revision: str | None = "b7e4a1c9d203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_change",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_label", sa.String(length=80), nullable=False),
        sa.Column(
            "from_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column(
            "to_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("from_advisor_id", sa.Integer(), nullable=True),
        sa.Column("to_advisor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_change_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["staff_user.id"], name=op.f("fk_appointment_change_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["from_advisor_id"],
            ["staff_user.id"],
            name=op.f("fk_appointment_change_from_advisor_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["to_advisor_id"],
            ["staff_user.id"],
            name=op.f("fk_appointment_change_to_advisor_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_change")),
    )
    with op.batch_alter_table("appointment_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_change_appointment_id"), ["appointment_id"], unique=False
        )

    op.create_table(
        "appointment_job",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("menu_package_id", sa.Integer(), nullable=True),
        sa.Column("recommendation_id", sa.Integer(), nullable=True),
        sa.Column("customer_words", sa.Text(), nullable=False),
        sa.Column("labour_hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_job_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["menu_package_id"],
            ["menu_package.id"],
            name=op.f("fk_appointment_job_menu_package_id_menu_package"),
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_appointment_job_recommendation_id_recommendation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_job")),
    )
    with op.batch_alter_table("appointment_job", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_job_appointment_id"), ["appointment_id"], unique=False
        )

    op.create_table(
        "appointment_line",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("labour_operation_id", sa.Integer(), nullable=True),
        sa.Column("part_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["appointment_job.id"],
            name=op.f("fk_appointment_line_job_id_appointment_job"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["labour_operation_id"],
            ["labour_operation.id"],
            name=op.f("fk_appointment_line_labour_operation_id_labour_operation"),
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["part.id"], name=op.f("fk_appointment_line_part_id_part")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_line")),
    )
    with op.batch_alter_table("appointment_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_line_job_id"), ["job_id"], unique=False)

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="phone")
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("slot_key", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column(
                "labour_hours", sa.Numeric(precision=6, scale=2), nullable=False, server_default="0"
            )
        )
        batch_op.add_column(
            sa.Column(
                "estimate_amount",
                sa.Numeric(precision=10, scale=2),
                nullable=False,
                server_default="0",
            )
        )
        batch_op.add_column(
            sa.Column("bring", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("odometer_km", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("external_ref", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cancelled_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("cancel_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "no_show_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "confirmed_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "reminded_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_appointment_external_ref"), ["external_ref"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_appointment_slot_key"), ["slot_key"])
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_created_by_id_staff_user"),
            "staff_user",
            ["created_by_id"],
            ["id"],
        )

    with op.batch_alter_table("dealership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("appointment_slot_minutes", sa.Integer(), nullable=False, server_default="30")
        )
        batch_op.add_column(
            sa.Column(
                "appointment_reminder_at",
                sa.String(length=5),
                nullable=False,
                server_default="17:00",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("dealership", schema=None) as batch_op:
        batch_op.drop_column("appointment_reminder_at")
        batch_op.drop_column("appointment_slot_minutes")

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_created_by_id_staff_user"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_appointment_slot_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_appointment_external_ref"), type_="unique")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("no_show_at")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("external_ref")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("odometer_km")
        batch_op.drop_column("bring")
        batch_op.drop_column("estimate_amount")
        batch_op.drop_column("labour_hours")
        batch_op.drop_column("slot_key")
        batch_op.drop_column("version")
        batch_op.drop_column("channel")

    with op.batch_alter_table("appointment_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_line_job_id"))

    op.drop_table("appointment_line")
    with op.batch_alter_table("appointment_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_job_appointment_id"))

    op.drop_table("appointment_job")
    with op.batch_alter_table("appointment_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_change_appointment_id"))

    op.drop_table("appointment_change")
