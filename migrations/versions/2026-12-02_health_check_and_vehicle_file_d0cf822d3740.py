"""health check (健康车检) and the vehicle's file (一车一档): the manager's checklist per
vehicle type (seeded with the standard items and their limits), each car's check item by
item, photos of an item, and the vehicle's type

Revision ID: d0cf822d3740
Revises: c5a8e2f4b617
Create Date: 2026-12-02 19:01:28.343811
"""

from collections.abc import Sequence
from decimal import Decimal

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "d0cf822d3740"
down_revision: str | None = "c5a8e2f4b617"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The standard list (key, group, zh, en, safety, unit, physical min/max, red_below,
# yellow_below, yellow_above, red_above, labour code, part code, part quantity).
# Tread: the legal minimum is 1.6 mm; pads: 3 mm is the wear limit.
_N = None
ITEMS = [
    ("tread_fl", "tyres", "左前轮胎花纹深度", "Tread depth, front left", True, "mm", 0, 20, "1.6", "3", _N, _N, "L-TYRE", "P-TYRE", 1),
    ("tread_fr", "tyres", "右前轮胎花纹深度", "Tread depth, front right", True, "mm", 0, 20, "1.6", "3", _N, _N, "L-TYRE", "P-TYRE", 1),
    ("tread_rl", "tyres", "左后轮胎花纹深度", "Tread depth, rear left", True, "mm", 0, 20, "1.6", "3", _N, _N, "L-TYRE", "P-TYRE", 1),
    ("tread_rr", "tyres", "右后轮胎花纹深度", "Tread depth, rear right", True, "mm", 0, 20, "1.6", "3", _N, _N, "L-TYRE", "P-TYRE", 1),
    ("tyre_pressure", "tyres", "轮胎气压", "Tyre pressure", True, "kPa", 0, 600, "150", "200", "300", "350", _N, _N, _N),
    ("tyre_age", "tyres", "轮胎使用年限", "Tyre age", True, "months", 0, 360, _N, _N, "60", "72", "L-TYRE", "P-TYRE", 4),
    ("pads_front", "brakes", "前制动片厚度", "Brake pads, front", True, "mm", 0, 30, "3", "5", _N, _N, "L-BRKF", "P-BRKF", 1),
    ("pads_rear", "brakes", "后制动片厚度", "Brake pads, rear", True, "mm", 0, 30, "3", "5", _N, _N, "L-BRKR", "P-BRKR", 1),
    ("disc_front", "brakes", "前制动盘厚度", "Brake discs, front", True, "mm", 0, 60, _N, _N, _N, _N, _N, _N, _N),
    ("disc_rear", "brakes", "后制动盘厚度", "Brake discs, rear", True, "mm", 0, 60, _N, _N, _N, _N, _N, _N, _N),
    ("engine_oil", "fluids", "机油液位及品质", "Engine oil level and condition", False, _N, _N, _N, _N, _N, _N, _N, "L-OIL", "P-OIL4", 1),
    ("coolant", "fluids", "冷却液", "Coolant", False, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("brake_fluid", "fluids", "制动液含水量", "Brake fluid water content", True, "%", 0, 10, _N, _N, "2", "3", "L-BFL", "P-BFL", 1),
    ("washer", "fluids", "玻璃清洗液", "Washer fluid", False, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("battery", "battery", "蓄电池检测（健康度）", "Battery test (state of health)", False, "%", 0, 100, "50", "70", _N, _N, "L-BATT", "P-BATT", 1),
    ("lights", "lights", "灯光", "Lights", True, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("wipers", "wipers", "雨刮片", "Wiper blades", False, _N, _N, _N, _N, _N, _N, _N, _N, "P-WIPER", 1),
    ("drive_belt", "belts", "传动皮带", "Drive belt", False, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("leaks", "leaks", "渗漏检查", "Leaks", False, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("underbody", "underbody", "底盘", "Underbody", False, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("suspension", "suspension", "悬架及减震器", "Suspension and shock absorbers", True, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
    ("exhaust", "exhaust", "排气系统", "Exhaust", False, _N, _N, _N, _N, _N, _N, _N, _N, _N, _N),
]  # fmt: skip
# An electric car has no engine oil, drive belt or exhaust.
NOT_ON_EV = {"engine_oil", "drive_belt", "exhaust"}


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _seed() -> None:
    numbers = ("physical_min", "physical_max", "red_below", "yellow_below", "yellow_above",
               "red_above", "part_quantity")  # fmt: skip
    texts = ("vehicle_type", "key", "group", "label_zh", "label_en", "unit", "labour_code",
             "part_code")  # fmt: skip
    table = sa.table(
        "health_checklist_item",
        sa.column("position", sa.Integer()),
        sa.column("safety", sa.Boolean()),
        sa.column("active", sa.Boolean()),
        *(sa.column(name, sa.Numeric(8, 2)) for name in numbers),
        *(sa.column(name, sa.String()) for name in texts),
    )
    rows = []
    for vehicle_type in ("car", "suv", "ev"):
        for position, item in enumerate(ITEMS):
            key, group, zh, en, safety, unit, pmin, pmax, rb, yb, ya, ra, lab, part, qty = item
            if vehicle_type == "ev" and key in NOT_ON_EV:
                continue
            rows.append({
                "vehicle_type": vehicle_type, "key": key, "group": group,
                "position": position * 10, "label_zh": zh, "label_en": en, "safety": safety,
                "unit": unit, "physical_min": _dec(pmin), "physical_max": _dec(pmax),
                "red_below": _dec(rb), "yellow_below": _dec(yb), "yellow_above": _dec(ya),
                "red_above": _dec(ra), "labour_code": lab, "part_code": part,
                "part_quantity": _dec(qty), "active": True,
            })  # fmt: skip
    op.bulk_insert(table, rows)


def upgrade() -> None:
    op.create_table(
        "health_checklist_item",
        sa.Column("vehicle_type", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_zh", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("safety", sa.Boolean(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("physical_min", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("physical_max", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("red_below", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("yellow_below", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("yellow_above", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("red_above", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("labour_code", sa.String(length=40), nullable=True),
        sa.Column("part_code", sa.String(length=40), nullable=True),
        sa.Column("part_quantity", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_checklist_item")),
        sa.UniqueConstraint(
            "vehicle_type", "key", name=op.f("uq_health_checklist_item_vehicle_type")
        ),
    )

    op.create_table(
        "health_check",
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_type", sa.String(length=16), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("odometer_km", sa.Integer(), nullable=True),
        sa.Column(
            "completed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "sent_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("sent_channel", sa.String(length=16), nullable=True),
        sa.Column(
            "decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "token_expires_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "token_used_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"],
            ["staff_user.id"],
            name=op.f("fk_health_check_completed_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["staff_user.id"],
            name=op.f("fk_health_check_started_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.id"], name=op.f("fk_health_check_vehicle_id_vehicle")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
            name=op.f("fk_health_check_work_order_id_work_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_health_check_token_hash")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_health_check_work_order_id")),
    )

    with op.batch_alter_table("health_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_check_vehicle_id"), ["vehicle_id"], unique=False
        )

    op.create_table(
        "health_check_result",
        sa.Column("health_check_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_zh", sa.String(length=120), nullable=False),
        sa.Column("label_en", sa.String(length=120), nullable=False),
        sa.Column("safety", sa.Boolean(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("colour", sa.String(length=16), nullable=False),
        sa.Column("proposed_colour", sa.String(length=16), nullable=True),
        sa.Column("measurement", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "checked_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("supplement_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["staff_user.id"],
            name=op.f("fk_health_check_result_checked_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["health_check_id"],
            ["health_check.id"],
            name=op.f("fk_health_check_result_health_check_id_health_check"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["health_checklist_item.id"],
            name=op.f("fk_health_check_result_item_id_health_checklist_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["supplement_id"],
            ["supplement.id"],
            name=op.f("fk_health_check_result_supplement_id_supplement"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check_result")),
        sa.UniqueConstraint(
            "health_check_id", "key", name=op.f("uq_health_check_result_health_check_id")
        ),
    )

    with op.batch_alter_table("health_check_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_check_result_health_check_id"), ["health_check_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_health_check_result_supplement_id"), ["supplement_id"], unique=False
        )

    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health_check_result_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_photo_health_check_result_id"), ["health_check_result_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_photo_health_check_result_id_health_check_result"),
            "health_check_result",
            ["health_check_result_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vehicle_type", sa.String(length=16), server_default="car", nullable=False)
        )
    _seed()


def downgrade() -> None:
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_column("vehicle_type")
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_photo_health_check_result_id_health_check_result"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_photo_health_check_result_id"))
        batch_op.drop_column("health_check_result_id")
    op.drop_table("health_check_result")
    op.drop_table("health_check")
    op.drop_table("health_checklist_item")
