"""cfn-lint on the synthesized template: zero errors (warnings are CDK's own and reported, not failed)."""

from __future__ import annotations

from cfnlint.api import ManualArgs, lint_file

from .conftest import Synthesized


def test_no_cfn_lint_errors(synth: Synthesized) -> None:
    matches = lint_file(synth.path, config=ManualArgs(regions=[synth.settings.region]))
    errors = [f"{m.rule.id} {m.message} ({m.path_string})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
