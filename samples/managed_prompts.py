"""Bedrock Managed Prompts through the gateway, on both interfaces.

A prompt kept in Amazon Bedrock Prompt Management is called by its ARN in place of a model name:
the gateway fetches it (``bedrock-agent:GetPrompt``, in the ARN's region, with the gateway's own AWS
credentials), fills its ``{{variables}}`` from ``promptVariables`` and sends it to the model the
prompt's variant names (any model behind LiteLLM). ``arn:…:prompt/ID`` uses the draft,
``arn:…:prompt/ID:VERSION`` a published version.

- OpenAI: ``model=<prompt ARN>``, ``messages=[]`` (or extra turns appended after the prompt's own),
  ``extra_body={"promptVariables": {"topic": {"text": "fruit"}}}``.
- Converse: ``modelId=<prompt ARN>`` (boto3 URL-encodes it), ``promptVariables={...}``, no messages.

Environment (defaults fit ``make local``):
    API_ENDPOINT      gateway base URL (default http://127.0.0.1:8080)
    API_KEY           gateway (LiteLLM) API key (default: the contents of .local/master_key)
    AWS_REGION        any region name; boto3 needs one (default us-east-1)
    PROMPT_ARN        the prompt's ARN (required), e.g. arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1
    PROMPT_VARIABLES  JSON object of the prompt's variables, ``{"topic": "fruit"}`` (plain strings) or
                      Converse-shaped ``{"topic": {"text": "fruit"}}`` (default {"topic": "fruit"})

Run: ``PROMPT_ARN=arn:aws:bedrock:... python samples/managed_prompts.py`` (needs ``pip install openai boto3``).
"""

from __future__ import annotations

import json
import os

import openai
from botocore.exceptions import BotoCoreError, ClientError
from gateway_env import api_key, bedrock_client, client_error_message, error_message, fail, gateway_url


def prompt_variables() -> dict[str, dict[str, str]]:
    """PROMPT_VARIABLES as Converse ``PromptVariableValues``: ``{"name": {"text": "value"}}``."""
    raw = os.environ.get("PROMPT_VARIABLES", '{"topic": "fruit"}')
    try:
        given = json.loads(raw)
    except ValueError:
        fail(f"PROMPT_VARIABLES must be a JSON object, got {raw!r}", newline=True)
    if not isinstance(given, dict):
        fail(f"PROMPT_VARIABLES must be a JSON object, got {raw!r}", newline=True)
    return {name: value if isinstance(value, dict) else {"text": str(value)} for name, value in given.items()}


def main() -> None:
    arn = os.environ.get("PROMPT_ARN", "").strip()
    if not arn:
        fail(
            "set PROMPT_ARN to the ARN of a prompt in Bedrock Prompt Management "
            "(arn:aws:bedrock:REGION:ACCOUNT:prompt/ID[:VERSION]); the gateway needs AWS credentials "
            "allowed to call bedrock-agent:GetPrompt on it",
            newline=True,
        )
    base, key, variables = gateway_url(), api_key(newline=True), prompt_variables()
    print(f"gateway: {base}\nprompt: {arn}\nvariables: {json.dumps(variables)}\n")
    try:
        # OpenAI interface: the prompt ARN is the model; variables ride in the body
        chat = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=2)
        reply = chat.chat.completions.create(model=arn, messages=[], extra_body={"promptVariables": variables})
        print(f"[openai] answer: {reply.choices[0].message.content}")
        print(f"[openai] model used: {reply.model}  session id: {(reply.model_extra or {}).get('session_id')}\n")

        # Converse interface, synchronous
        bedrock = bedrock_client(f"{base}/bedrock", key)
        response = bedrock.converse(modelId=arn, promptVariables=variables)
        answer = "".join(b.get("text", "") for b in response["output"]["message"]["content"])
        usage = response["usage"]
        print(f"[converse] answer: {answer}")
        print(f"[converse] usage: {usage['inputTokens']} in + {usage['outputTokens']} out = {usage['totalTokens']}\n")

        # Converse interface, streamed
        stream = bedrock.converse_stream(modelId=arn, promptVariables=variables)
        print("[converse-stream] answer: ", end="", flush=True)
        for event in stream["stream"]:
            if "contentBlockDelta" in event:
                print(event["contentBlockDelta"]["delta"].get("text", ""), end="", flush=True)
        print()
    except openai.APIConnectionError as exc:
        fail(f"cannot reach the gateway at {base}: {exc}", newline=True)
    except openai.APIStatusError as exc:
        fail(f"HTTP {exc.status_code}: {error_message(exc)}", newline=True)
    except ClientError as exc:
        fail(client_error_message(exc), newline=True)
    except BotoCoreError as exc:
        fail(f"cannot reach the gateway at {base}: {exc}", newline=True)


if __name__ == "__main__":
    main()
