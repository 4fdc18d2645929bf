"""One module per concept; import from here."""

from app.models.appointment import Appointment, AppointmentSource, AppointmentStatus
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.catalogue import LabourOperation, MenuPackage, MenuPackageItem, Part
from app.models.customer import Customer
from app.models.dealership import Dealership
from app.models.login_throttle import LoginThrottle
from app.models.staff import Role, StaffRole, StaffUser
from app.models.vehicle import Vehicle
from app.models.work_order import ON_SITE_STATUSES, WorkOrder, WorkOrderStatus

__all__ = [
    "ON_SITE_STATUSES",
    "Appointment",
    "AppointmentSource",
    "AppointmentStatus",
    "AuditEvent",
    "Base",
    "Customer",
    "Dealership",
    "LabourOperation",
    "LoginThrottle",
    "MenuPackage",
    "MenuPackageItem",
    "Part",
    "Role",
    "StaffRole",
    "StaffUser",
    "Vehicle",
    "WorkOrder",
    "WorkOrderStatus",
]
