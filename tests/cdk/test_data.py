"""Data stores: chat-history table, log bucket, LiteLLM's PostgreSQL and Redis; none reachable from outside."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from .conftest import Synthesized


def test_history_table_keys_billing_pitr_ttl_and_owner_index(synth: Synthesized) -> None:
    table = synth.one("AWS::DynamoDB::GlobalTable")
    assert table["KeySchema"] == [
        {"AttributeName": "session_id", "KeyType": "HASH"},
        {"AttributeName": "seq", "KeyType": "RANGE"},
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types == {"session_id": "S", "seq": "N", "owner_id": "S", "created_at": "N"}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "owner-index"
    assert index["KeySchema"] == [
        {"AttributeName": "owner_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    (replica,) = table["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is False  # first deploy: see test_first_deploy


def test_log_bucket_is_encrypted_private_tls_only_and_expires(synth: Synthesized) -> None:
    bucket = synth.one("AWS::S3::Bucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == synth.settings.sizing.log_retention_days
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                "Principal": {"AWS": "*"},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_postgres_is_encrypted_private_backed_up_with_a_generated_secret(synth: Synthesized) -> None:
    db = synth.one("AWS::RDS::DBInstance")
    assert db["Engine"] == "postgres"
    assert db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["BackupRetentionPeriod"] == synth.settings.sizing.db_backup_retention_days
    assert db["MultiAZ"] is True
    assert "{{resolve:secretsmanager:" in json.dumps(db["MasterUserPassword"])
    synth.template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"GenerateSecretString": Match.object_like({"GenerateStringKey": "password"})},
    )
    synth.template.has_resource_properties(
        "AWS::RDS::DBParameterGroup", {"Parameters": Match.object_like({"rds.force_ssl": "1"})}
    )


def test_redis_encrypts_in_transit_and_at_rest_with_auth(synth: Synthesized) -> None:
    redis = synth.one("AWS::ElastiCache::ReplicationGroup")
    assert redis["Engine"] == "redis"
    assert redis["TransitEncryptionEnabled"] is True and redis["AtRestEncryptionEnabled"] is True
    assert "{{resolve:secretsmanager:" in json.dumps(redis["AuthToken"])
    assert redis["MultiAZEnabled"] is True and redis["AutomaticFailoverEnabled"] is True


def test_no_public_ingress_anywhere(synth: Synthesized) -> None:
    """ECS, RDS, Redis, the ALB and the functions accept traffic only from named security groups."""
    rules = [
        rule
        for group in synth.resources("AWS::EC2::SecurityGroup").values()
        for rule in group["Properties"].get("SecurityGroupIngress", [])
    ] + [r["Properties"] for r in synth.resources("AWS::EC2::SecurityGroupIngress").values()]
    assert rules, "expected ingress rules between the tiers"
    for rule in rules:
        assert "CidrIp" not in rule and "CidrIpv6" not in rule, rule
        assert "SourceSecurityGroupId" in rule


def test_database_and_redis_accept_only_the_litellm_tasks(synth: Synthesized) -> None:
    ingress = [r["Properties"] for r in synth.resources("AWS::EC2::SecurityGroupIngress").values()]
    by_port = {r["FromPort"]: r for r in ingress}
    task_sg = {"Fn::GetAtt": [_logical_id(synth, "LiteLLM/TaskSecurityGroup"), "GroupId"]}
    assert by_port[5532]["SourceSecurityGroupId"] == task_sg
    assert by_port[6479]["SourceSecurityGroupId"] == task_sg


def _logical_id(synth: Synthesized, path: str) -> str:
    construct = synth.stack.node.find_child(path.split("/")[0])
    for part in path.split("/")[1:]:
        construct = construct.node.find_child(part)
    return synth.stack.resolve(synth.stack.get_logical_id(construct.node.default_child))
