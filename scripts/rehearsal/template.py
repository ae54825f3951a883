"""Synthesize the stack offline and read what the template hands each component.

``Assembly`` is the synthesized cloud assembly (template + asset manifest); ``Resolver`` turns the
CloudFormation intrinsics a component would see resolved at deploy time into local values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The settings the rehearsal synthesizes with: a first deploy with a provider key, LangSmith and Okta,
#: so the optional environment variables show up too (values are fakes; nothing leaves the machine).
SYNTH_ENV = {
    "AWS_REGION": "eu-west-1",
    "STACK_NAME": "GatewayRehearsal",
    "OPENAI_API_KEY": "sk-rehearsal-openai",
    "LANGSMITH_API_KEY": "lsv2-rehearsal",
    "LANGSMITH_PROJECT": "rehearsal",
    "OKTA_ISSUER": "https://rehearsal.okta.example/oauth2/default",
    "OKTA_AUDIENCE": "api://genai-gateway",
}


class TemplateError(RuntimeError):
    """The template lacks something the rehearsal (and so the deployed component) needs."""


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    stack_name: str
    template: dict[str, Any]
    assets: dict[str, Any]

    @property
    def region(self) -> str:
        return SYNTH_ENV["AWS_REGION"]

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == cfn_type}

    def one(self, cfn_type: str, match: Callable[[dict[str, Any]], bool] = lambda _: True) -> tuple[str, dict]:
        """The logical id and properties of the single resource of ``cfn_type`` that ``match`` accepts."""
        found = [(k, v["Properties"]) for k, v in self.resources(cfn_type).items() if match(v["Properties"])]
        if len(found) != 1:
            raise TemplateError(f"expected one {cfn_type}, found {len(found)}")
        return found[0]

    def function(self, handler: str) -> tuple[str, dict[str, Any]]:
        """The Lambda function whose ``Handler`` is ``handler``."""
        return self.one("AWS::Lambda::Function", lambda p: p.get("Handler") == handler)

    def file_asset(self, code: Mapping[str, Any]) -> Path:
        """The folder a ``Code``/``Content`` property's S3 object is built from."""
        key = str(code["S3Key"]).removesuffix(".zip")
        return self.outdir / self.assets["files"][key]["source"]["path"]

    def image_asset(self, image: Any) -> Path:
        """The Docker build context of a container ``Image`` (an ECR URI ending in the asset hash)."""
        uri = image["Fn::Sub"] if isinstance(image, dict) else str(image)
        tag = uri.rsplit(":", 1)[-1]
        return self.outdir / self.assets["dockerImages"][tag]["source"]["directory"]


def synthesize(outdir: Path, extra_env: Mapping[str, str] | None = None) -> Assembly:
    """Run ``cdk/app.py`` as ``make synth`` does (offline, cdk-nag on) into ``outdir``."""
    env = {**os.environ, **SYNTH_ENV, **(extra_env or {}), "CDK_OUTDIR": str(outdir)}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "cdk" / "app.py")], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise TemplateError(f"synth failed:\n{result.stderr[-3000:]}")
    return load(outdir, env["STACK_NAME"])


def load(outdir: Path, stack_name: str) -> Assembly:
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    assets = json.loads((outdir / f"{stack_name}.assets.json").read_text())
    return Assembly(outdir, stack_name, template, assets)


class Resolver:
    """Resolve intrinsics to local values: ``refs[logical_id]`` for ``Ref``, ``attributes[(id, attr)]`` for
    ``Fn::GetAtt``, plus ``Fn::Join``/``Fn::Sub``/``Fn::Select``/``Fn::Split`` and pseudo parameters.
    An intrinsic without a local value raises ``TemplateError`` naming it, so nothing is guessed."""

    def __init__(self, assembly: Assembly, refs: Mapping[str, str], attributes: Mapping[tuple[str, str], str]) -> None:
        self.refs = {
            "AWS::Region": assembly.region,
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": assembly.stack_name,
            **refs,
        }
        self.attributes = dict(attributes)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self(v) for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg not in self.refs:
                raise TemplateError(f"no local value for Ref {arg}")
            return self.refs[arg]
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if (logical, attribute) not in self.attributes:
                raise TemplateError(f"no local value for Fn::GetAtt {logical}.{attribute}")
            return self.attributes[(logical, attribute)]
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(str(self(p)) for p in parts)
        if key == "Fn::Select":
            index, items = arg
            return self(items)[int(index)]
        if key == "Fn::Split":
            separator, text = arg
            return str(self(text)).split(separator)
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            names = {} if isinstance(arg, str) else {k: self(v) for k, v in arg[1].items()}
            for name in _placeholders(text):
                local = (
                    names[name] if name in names else self({"Ref": name} if "." not in name else {"Fn::GetAtt": name})
                )
                text = text.replace("${" + name + "}", str(local))
            return text
        return {key: self(arg)}


def _placeholders(text: str) -> list[str]:
    out, start = [], text.find("${")
    while start != -1:
        end = text.index("}", start)
        out.append(text[start + 2 : end])
        start = text.find("${", end)
    return out
