"""The stack's outputs: what an operator needs after `make deploy`."""

from __future__ import annotations

import json

from .conftest import Synthesized


def test_outputs(synth: Synthesized) -> None:
    outputs = synth.json["Outputs"]
    assert outputs["ServiceURL"]["Value"] == "https://llm.example.com/"
    assert outputs["MasterKeySecretArn"]["Value"]["Ref"].startswith("SecretsMasterKey")
    assert outputs["HistoryTableName"]["Value"]["Ref"].startswith("ChatHistoryTable")
    assert outputs["LogBucketName"]["Value"]["Ref"].startswith("RequestLogsBucket")
    assert "CustomDomainTarget" in outputs


def test_outputs_carry_no_secret_values(synth: Synthesized) -> None:
    assert "resolve:secretsmanager" not in json.dumps(synth.json["Outputs"])
