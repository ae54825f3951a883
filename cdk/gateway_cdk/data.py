"""Data the gateway keeps: the chat-history table (DynamoDB) and the request-log bucket (S3)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .common import data_removal_policy, suppress
from .settings import Settings

#: Attribute names shared with ``gateway`` (the chat-history store in the layer).
HISTORY_PARTITION_KEY = "session_id"
HISTORY_SORT_KEY = "seq"
HISTORY_TTL_ATTRIBUTE = "expires_at"
OWNER_INDEX = "owner-index"
OWNER_KEY = "owner_id"
OWNER_SORT_KEY = "created_at"


class ChatHistory(Construct):
    """One item per message (``session_id`` + ``seq``), a TTL, and ``owner-index`` to list a principal's
    sessions.

    The index projects ALL attributes: only session header items carry ``owner_id`` (a sparse index), so
    the copy is small, and listing sessions (title, model, timestamps) needs no second read per row.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=HISTORY_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=HISTORY_SORT_KEY, type=dynamodb.AttributeType.NUMBER),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=HISTORY_TTL_ATTRIBUTE,
            deletion_protection=settings.deletion_protection,
            removal_policy=data_removal_policy(settings),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=OWNER_INDEX,
                    partition_key=dynamodb.Attribute(name=OWNER_KEY, type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name=OWNER_SORT_KEY, type=dynamodb.AttributeType.NUMBER),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            ],
        )


class LogBucket(Construct):
    """LiteLLM's S3 request logs (and the ALB's access logs): encrypted, private, TLS-only, expiring."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        days = settings.sizing.log_retention_days
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            # Always Retain, even when its creation rolls back: the ALB writes a test object as soon as access
            # logging is on, and CloudFormation cannot delete a non-empty bucket, so RetainExceptOnCreate or
            # Delete would leave a failed first deploy stuck in ROLLBACK_FAILED. A left-over bucket is deleted
            # by hand (docs/deploy.md).
            removal_policy=RemovalPolicy.RETAIN,
            auto_delete_objects=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)
                        )
                    ]
                    if days > 60
                    else [],
                )
            ],
        )
        suppress(
            self.bucket,
            {
                "AwsSolutions-S1": "This bucket is the log destination itself; logging its own access would "
                "recurse, and CloudTrail data events cover audit needs.",
            },
        )
