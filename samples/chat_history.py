"""Server-side chat history: one session across both interfaces, read back in both formats.

1. The OpenAI interface starts a session (the answer's top-level ``session_id``).
2. The Bedrock Converse interface (boto3) continues it: ``additionalModelRequestFields={"session_id": ...}``.
3. ``POST /chat-history {"session_id"}`` returns the conversation as OpenAI messages.
4. ``POST /bedrock/chat-history {"session_id"}`` returns it as Converse messages (content blocks)
   plus the ``system`` blocks.
5. ``POST /session-ids {"limit", "next_token"}`` lists the caller's sessions, newest first, a page at a
   time (``next_token`` is null on the last page).

A session belongs to whoever created it (the LiteLLM user of the key, else the key itself); other
callers get 404, as for a session that does not exist. The master key may read any session.

Environment (defaults fit ``make local``):
    API_ENDPOINT  gateway base URL (default http://127.0.0.1:8080)
    API_KEY       gateway (LiteLLM) API key (default: the contents of .local/master_key)
    AWS_REGION    any region name; boto3 needs one (default us-east-1)
    MODEL_ID      a model name the gateway serves (default mock-gpt)

Run: ``python samples/chat_history.py`` (needs ``pip install openai boto3`` — httpx comes with openai).
"""

from __future__ import annotations

import json
import os

import httpx
import openai
from botocore.exceptions import BotoCoreError, ClientError
from gateway_env import api_key, bedrock_client, error_message, fail, gateway_url


def post(http: httpx.Client, path: str, body: dict) -> dict:
    """POST a JSON body to a gateway history endpoint; any non-2xx answer ends the sample."""
    response = http.post(path, json=body)
    if response.status_code in (404, 405) and path == "/session-ids":
        fail(f"this gateway does not serve POST {path} (HTTP {response.status_code}): {response.text}")
    if response.status_code >= 300:
        fail(f"POST {path} answered HTTP {response.status_code}: {response.text}")
    return response.json()


def list_sessions(http: httpx.Client, page_size: int = 20) -> list[str]:
    """Every session id of the caller, following ``next_token`` page by page."""
    ids: list[str] = []
    body: dict = {"limit": page_size}
    while True:
        page = post(http, "/session-ids", body)
        ids.extend(page["session_ids"])
        if not page.get("next_token"):
            return ids
        body = {"limit": page_size, "next_token": page["next_token"]}


def main() -> None:
    base, key = gateway_url(), api_key()
    model = os.environ.get("MODEL_ID", "mock-gpt")
    print(f"gateway: {base}  model: {model}\n")
    try:
        # 1. OpenAI interface: a new session
        chat = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=2)
        first = "My name is Ada and I like graph theory."
        reply = chat.chat.completions.create(model=model, messages=[{"role": "user", "content": first}])
        session_id = (reply.model_extra or {}).get("session_id")
        if not session_id:
            fail("the answer carried no session_id: is chat history enabled on this gateway?")
        print(f"[openai]  > {first}\n[openai]  {reply.choices[0].message.content}")
        print(f"session id: {session_id}\n")

        # 2. Converse interface: the same session
        second = "What is my name?"
        response = bedrock_client(f"{base}/bedrock", key).converse(
            modelId=model,
            messages=[{"role": "user", "content": [{"text": second}]}],
            additionalModelRequestFields={"session_id": session_id},
        )
        answer = "".join(b.get("text", "") for b in response["output"]["message"]["content"])
        print(f"[bedrock] > {second}\n[bedrock] {answer}")
        print(f"session id: {response['ResponseMetadata']['HTTPHeaders'].get('x-session-id')}\n")
    except openai.APIConnectionError as exc:
        fail(f"cannot reach the gateway at {base}: {exc}")
    except openai.APIStatusError as exc:
        fail(f"HTTP {exc.status_code}: {error_message(exc)}")
    except ClientError as exc:
        fail(f"{exc.response['Error'].get('Code')}: {exc.response['Error'].get('Message')}")
    except BotoCoreError as exc:
        fail(f"cannot reach the gateway at {base}: {exc}")

    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        try:
            # 3. the conversation in OpenAI format
            history = post(http, "/chat-history", {"session_id": session_id})
            print(f"POST /chat-history: {len(history['messages'])} messages (OpenAI format)")
            for message in history["messages"]:
                print(f"  {message['role']}: {message.get('content')}")

            # 4. the same conversation in Converse format
            history = post(http, "/bedrock/chat-history", {"session_id": session_id})
            print(f"\nPOST /bedrock/chat-history: {len(history['messages'])} messages (Converse format)")
            for message in history["messages"]:
                print(f"  {message['role']}: {json.dumps(message['content'])}")
            print(f"  system: {json.dumps(history.get('system', []))}")

            # 5. every session of this caller, page by page
            sessions = list_sessions(http)
        except httpx.HTTPError as exc:
            fail(f"cannot reach the gateway at {base}: {exc}")
    listed = "yes" if session_id in sessions else "no"
    print(f"\nPOST /session-ids: {len(sessions)} session(s); this one listed: {listed}")
    if session_id not in sessions:
        fail(f"session {session_id} is missing from /session-ids")


if __name__ == "__main__":
    main()
