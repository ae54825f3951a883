"""The principal: the identity every route acts for, as produced by the authorizer.

In AWS the API Gateway REQUEST authorizer returns it as its ``context`` (string values only) and
the function reads it back from the request context; locally the same authorizer code runs in
front of the routes. A principal never carries a raw key or token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

PrincipalType = Literal["admin", "key", "jwt"]


def hash_key(key: str, salt: str) -> str:
    """Salted, keyed hash of an API key: stable per key, useless to an attacker without the salt."""
    return hmac.new(salt.encode(), key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    type: PrincipalType
    user_id: str | None
    key_hash: str | None
    email: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.type == "admin"

    @property
    def owner_id(self) -> str:
        """Who owns the resources this principal creates (chat sessions, …).

        The LiteLLM user when there is one (so all keys of one user share their sessions), else
        the hashed key.
        """
        if self.user_id:
            return f"user:{self.user_id}"
        return f"key:{self.key_hash}"

    def to_context(self) -> dict[str, str]:
        """API Gateway authorizer context: a flat map of strings (no nulls allowed)."""
        ctx = {"principal_type": self.type}
        if self.user_id:
            ctx["user_id"] = self.user_id
        if self.key_hash:
            ctx["key_hash"] = self.key_hash
        if self.email:
            ctx["email"] = self.email
        return ctx

    @classmethod
    def from_context(cls, ctx: dict) -> Principal:
        ptype = ctx.get("principal_type")
        if ptype not in ("admin", "key", "jwt"):
            raise ValueError("authorizer context has no valid principal_type")
        return cls(
            type=ptype,
            user_id=ctx.get("user_id") or None,
            key_hash=ctx.get("key_hash") or None,
            email=ctx.get("email") or None,
        )
