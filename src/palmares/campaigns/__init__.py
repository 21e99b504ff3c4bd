"""Campaign services: campaigns as code, people and tokens, submissions under atomic quotas."""

from palmares.campaigns.accounts import (
    WebSession,
    check_password,
    log_in,
    log_out,
    session_of,
    set_password,
    sign_up,
)
from palmares.campaigns.artifacts import Artifacts
from palmares.campaigns.audit import Verdict, record, verify
from palmares.campaigns.invitations import (
    admit,
    create_invitations,
    server_signup_mode,
    set_signup_mode,
    signup_mode,
)
from palmares.campaigns.jobs import claim, heartbeat
from palmares.campaigns.leaderboard import leaderboard, public_board_withheld
from palmares.campaigns.operations import (
    ORGANISERS,
    create_campaign_from_text,
    require_organiser,
    rescore,
    update_phase,
)
from palmares.campaigns.participation import (
    create_system,
    decide_registration,
    register,
    registrations,
    task_data,
)
from palmares.campaigns.progress import progress
from palmares.campaigns.quotas import QuotaExceeded, reserve
from palmares.campaigns.service import (
    ROLES,
    STAFF,
    Forbidden,
    add_user,
    authenticate,
    create_campaign,
    is_registered,
    is_staff,
    load_campaign_spec,
    registration_status,
    submit_endpoint,
    submit_model_file,
    submit_predictions,
)
from palmares.campaigns.snapshots import freeze_ended, publish, snapshots
from palmares.campaigns.spec import (
    CampaignSpec,
    PhaseSpec,
    QuotaSpec,
    RegistrationStatus,
    SignupMode,
    TaskEntry,
)
from palmares.campaigns.worker import run_forever, run_one

__all__ = [
    "ORGANISERS",
    "ROLES",
    "STAFF",
    "Artifacts",
    "CampaignSpec",
    "Forbidden",
    "PhaseSpec",
    "QuotaExceeded",
    "QuotaSpec",
    "RegistrationStatus",
    "SignupMode",
    "TaskEntry",
    "Verdict",
    "WebSession",
    "add_user",
    "admit",
    "authenticate",
    "check_password",
    "claim",
    "create_campaign",
    "create_campaign_from_text",
    "create_invitations",
    "create_system",
    "decide_registration",
    "freeze_ended",
    "heartbeat",
    "is_registered",
    "is_staff",
    "leaderboard",
    "load_campaign_spec",
    "log_in",
    "log_out",
    "progress",
    "public_board_withheld",
    "publish",
    "record",
    "register",
    "registration_status",
    "registrations",
    "require_organiser",
    "rescore",
    "reserve",
    "run_forever",
    "run_one",
    "server_signup_mode",
    "session_of",
    "set_password",
    "set_signup_mode",
    "sign_up",
    "signup_mode",
    "snapshots",
    "submit_endpoint",
    "submit_model_file",
    "submit_predictions",
    "task_data",
    "update_phase",
    "verify",
]
