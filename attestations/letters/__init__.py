"""Letters with a one-time code: postcode proof and voting on paper (`kluis letters`,
`/letters/redeem`, `POST /letters/votes`)."""

from attestations.letters import models
from attestations.letters.admin import forget_letters, letters_status, revoke_batch, revoke_code
from attestations.letters.cli import letters_cli
from attestations.letters.config import LettersConfig, letters_config
from attestations.letters.service import generate_letters, redeem_letter
from attestations.letters.votes import paper_vote

__all__ = [
    "LettersConfig",
    "forget_letters",
    "generate_letters",
    "letters_cli",
    "letters_config",
    "letters_status",
    "models",
    "paper_vote",
    "redeem_letter",
    "revoke_batch",
    "revoke_code",
]
