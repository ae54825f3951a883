"""The ``DATABASE_URL`` LiteLLM connects with, built from the stack's ``DATABASE_*`` settings.

LiteLLM 1.108.7's CLI assembles the URL itself from ``DATABASE_HOST``/``USERNAME``/``PASSWORD``/``NAME``
(``construct_database_url_from_env_vars`` in ``litellm/proxy/utils.py``) and ignores ``DATABASE_PORT``,
so a database on any port but 5432 (RDS here listens on 5532) is never reached. The container's
entrypoint exports this URL instead: the port included, every part percent-encoded, and TLS required
(``sslmode=require``), as RDS for PostgreSQL 15+ enforces (``rds.force_ssl``). A ``DATABASE_URL``
already set wins; without ``DATABASE_HOST`` there is no database and nothing is printed. CLI::

    python database_url.py   # prints the URL on stdout; exit 2 naming any missing or bad setting
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from urllib.parse import quote

#: What the URL is built from; the stack sets all of them (user and password from the RDS secret).
REQUIRED = ("DATABASE_HOST", "DATABASE_PORT", "DATABASE_USERNAME", "DATABASE_PASSWORD", "DATABASE_NAME")
SSLMODE = "require"


class DatabaseSettingsError(ValueError):
    """A ``DATABASE_*`` setting is missing or malformed; the message names it."""


def database_url(env: Mapping[str, str]) -> str | None:
    """The URL for ``env``: ``DATABASE_URL`` when set, None without ``DATABASE_HOST``, else assembled."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    if not env.get("DATABASE_HOST"):
        return None
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise DatabaseSettingsError(f"{', '.join(missing)} must be set with DATABASE_HOST")
    port = env["DATABASE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DatabaseSettingsError(f"DATABASE_PORT must be a TCP port number, got {port!r}")
    host = env["DATABASE_HOST"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    user, password, name = (quote(env[n], safe="") for n in ("DATABASE_USERNAME", "DATABASE_PASSWORD", "DATABASE_NAME"))
    return f"postgresql://{user}:{password}@{host}:{int(port)}/{name}?sslmode={SSLMODE}"


def main() -> int:
    try:
        url = database_url(os.environ)
    except DatabaseSettingsError as error:
        print(f"database_url: {error}", file=sys.stderr)
        return 2
    if url:
        print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
