"""rights"""

from rights import models
from rights.erasure_cli import delete_account, erasure_cli
from rights.erasure_replay import ReplayReport, reapply_tombstones
from rights.lifecycle import refresh_erasure_states
from rights.routers import ROUTERS
from rights.signals import DELIVERY_KIND, render_security_event
from rights.tombstones import JournalError, Tombstone, TombstoneJournal, merged
from rights.vouching_cli import vouching_cli
from rights.vouching_mail import send_owed_mails
from rights.vouching_signals import VouchingSignals, settle_vouching

__all__ = [
    "DELIVERY_KIND",
    "ROUTERS",
    "JournalError",
    "ReplayReport",
    "Tombstone",
    "TombstoneJournal",
    "VouchingSignals",
    "delete_account",
    "erasure_cli",
    "merged",
    "models",
    "reapply_tombstones",
    "refresh_erasure_states",
    "render_security_event",
    "send_owed_mails",
    "settle_vouching",
    "vouching_cli",
]
