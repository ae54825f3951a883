"""Every ```bash doc-test``` example of docs/operations.md runs, as written, against the local stack.

Blocks run in document order (later ones may use users the earlier ones created) in ``bash`` with
``-e -u -o pipefail``, ``$GATEWAY`` and ``$MASTER_KEY`` set from the session's stack; the examples use
``curl --fail-with-body``, so any non-2xx answer fails the block. Blocks fenced as plain ```bash``` are
not run (the master-key rotation would break the shared stack; the AWS commands need an account).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from devstack.stack import REPO_ROOT

DOC = REPO_ROOT / "docs" / "operations.md"
CONFIG_DOC = REPO_ROOT / "docs" / "configuration.md"
_FENCE = re.compile(r"^```bash doc-test\n(?P<code>.*?)^```$", re.M | re.S)
_HEADING = re.compile(r"^#{2,4} (?P<title>.+)$", re.M)


def doc_examples(path: Path = DOC) -> list[tuple[str, str]]:
    """(id, code) of every doc-test block, the id taken from the heading above it."""
    text = path.read_text()
    examples, seen = [], {}
    for match in _FENCE.finditer(text):
        headings = [h["title"] for h in _HEADING.finditer(text, 0, match.start())]
        title = re.sub(r"[^a-z0-9]+", "-", (headings[-1] if headings else "top").lower()).strip("-")
        seen[title] = seen.get(title, 0) + 1
        examples.append((f"{title}-{seen[title]}" if seen[title] > 1 else title, match["code"]))
    return examples


EXAMPLES = doc_examples()


def test_the_doc_has_its_examples_marked():
    titles = {title for title, _ in EXAMPLES}
    for expected in ("with-the-default-budget", "with-a-model-allow-list", "generate-keys", "request-priority"):
        assert expected in titles
    for _, code in EXAMPLES:
        for call in re.findall(r"\bcurl\b[^\n]*", code):
            assert "--fail-with-body" in call, f"an example that does not fail on errors: {call}"


@pytest.mark.parametrize("code", [code for _, code in EXAMPLES], ids=[title for title, _ in EXAMPLES])
def test_operations_example_runs(code, gateway_url, master_key):
    env = {**os.environ, "GATEWAY": gateway_url, "MASTER_KEY": master_key}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, f"exit {result.returncode}\n{code}\n{output}"


def test_configuration_examples_use_settings_the_pinned_litellm_knows():
    """The YAML of docs/configuration.md parses, and no setting name is misspelled (checked in LiteLLM's source)."""
    litellm_dir = Path(importlib.util.find_spec("litellm").origin).parent
    module_settings = (litellm_dir / "__init__.py").read_text()
    router_class = (litellm_dir / "router.py").read_text().split("\nclass Router", 1)[1]
    router_init = router_class.split("def __init__(", 1)[1].split(") -> None:", 1)[0]
    proxy_handled = {"cache_params"}  # read by the proxy's config loader, not a module attribute
    blocks = re.findall(r"^```yaml\n(.*?)^```$", CONFIG_DOC.read_text(), re.M | re.S)
    assert len(blocks) >= 5
    for block in blocks:
        config = yaml.safe_load(block)
        assert set(config) <= {"model_list", "litellm_settings", "router_settings", "guardrails", "general_settings"}
        for key in config.get("litellm_settings", {}):
            assert key in proxy_handled or re.search(rf"^\s*{key}\s*(?:[:=,]|as\b)", module_settings, re.M), key
        for key in config.get("router_settings", {}):
            assert re.search(rf"\b{key}\s*:", router_init), key
        for entry in config.get("model_list", []):
            assert entry["model_name"] and entry["litellm_params"]["model"]
