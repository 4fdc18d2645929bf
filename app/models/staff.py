from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, CreatedMixin, IdMixin


class Role(enum.StrEnum):
    ADVISOR = "advisor"
    TECHNICIAN = "technician"
    FOREMAN = "foreman"
    QC_INSPECTOR = "qc_inspector"
    CUSTOMER_RELATIONS = "customer_relations"
    SERVICE_MANAGER = "service_manager"
    ADMIN = "admin"


class StaffUser(IdMixin, CreatedMixin, Base):
    __tablename__ = "staff_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    # Where alerts reach them away from the screen (a serious complaint: the manager).
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Every session records it at sign-in; bumping it ends all of the user's sessions.
    session_version: Mapped[int] = mapped_column(default=1)
    last_sign_in_at: Mapped[datetime | None]

    role_rows: Mapped[list[StaffRole]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_any_role(self, *roles: Role) -> bool:
        # Admin is a role like the others (staff, catalogue), not a master key:
        # the QC final check and the customer's signatures need the actual role.
        return bool(self.roles.intersection(roles))


class StaffRole(Base):
    __tablename__ = "staff_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        primary_key=True,
    )
    user: Mapped[StaffUser] = relationship(back_populates="role_rows", lazy="raise")
