"""audit"""

from audit import models
from audit.cli import audit_cli
from audit.log import AuditLog, checkpoint_signer, export_entries
from audit.merkle import MerkleError
from audit.models import AuditCheckpoint, AuditEntry
from audit.record import Pending, record, record_if, record_many

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "AuditLog",
    "MerkleError",
    "Pending",
    "audit_cli",
    "checkpoint_signer",
    "export_entries",
    "models",
    "record",
    "record_if",
    "record_many",
]
