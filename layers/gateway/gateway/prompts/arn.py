"""Prompt ARNs: ``arn:aws:bedrock:REGION:ACCOUNT:prompt/ID`` (the draft) or ``…/ID:VERSION``.

The region must be one botocore knows for the ARN's partition (its own ``partitions.json``, the data
its endpoint resolver uses): the resolver keeps a client per region, so made-up regions must not
reach it. A region newer than the installed botocore is refused until botocore is updated.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gateway.errors import validation

# Prompt ids are 10 alphanumerics; versions are 1-5 digits, never all zeros (botocore's PromptArn/Version).
_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]{1,20}):(?P<account>[0-9]{12})"
    r":prompt/(?P<id>[0-9a-zA-Z]{10})(?::(?P<version>[0-9]{1,5}))?"
)
_EXPECTED = "expected arn:aws:bedrock:REGION:ACCOUNT:prompt/ID or arn:aws:bedrock:REGION:ACCOUNT:prompt/ID:VERSION"


@dataclass(frozen=True)
class PromptArn:
    arn: str
    partition: str
    region: str
    account: str
    prompt_id: str
    version: str | None  # None: the working draft

    @property
    def is_draft(self) -> bool:
        return self.version is None


def parse_prompt_arn(value: object, *, param: str | None = "model") -> PromptArn:
    """Parse a prompt ARN; anything else raises ``validation(...)`` (400 / ValidationException)."""
    match = _ARN.fullmatch(value) if isinstance(value, str) else None
    if match is None or (match["version"] is not None and int(match["version"]) == 0):
        shown = repr(value[:200]) if isinstance(value, str) else type(value).__name__
        raise validation(f"malformed prompt ARN {shown}: {_EXPECTED}", param=param)
    if match["region"] not in _regions_of(match["partition"]):
        raise validation(
            f"unknown AWS region {match['region']!r} in prompt ARN for partition {match['partition']!r}", param=param
        )
    return PromptArn(
        arn=value,
        partition=match["partition"],
        region=match["region"],
        account=match["account"],
        prompt_id=match["id"],
        version=match["version"],
    )


@functools.cache
def _regions_of(partition: str) -> frozenset[str]:
    """The regions botocore knows in ``partition`` (none for an unknown partition)."""
    from botocore.loaders import Loader  # only when a prompt ARN is first parsed: keeps the cold start lean

    for entry in Loader().load_data("partitions")["partitions"]:
        if entry["id"] == partition:
            pattern = re.compile(entry["regionRegex"])
            return frozenset(region for region in entry["regions"] if pattern.match(region))
    return frozenset()
