"""Password hashing with argon2id (argon2-cffi's defaults track the current recommendation) and the policy
every new password meets (等保 2.0 level 3, 身份鉴别: complexity, no reuse).

The policy applies when a password is *set* (by its owner or by an administrator), never at sign-in: an
old password that predates a rule still signs in, and an initial one must then be changed
(``User.must_change_password``). Each rule has its own code, so a page and the API name the rule broken.

Each argon2 hash or verification takes the hasher's memory cost (64 MiB with argon2-cffi's defaults, RFC 9106's
low-memory profile) for as long as it runs, and returns it at once. A web process's peak is therefore its
resident set plus 64 MiB per sign-in running at the same moment: on a province that was the difference
between 191 MB resident and a 211 MB peak (issue 19). One hash at a time per process bounds it to one
64 MiB block whatever the number of threads (gunicorn's gthread workers): two sign-ins at once in one
process queue for a fraction of a second instead of sharing the cores.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_one_at_a_time = threading.Lock()  # one memory_cost block per process (see above)

MAX_LENGTH = 1024  # argon2 takes any length; this only bounds the work a request can ask for

# Rule codes, as ValidationError.fields["password"] carries them.
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
TOO_FEW_CLASSES = "too_few_classes"
CONTAINS_USERNAME = "contains_username"
RECENTLY_USED = "recently_used"


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules a new password meets: ``min_length`` characters, ``classes`` of the four character
    classes (lower case, upper case, digits, others: CJK and punctuation count as others), not containing
    the username, and none of the last ``history`` passwords."""

    min_length: int = 12
    classes: int = 3
    history: int = 5


def hash_password(password: str) -> str:
    with _one_at_a_time:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        with _one_at_a_time:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return lower + upper + digit + other


def policy_problem(
    password: str, *, username: str, policy: PasswordPolicy, recent_hashes: Iterable[str] = ()
) -> str | None:
    """The code of the first rule ``password`` breaks, or None. ``recent_hashes`` are the person's last
    passwords (current first); each costs one argon2 verification, so they are checked last."""
    if len(password) < policy.min_length:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if character_classes(password) < policy.classes:
        return TOO_FEW_CLASSES
    if username and username.strip().casefold() in password.casefold():
        return CONTAINS_USERNAME
    if any(verify_password(h, password) for h in list(recent_hashes)[: policy.history]):
        return RECENTLY_USED
    return None
