"""Campaign services: campaigns as code, people and tokens, submissions under atomic quotas."""

from palmares.campaigns.artifacts import Artifacts
from palmares.campaigns.audit import Verdict, record, verify
from palmares.campaigns.jobs import claim, heartbeat
from palmares.campaigns.leaderboard import leaderboard, public_board_withheld
from palmares.campaigns.participation import create_system, register, task_data
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
    submit_endpoint,
    submit_model_file,
    submit_predictions,
)
from palmares.campaigns.snapshots import freeze_ended, publish, snapshots
from palmares.campaigns.spec import CampaignSpec, PhaseSpec, QuotaSpec, TaskEntry
from palmares.campaigns.worker import run_forever, run_one

__all__ = [
    "ROLES",
    "STAFF",
    "Artifacts",
    "CampaignSpec",
    "Forbidden",
    "PhaseSpec",
    "QuotaExceeded",
    "QuotaSpec",
    "TaskEntry",
    "Verdict",
    "add_user",
    "authenticate",
    "claim",
    "create_campaign",
    "create_system",
    "freeze_ended",
    "heartbeat",
    "is_registered",
    "is_staff",
    "leaderboard",
    "load_campaign_spec",
    "progress",
    "public_board_withheld",
    "publish",
    "record",
    "register",
    "reserve",
    "run_forever",
    "run_one",
    "snapshots",
    "submit_endpoint",
    "submit_model_file",
    "submit_predictions",
    "task_data",
    "verify",
]
