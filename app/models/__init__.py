"""One module per concept; import from here."""

from app.models.api_client import ApiClient
from app.models.appointment import (
    BRING_ITEMS,
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentChannel,
    AppointmentJob,
    AppointmentJobSource,
    AppointmentLine,
    AppointmentSource,
    AppointmentStatus,
)
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.board import BoardTarget
from app.models.catalogue import LabourOperation, MenuPackage, MenuPackageItem, Part
from app.models.check_in import (
    REQUIRED_COVERS,
    STEPS,
    Belonging,
    CheckIn,
    CheckInChange,
    Concern,
    CoverInstall,
    CoverKind,
    DamageKind,
    DamageMark,
    DiagramView,
    Step,
    StepTiming,
)
from app.models.complaint import (
    Complaint,
    ComplaintCause,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintOrder,
    ComplaintSeverity,
    ComplaintStep,
    CorrectiveAction,
    Responsibility,
)
from app.models.customer import Customer
from app.models.dealership import Dealership
from app.models.delivery import Delivery, NewDamage
from app.models.estimate import Job, JobLine, JobSource, LineKind
from app.models.final_check import Inspection
from app.models.follow_up import (
    Answer,
    AttemptOutcome,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    RecordVerdict,
)
from app.models.health_check import (
    ChecklistItem,
    HealthCheck,
    HealthCheckResult,
    HealthColour,
    HealthGroup,
    VehicleType,
)
from app.models.login_throttle import LoginThrottle, ThrottleKind
from app.models.outbox import OutboundMessage, WebhookEvent
from app.models.photo import Photo, PhotoPosition, PhotoStage
from app.models.recommendation import Recommendation
from app.models.reminder import ReminderAction, ReminderContact, ReminderKind
from app.models.signature import Signature, SignatureKind
from app.models.staff import Role, StaffRole, StaffUser
from app.models.staff_session import StaffSession
from app.models.supplement import UNANSWERED, Supplement, SupplementStatus
from app.models.vehicle import Vehicle
from app.models.work_order import ON_SITE_STATUSES, WorkOrder, WorkOrderStatus
from app.models.workshop import CheckTick, JobTask, PromiseChange, TaskStatus, TimeEntry

__all__ = [
    "BRING_ITEMS",
    "ON_SITE_STATUSES",
    "REQUIRED_COVERS",
    "STEPS",
    "UNANSWERED",
    "Answer",
    "ApiClient",
    "Appointment",
    "AppointmentChange",
    "AppointmentChangeKind",
    "AppointmentChannel",
    "AppointmentJob",
    "AppointmentJobSource",
    "AppointmentLine",
    "AppointmentSource",
    "AppointmentStatus",
    "AttemptOutcome",
    "AuditEvent",
    "Base",
    "Belonging",
    "BoardTarget",
    "CheckIn",
    "CheckInChange",
    "CheckTick",
    "ChecklistItem",
    "Complaint",
    "ComplaintCause",
    "ComplaintChannel",
    "ComplaintEvent",
    "ComplaintOrder",
    "ComplaintSeverity",
    "ComplaintStep",
    "Concern",
    "CorrectiveAction",
    "CoverInstall",
    "CoverKind",
    "Customer",
    "DamageKind",
    "DamageMark",
    "Dealership",
    "Delivery",
    "DiagramView",
    "FollowUpAnswer",
    "FollowUpAttempt",
    "FollowUpReason",
    "FollowUpStatus",
    "FollowUpTask",
    "HealthCheck",
    "HealthCheckResult",
    "HealthColour",
    "HealthGroup",
    "Inspection",
    "Job",
    "JobLine",
    "JobSource",
    "JobTask",
    "LabourOperation",
    "LineKind",
    "LoginThrottle",
    "MenuPackage",
    "MenuPackageItem",
    "NewDamage",
    "OutboundMessage",
    "Part",
    "Photo",
    "PhotoPosition",
    "PhotoStage",
    "PromiseChange",
    "Recommendation",
    "RecordVerdict",
    "ReminderAction",
    "ReminderContact",
    "ReminderKind",
    "Responsibility",
    "Role",
    "Signature",
    "SignatureKind",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Step",
    "StepTiming",
    "Supplement",
    "SupplementStatus",
    "TaskStatus",
    "ThrottleKind",
    "TimeEntry",
    "Vehicle",
    "VehicleType",
    "WebhookEvent",
    "WorkOrder",
    "WorkOrderStatus",
]
