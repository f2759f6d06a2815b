"""三员分立 (等保 2.0 level 3): three administrators, none of whom reads case content.

- the **system administrator** (系统管理员) keeps the organisation, the accounts (create, disable, reset a
  password), the working-day calendar, and designs processes; he grants no role and reads no case;
- the **security administrator** (安全管理员) grants and revokes roles and the reveal rights that come with
  some of them, never to himself, and reads no case;
- the **audit administrator** (审计管理员) reads the audit trail and nothing else.

The kind is one column of the account (``User.admin_kind``), not a role held in a unit: roles are what the
security administrator grants, so an administrator's powers must not be grantable the same way, and one
column makes "at most one of the three" hold by construction. An administrator account holds no working
role either (``require_holds_no_role``), so no grant can put a case in front of him. The engine's own
principal (``SYSTEM``: the worker, the console's bootstrap) is none of them and keeps its powers.

Each refusal names its rule (the ``reason`` below), which ``engine.access.denials`` keeps in the
``access_denied`` event.
"""

from __future__ import annotations

from engine.access.principal import Principal
from engine.errors import Forbidden

SYSTEM_ADMIN = "system"
SECURITY_ADMIN = "security"
AUDIT_ADMIN = "audit"
ADMIN_KINDS = (SYSTEM_ADMIN, SECURITY_ADMIN, AUDIT_ADMIN)

# Rule names, as the ``access_denied`` event records them.
SYSTEM_ADMIN_ONLY = "sanyuan_system_admin_only"
SECURITY_ADMIN_ONLY = "sanyuan_security_admin_only"
AUDIT_ADMIN_ONLY = "sanyuan_audit_admin_only"
ORGANISATION_ADMINS_ONLY = "sanyuan_organisation_admins_only"
NOT_TO_ONESELF = "sanyuan_not_to_oneself"
ADMIN_HOLDS_NO_ROLE = "sanyuan_admin_holds_no_role"
ADMIN_PASSWORD_AT_CONSOLE = "sanyuan_admin_password_at_console"  # noqa: S105 - a rule name, not a password
OWN_REQUEST = "sanyuan_own_request"
OWN_GRANT = "sanyuan_own_grant"
NOT_AN_APPROVER = "sanyuan_not_an_approver"
APPROVALS_ONLY = "sanyuan_approvals_only"
# Any other refusal of an administrator (a case page, the cockpit, a task): he acted outside his duties.
OUTSIDE_DUTIES = "sanyuan_outside_duties"

# Who besides another security administrator may approve a reveal-role grant: the commission's
# secretary (纪委书记), who answers for who may know a reporter's identity.
REVEAL_APPROVER_ROLES = frozenset({"commission_secretary"})


def _refuse(message: str, rule: str, principal: Principal) -> Forbidden:
    return Forbidden(message, reason=rule, rule=rule, user=principal.username)


def require_system_admin(principal: Principal) -> None:
    """Units, links, accounts and the calendar: the system administrator (and the engine itself)."""
    if not (principal.is_system_admin or principal.is_system):
        raise _refuse("only the system administrator may do this", SYSTEM_ADMIN_ONLY, principal)


def require_security_admin(principal: Principal) -> None:
    """Roles, reveal rights and administrator kinds: the security administrator (and the engine itself)."""
    if not (principal.is_security_admin or principal.is_system):
        raise _refuse("only the security administrator may grant or revoke rights", SECURITY_ADMIN_ONLY, principal)


def require_audit_admin(principal: Principal) -> None:
    """The audit trail: the audit administrator (and the engine itself)."""
    if not (principal.is_audit_admin or principal.is_system):
        raise _refuse("only the audit administrator reads the audit trail", AUDIT_ADMIN_ONLY, principal)


def require_organisation_reader(principal: Principal) -> None:
    """The organisation's units and people: the system administrator keeps them, the security administrator
    needs them to grant roles; the audit administrator and everyone else do not."""
    if not (principal.is_system_admin or principal.is_security_admin or principal.is_system):
        raise _refuse(
            "only the system or security administrator manages the organisation", ORGANISATION_ADMINS_ONLY, principal
        )


def require_not_oneself(principal: Principal, username: str) -> None:
    """No administrator grants, revokes or approves anything for his own account."""
    if username == principal.username and not principal.is_system:
        raise _refuse("you may not change your own rights", NOT_TO_ONESELF, principal)


def require_may_reset_password(principal: Principal, username: str, admin_kind: str | None) -> None:
    """Nobody resets another administrator's password on a page: he could then sign in as him (the system
    administrator as the security administrator, to approve his own deploy). It is done at the console
    (``guantong reset-password``); each administrator may change his own."""
    if admin_kind and username != principal.username and not principal.is_system:
        raise _refuse(
            f"{username} is an administrator: his password is reset at the console",
            ADMIN_PASSWORD_AT_CONSOLE,
            principal,
        )


def require_holds_no_role(username: str, admin_kind: str | None, principal: Principal) -> None:
    """An administrator account does no case work: no role may be granted to it."""
    if admin_kind:
        raise _refuse(
            f"{username} is an administrator ({admin_kind}): administrators hold no working role",
            ADMIN_HOLDS_NO_ROLE,
            principal,
        )
