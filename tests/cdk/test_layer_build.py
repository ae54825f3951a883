"""The gateway layer is built at synth time by pip (manylinux wheels, no Docker) and cached by input hash."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway_cdk import layer_build
from gateway_cdk.layer_build import LayerBuildError, build_layer, input_hash, pip_command

from .conftest import Synthesized


def test_pip_fetches_lambda_wheels_only(tmp_path: Path) -> None:
    command = pip_command(tmp_path / "requirements.txt", tmp_path / "python", "arm64")
    joined = " ".join(command)
    assert "--only-binary=:all:" in command
    assert "--platform manylinux2014_aarch64" in joined and "--platform manylinux_2_28_aarch64" in joined
    assert "--python-version 3.13" in joined and "--implementation cp" in joined
    assert "x86_64" in " ".join(pip_command(tmp_path / "r.txt", tmp_path / "p", "x86_64"))


def _fake_layer_src(tmp_path: Path) -> Path:
    src = tmp_path / "layer"
    (src / "gateway").mkdir(parents=True)
    (src / "gateway" / "__init__.py").write_text("VERSION = 1\n")
    (src / "requirements.txt").write_text("starlette==1.10.0\n")
    return src


def _fake_pip(calls: list[list[str]]):
    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        for package in ("starlette", "botocore", "boto3"):
            (target / package).mkdir(parents=True)
            (target / package / "__init__.py").write_text("")
        (target / "starlette" / "__pycache__").mkdir()
        (target / "starlette-1.10.0.dist-info").mkdir()
        (target / "starlette-1.10.0.dist-info" / "RECORD").write_text("")
        (target / "starlette-1.10.0.dist-info" / "METADATA").write_text("Name: starlette\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_build_is_cached_pruned_and_rebuilt_when_inputs_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(layer_build.subprocess, "run", _fake_pip(calls))
    src = _fake_layer_src(tmp_path)
    out = build_layer(src, tmp_path / "cache", "arm64")
    site = out / "python"
    assert (site / "gateway" / "__init__.py").read_text() == "VERSION = 1\n"
    assert (site / "starlette").is_dir() and not (site / "starlette" / "__pycache__").exists()
    assert not (site / "botocore").exists() and not (site / "boto3").exists()  # the runtime provides them
    assert (site / "starlette-1.10.0.dist-info" / "METADATA").exists()
    assert not (site / "starlette-1.10.0.dist-info" / "RECORD").exists()
    assert build_layer(src, tmp_path / "cache", "arm64") == out and len(calls) == 1  # cache hit

    (src / "gateway" / "__init__.py").write_text("VERSION = 2\n")
    rebuilt = build_layer(src, tmp_path / "cache", "arm64")
    assert rebuilt != out and len(calls) == 2
    assert input_hash(src, "arm64") != input_hash(src, "x86_64")


def test_pip_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "No matching distribution found for nope")

    monkeypatch.setattr(layer_build.subprocess, "run", failing)
    with pytest.raises(LayerBuildError, match="No matching distribution"):
        build_layer(_fake_layer_src(tmp_path), tmp_path / "cache", "arm64")
    assert not list((tmp_path / "cache").glob("layer-*"))


def test_the_synthesized_layer_holds_the_gateway_and_its_dependencies(synth: Synthesized) -> None:
    layer = synth.one("AWS::Lambda::LayerVersion")
    assert layer["CompatibleArchitectures"] == ["arm64"]
    asset = layer["Content"]["S3Key"].removesuffix(".zip")
    site = synth.path.parent / f"asset.{asset}" / "python"  # the directory CDK zips and uploads
    assert (site / "gateway" / "__init__.py").is_file()
    for package in ("starlette", "uvicorn", "httpx", "pynamodb", "jwt", "aws_lambda_powertools", "cachetools"):
        assert (site / package).is_dir(), package
    (native,) = site.glob("cryptography/hazmat/bindings/_rust*.so")
    header = native.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183  # EM_AARCH64
    assert not (site / "botocore").exists()
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert size < 50 * 1024 * 1024  # unzipped layer budget (Lambda allows 250 MB for all layers)
