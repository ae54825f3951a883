"""Small helpers shared by the constructs."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, RemovalPolicy, Stack, Validations
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from .settings import LOG_RETENTION_DAYS, Settings

#: The cdk-nag pack the app runs; acknowledgments are ``<pack>::<rule>``.
NAG_PACK = "AwsSolutions"

_RETENTION = dict(zip(LOG_RETENTION_DAYS, [m for m in logs.RetentionDays if m.name != "INFINITE"], strict=True))


def retention(days: int) -> logs.RetentionDays:
    """The CloudWatch Logs retention enum member for ``days`` (validated by settings)."""
    return _RETENTION[days]


def data_removal_policy(settings: Settings) -> RemovalPolicy:
    """What happens to a data store (the history table) when the stack or the resource goes away.

    ``RETAIN_DATA=true`` (default) maps to CloudFormation's ``RetainExceptOnCreate``: kept on stack deletion
    and on updates that remove it, but deleted when the operation that *created* it rolls back, so a failed
    first deploy leaves nothing behind
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
    """
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if settings.retain_data else RemovalPolicy.DESTROY


def suppress(construct: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge cdk-nag findings on ``construct`` and its children, each with its own reason.

    Keys are cdk-nag rule ids (``AwsSolutions-SMG4``), or ``Rule[Finding]`` ids for rules that report
    several findings (``AwsSolutions-IAM5[Resource::*]``).
    """
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=f"{NAG_PACK}::{rule}", reason=reason) for rule, reason in reasons.items())
    )


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of ``construct``'s resource (as cdk-nag prints it in finding ids)."""
    element = construct.node.default_child
    assert isinstance(element, CfnElement), f"{construct.node.path} has no CloudFormation resource"
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(element)))
