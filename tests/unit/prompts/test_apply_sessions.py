"""A prompt opens a conversation once: continuing a session sends only its instructions again."""

from __future__ import annotations

from gateway.prompts.apply import apply_prompt
from gateway.prompts.render import ResolvedPrompt

PROMPT = ResolvedPrompt(
    arn="arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDE12345:1",
    model="claude",
    messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Topic: tea."}],
    defaults={"temperature": 0.2},
)
BODY = {"model": PROMPT.arn, "messages": [{"role": "user", "content": "and?"}]}


def test_a_continuing_session_gets_the_prompts_instructions_model_and_defaults_but_not_its_messages() -> None:
    out = apply_prompt(BODY, PROMPT, conversation=False)

    assert out["messages"] == [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "and?"}]
    assert (out["model"], out["temperature"]) == ("claude", 0.2)


def test_opening_a_conversation_includes_the_prompts_messages() -> None:
    assert [m["content"] for m in apply_prompt(BODY, PROMPT)["messages"]] == ["You are terse.", "Topic: tea.", "and?"]
