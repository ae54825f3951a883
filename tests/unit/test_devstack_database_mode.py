"""`make local`'s choice of where LiteLLM's Prisma engines come from (the decision only; the
integration test `test_make_local.py` runs the real "neither works" path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.prisma import DatabaseModeUnavailable, plan_database_mode


def make_kit(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "setup.sh").write_text("#!/bin/bash\n")
    return folder


class Generate:
    """Records calls to Prisma's download step and answers as told."""

    def __init__(self, ok: bool, output: str = "") -> None:
        self.ok, self.output, self.calls = ok, output, 0

    def __call__(self, python: str, env) -> tuple[bool, str]:
        self.calls += 1
        return self.ok, self.output


def test_the_kit_beside_the_checkout_is_used_without_downloading(tmp_path):
    kit = make_kit(tmp_path / "shared" / "offline-prisma")
    generate = Generate(ok=False)
    plan = plan_database_mode(tmp_path / "repo", {}, "python", generate)
    assert (plan.way, plan.kit) == ("kit", kit)
    assert generate.calls == 0


def test_offline_prisma_kit_names_a_kit_elsewhere(tmp_path):
    kit = make_kit(tmp_path / "elsewhere")
    plan = plan_database_mode(tmp_path / "repo", {"OFFLINE_PRISMA_KIT": str(kit)}, "python", Generate(ok=False))
    assert plan.kit == kit


def test_without_a_kit_prisma_downloads_its_engines_and_litellm_migrates(tmp_path):
    generate = Generate(ok=True)
    plan = plan_database_mode(tmp_path / "repo", {"DISABLE_SCHEMA_UPDATE": "true"}, "python", generate)
    assert plan.way == "download" and plan.kit is None and generate.calls == 1
    assert plan.env["DISABLE_SCHEMA_UPDATE"] == "false"  # LiteLLM applies its migrations itself


def test_kit_off_skips_a_present_kit(tmp_path):
    make_kit(tmp_path / "shared" / "offline-prisma")
    generate = Generate(ok=True)
    plan = plan_database_mode(tmp_path / "repo", {"OFFLINE_PRISMA_KIT": "off"}, "python", generate)
    assert plan.way == "download" and generate.calls == 1


def test_neither_source_is_one_clear_error_naming_both_causes(tmp_path):
    generate = Generate(ok=False, output="Installing Prisma CLI\nnpm ERR! network request failed: ECONNREFUSED")
    with pytest.raises(DatabaseModeUnavailable) as raised:
        plan_database_mode(tmp_path / "repo", {}, "python", generate)
    message = str(raised.value)
    assert "no offline Prisma kit" in message and str(tmp_path / "shared" / "offline-prisma") in message
    assert "ECONNREFUSED" in message and "download failed" in message
    assert "does not start without its database" in message
