"""The policy file."""

from __future__ import annotations

from pathlib import Path

from trimtab.loaders.files import read_document
from trimtab.loaders.validation import validate
from trimtab.policy.config import Policy


def load_policy(path: Path | str) -> Policy:
    """Read and validate a policy file; raises BadInputError naming file and field."""
    document = read_document(path)
    return validate(Policy, document, Path(path).name)
