"""Settings from the environment, with defaults that make ``make run`` work on a fresh machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Who sees reporters' identities in clear (engine/access/sealing.py); environment GUANTONG_REVEAL_ROLES.
DEFAULT_REVEAL_ROLES = frozenset({"petition_office", "commission_secretary", "leader_in_charge"})


@dataclass
class Config:
    database_url: str
    processes_dir: Path
    instance_dir: Path
    secret_key: str
    attachments_dir: Path
    embedded_worker: bool
    message_ttl_days: float = 30.0  # how long a message waits for a receiver before it expires (reported)
    # Who may use the process studio besides the system administrator (engine/definitions/operations.py).
    studio_roles: frozenset[str] = frozenset({"security_admin"})
    cockpit_roles: frozenset[str] | None = None  # who opens the cockpit; None: the default
    # The offices that keep the interference register (engine/interference/register.py); None: the default.
    interference_roles: frozenset[str] | None = None
    # The reveal roles: granting one needs a second person's approval (engine/organisation/operations.py).
    reveal_roles: frozenset[str] = DEFAULT_REVEAL_ROLES
    # The audit key is read by engine/audit/keys.py (``audit_key_file`` below), apart from the database; the
    # chain heads the worker exports go to a file that should be shipped off the machine (engine/audit/heads.py).
    audit_head_file: Path = ROOT / "instance" / "audit" / "heads.jsonl"
    audit_head_interval: float = 60.0  # seconds between two exports of the chain head
    # Sign-in and sessions (engine/access/sessions.py, lockout.py, passwords.py; docs/security.md 身份鉴别).
    session_idle_minutes: float = 30.0  # a session unused this long is ended
    session_max_hours: float = 8.0  # and any session this long after sign-in
    lockout_failures: int = 5  # this many failed sign-ins for one account name ...
    lockout_window_minutes: float = 15.0  # ... within this window lock it ...
    lockout_minutes: float = 15.0  # ... for this long (every worker sees the same lock: it is in the database)
    password_min_length: int = 12
    password_history: int = 5  # a new password may not be any of the last this many
    https: bool = False  # served over HTTPS: Secure cookies and an HSTS header
    ratelimit_storage_uri: str = "memory://"  # per-address throttling; redis://… to share it between workers
    # Several servers (README "Operations: several servers"): GUANTONG_REDIS_URL shares the per-address
    # throttling (and is the default of GUANTONG_RATELIMIT_STORAGE_URI), its keys under ``redis_prefix``;
    # GUANTONG_ATTACHMENT_STORE (s3://bucket/prefix or a directory) is where every server keeps attachments
    # (engine/storage.py); GUANTONG_PROXY_HOPS counts the reverse proxies whose X-Forwarded-* are believed.
    redis_url: str | None = None
    redis_prefix: str = "guantong"
    attachment_store: str | None = None
    s3_endpoint_url: str | None = None
    proxy_hops: int = 0
    # The cockpit's figures kept by the worker (engine/cockpit/snapshots.py). Off in a Config built directly
    # (the tests, which change data and read again at once); ``from_env`` turns it on unless
    # GUANTONG_COCKPIT_SNAPSHOTS=off.
    cockpit_snapshots: bool = False
    snapshot_refresh_minutes: float = 5.0  # a snapshot older than this is recomputed by the next worker pass
    snapshot_read_days: float = 7.0  # ... if someone read it (or it was made) within this many days
    snapshot_keep_days: float = 30.0  # a snapshot nobody read for this long is deleted
    snapshot_pass_limit: int = 20  # at most this many snapshots recomputed per worker pass ...
    snapshot_pass_seconds: float = 30.0  # ... and none started once a pass has spent this long
    snapshot_min_age_seconds: float = 30.0  # the 刷新 button recomputes only a snapshot older than this
    # How often the worker asks which tables changed enough to be analysed again (engine/planner.py).
    statistics_interval: float = 60.0

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        instance_dir = Path(os.environ.get("GUANTONG_INSTANCE_DIR", ROOT / "instance"))
        database_url = os.environ.get("GUANTONG_DATABASE_URL") or f"sqlite:///{instance_dir / 'guantong.db'}"
        values: dict[str, Any] = dict(
            database_url=database_url,
            processes_dir=Path(os.environ.get("GUANTONG_PROCESSES", ROOT / "processes")),
            instance_dir=instance_dir,
            secret_key=os.environ.get("GUANTONG_SECRET_KEY") or _instance_secret(instance_dir),
            attachments_dir=Path(os.environ.get("GUANTONG_ATTACHMENTS", instance_dir / "attachments")),
            embedded_worker=os.environ.get("GUANTONG_EMBEDDED_WORKER", "auto") != "off",
            message_ttl_days=float(os.environ.get("GUANTONG_MESSAGE_TTL_DAYS", "30")),
            cockpit_roles=_role_list(os.environ.get("GUANTONG_COCKPIT_ROLES")),
            interference_roles=_role_list(os.environ.get("GUANTONG_INTERFERENCE_ROLES")),
            audit_head_interval=float(os.environ.get("GUANTONG_AUDIT_HEAD_INTERVAL", "60")),
        )
        if os.environ.get("GUANTONG_REVEAL_ROLES") is not None:
            values["reveal_roles"] = _role_list(os.environ["GUANTONG_REVEAL_ROLES"])
        for field, name, kind in _NUMBERS:
            if os.environ.get(name):
                values[field] = kind(os.environ[name])
        values["https"] = os.environ.get("GUANTONG_HTTPS", "0").lower() in ("1", "true", "yes", "on")
        values["redis_url"] = os.environ.get("GUANTONG_REDIS_URL") or None
        values["redis_prefix"] = os.environ.get("GUANTONG_REDIS_PREFIX") or "guantong"
        values["ratelimit_storage_uri"] = (
            os.environ.get("GUANTONG_RATELIMIT_STORAGE_URI") or values["redis_url"] or "memory://"
        )
        values["attachment_store"] = os.environ.get("GUANTONG_ATTACHMENT_STORE") or None
        values["s3_endpoint_url"] = os.environ.get("GUANTONG_S3_ENDPOINT_URL") or None
        values["proxy_hops"] = int(os.environ.get("GUANTONG_PROXY_HOPS") or 0)
        snapshots_setting = os.environ.get("GUANTONG_COCKPIT_SNAPSHOTS", "on").lower()
        values["cockpit_snapshots"] = snapshots_setting not in ("0", "off", "no")
        if os.environ.get("GUANTONG_STUDIO_ROLES") is not None:
            values["studio_roles"] = _role_list(os.environ["GUANTONG_STUDIO_ROLES"])
        values.update(overrides)
        head_file = os.environ.get("GUANTONG_AUDIT_HEAD_FILE")
        values.setdefault(
            "audit_head_file", Path(head_file) if head_file else Path(values["instance_dir"]) / "audit" / "heads.jsonl"
        )
        return cls(**values)


# Numeric settings read from the environment as they are named in docs/security.md.
_NUMBERS: tuple[tuple[str, str, type], ...] = (
    ("session_idle_minutes", "GUANTONG_SESSION_IDLE_MINUTES", float),
    ("session_max_hours", "GUANTONG_SESSION_MAX_HOURS", float),
    ("lockout_failures", "GUANTONG_LOCKOUT_FAILURES", int),
    ("lockout_window_minutes", "GUANTONG_LOCKOUT_WINDOW_MINUTES", float),
    ("lockout_minutes", "GUANTONG_LOCKOUT_MINUTES", float),
    ("password_min_length", "GUANTONG_PASSWORD_MIN_LENGTH", int),
    ("password_history", "GUANTONG_PASSWORD_HISTORY", int),
    ("snapshot_refresh_minutes", "GUANTONG_SNAPSHOT_REFRESH_MINUTES", float),
    ("snapshot_read_days", "GUANTONG_SNAPSHOT_READ_DAYS", float),
    ("snapshot_keep_days", "GUANTONG_SNAPSHOT_KEEP_DAYS", float),
    ("snapshot_pass_limit", "GUANTONG_SNAPSHOT_PASS_LIMIT", int),
    ("snapshot_pass_seconds", "GUANTONG_SNAPSHOT_PASS_SECONDS", float),
    ("snapshot_min_age_seconds", "GUANTONG_SNAPSHOT_MIN_AGE_SECONDS", float),
    ("statistics_interval", "GUANTONG_STATISTICS_INTERVAL", float),
)


def _role_list(raw: str | None) -> frozenset[str] | None:
    """Comma-separated role codes; unset means "the engine's default", an empty string means "nobody"."""
    if raw is None:
        return None
    return frozenset(r.strip() for r in raw.split(",") if r.strip())


def _instance_secret(instance_dir: Path) -> str:
    """A random key kept in instance/ so sessions survive restarts without anyone choosing a password."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def audit_key_file() -> Path:
    """``GUANTONG_AUDIT_KEY_FILE``, else ``audit.key`` in ``GUANTONG_KEYS_DIR`` (default ``keys/`` beside
    ``instance/``): never in the instance directory, so a copy of the database does not carry its key."""
    explicit = os.environ.get("GUANTONG_AUDIT_KEY_FILE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("GUANTONG_KEYS_DIR", ROOT / "keys")) / "audit.key"
