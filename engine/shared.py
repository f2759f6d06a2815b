"""State several servers must share, beyond the database: Redis (optional) for the per-address throttling.

With one server, Flask-Limiter counts failed sign-ins per address in the process's memory. Behind a load
balancer each process would count only the attempts it saw, so an attacker spreading them over N
servers got N times the allowance: ``GUANTONG_REDIS_URL`` puts the counters in one Redis, under
``GUANTONG_REDIS_PREFIX`` (several installations, or tests, can share a Redis). The per-account
lock-out needs no Redis: its counters are rows of ``sign_in_lock`` (engine/access/lockout.py), written
in the same transaction as the sign-in's audit event, so every server already sees one count.
"""

from __future__ import annotations

from engine.config import Config


def redis_status(config: Config) -> str | None:
    """``ok`` or why Redis does not answer (/readyz); None when no Redis is configured."""
    if not config.redis_url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(config.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"
