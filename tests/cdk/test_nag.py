"""cdk-nag AwsSolutions: the synth itself fails on any unacknowledged finding (see conftest); here we
check that it ran, found nothing unacknowledged, and that every acknowledgment carries its own reason."""

from __future__ import annotations

import json

from .conftest import Synthesized

ACK = "aws:cdk:acknowledged-rules"


def _acknowledgments(synth: Synthesized) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for construct in synth.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACK:
                ours = {k: v for k, v in entry.data.items() if k.startswith("AwsSolutions::")}
                if ours:
                    found.setdefault(construct.node.path, {}).update(ours)
    return found


def test_awssolutions_ran_and_reported_no_violation(synth: Synthesized) -> None:
    report = json.loads((synth.path.parent / "validation-report.json").read_text())
    assert all(p.get("conclusion") != "failure" for p in report["pluginReports"])
    assert not [v for p in report["pluginReports"] for v in p.get("violations", [])]


def test_every_acknowledgment_is_specific(synth: Synthesized) -> None:
    acks = _acknowledgments(synth)
    assert acks, "expected acknowledged findings (e.g. secrets rotation)"
    reasons = [reason for rules in acks.values() for reason in rules.values()]
    for path, rules in acks.items():
        for rule, reason in rules.items():
            assert rule.startswith("AwsSolutions::AwsSolutions-"), (path, rule)
            assert reason.strip() and "TODO" not in reason, (path, rule)
            assert len(reason) >= 40, (path, rule, reason)
    # A reason written once per rule, not one blanket sentence pasted everywhere.
    distinct_rules = {rule.split("[")[0] for rules in acks.values() for rule in rules}
    assert len(set(reasons)) >= len(distinct_rules)


def test_no_blanket_iam5_acknowledgment(synth: Synthesized) -> None:
    """IAM5 is acknowledged finding by finding (Rule[Resource::...]), never for a whole resource."""
    for rules in _acknowledgments(synth).values():
        assert "AwsSolutions::AwsSolutions-IAM5" not in rules
        assert "AwsSolutions::AwsSolutions-IAM4" not in rules
