"""PromptResolver through real boto3 against the local bedrock-agent stand-in."""

from __future__ import annotations

import gc
import socket
import weakref

import boto3
import pytest

from gateway.errors import ErrorKind, GatewayError
from gateway.prompts import PromptResolver
from gateway.prompts.resolver import MAX_CLIENTS
from tests.support.fake_bedrock_agent import FakeBedrockAgent, chat_variant, text_variant
from tests.unit.prompts.conftest import NO_RETRY, Clock

TOPIC = {"topic": {"text": "fruit"}}


def error_of(resolver: PromptResolver, arn: str, variables: dict | None = None) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        resolver.resolve(arn, variables)
    return info.value


def test_draft_text_prompt(agent: FakeBedrockAgent, resolver: PromptResolver) -> None:
    pid = agent.put_prompt(text_variant("Tell me about {{topic}}", inference={"temperature": 0.3}))
    resolved = resolver.resolve(agent.arn(pid), TOPIC)
    assert resolved.model == "fake"
    assert resolved.messages == [{"role": "user", "content": "Tell me about fruit"}]
    assert resolved.defaults == {"temperature": 0.3}
    assert agent.requests == [{"prompt_id": pid, "version": None, "region": "us-east-1", "service": "bedrock"}]


def test_version_chat_prompt_in_the_arns_region(agent: FakeBedrockAgent, resolver: PromptResolver) -> None:
    pid = agent.put_prompt(chat_variant([("user", "v1 {{topic}}")], system="sys"))
    version = agent.create_version(pid)
    agent.put_prompt(chat_variant([("user", "draft {{topic}}")]), prompt_id=pid)
    arn = agent.arn(pid, version, region="eu-west-3")
    resolved = resolver.resolve(arn, TOPIC)
    assert resolved.arn == arn
    assert resolved.messages == [{"role": "system", "content": "sys"}, {"role": "user", "content": "v1 fruit"}]
    assert agent.requests[-1] == {"prompt_id": pid, "version": "1", "region": "eu-west-3", "service": "bedrock"}
    assert resolver.resolve(agent.arn(pid), TOPIC).messages == [{"role": "user", "content": "draft fruit"}]


def test_a_version_is_fetched_once_and_kept_long(
    agent: FakeBedrockAgent, resolver: PromptResolver, clock: Clock
) -> None:
    pid = agent.put_prompt(text_variant("About {{topic}}"))
    arn = agent.arn(pid, agent.create_version(pid))
    answers = [resolver.resolve(arn, {"topic": {"text": t}}).messages[0]["content"] for t in ("a", "b", "c")]
    assert answers == ["About a", "About b", "About c"]  # the cache holds the template, not a rendering
    clock.advance(1800)
    resolver.resolve(arn, TOPIC)
    assert agent.get_prompt_calls(pid, "1") == 1
    clock.advance(1801)
    resolver.resolve(arn, TOPIC)
    assert agent.get_prompt_calls(pid, "1") == 2


def test_a_draft_is_refetched_after_its_short_ttl(
    agent: FakeBedrockAgent, resolver: PromptResolver, clock: Clock
) -> None:
    pid = agent.put_prompt(text_variant("old {{topic}}"))
    arn = agent.arn(pid)
    assert resolver.resolve(arn, TOPIC).messages[0]["content"] == "old fruit"
    agent.put_prompt(text_variant("new {{topic}}"), prompt_id=pid)
    clock.advance(29)
    assert resolver.resolve(arn, TOPIC).messages[0]["content"] == "old fruit"
    assert agent.get_prompt_calls(pid) == 1
    clock.advance(2)
    assert resolver.resolve(arn, TOPIC).messages[0]["content"] == "new fruit"
    assert agent.get_prompt_calls(pid) == 2


def test_the_cache_is_bounded(agent: FakeBedrockAgent, clock: Clock) -> None:
    resolver = PromptResolver(timer=clock, config=NO_RETRY, maxsize=2)
    ids = [agent.put_prompt(text_variant("x")) for _ in range(3)]
    arns = [agent.arn(pid, agent.create_version(pid)) for pid in ids]
    for arn in [*arns, arns[0]]:
        resolver.resolve(arn, None)
    assert agent.get_prompt_calls(ids[0], "1") == 2
    assert agent.get_prompt_calls(ids[2], "1") == 1


def test_variable_errors_still_cache_the_prompt(agent: FakeBedrockAgent, resolver: PromptResolver) -> None:
    pid = agent.put_prompt(text_variant("{{topic}}"))
    arn = agent.arn(pid, agent.create_version(pid))
    error = error_of(resolver, arn, {"wrong": {"text": "x"}})
    assert (error.kind, error.message) == (
        ErrorKind.VALIDATION,
        "missing prompt variable(s): topic; unknown prompt variable(s): wrong",
    )
    resolver.resolve(arn, TOPIC)
    assert agent.get_prompt_calls(pid, "1") == 1


def test_malformed_arn_makes_no_call(agent: FakeBedrockAgent, resolver: PromptResolver) -> None:
    error = error_of(resolver, "arn:aws:bedrock:us-east-1:123456789012:prompt/short")
    assert error.kind is ErrorKind.VALIDATION
    assert agent.calls() == {}


@pytest.mark.parametrize("version", [None, "4"])
def test_not_found(agent: FakeBedrockAgent, resolver: PromptResolver, version: str | None) -> None:
    pid = agent.put_prompt(text_variant("x")) if version else "NOSUCHPRMT"
    arn = agent.arn(pid, version)
    error = error_of(resolver, arn)
    assert (error.kind, error.message) == (ErrorKind.NOT_FOUND, f"prompt {arn} not found")
    assert error.bedrock_name() == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("AccessDeniedException", 403, ErrorKind.FORBIDDEN),
        ("ThrottlingException", 429, ErrorKind.RATE_LIMITED),
        ("ValidationException", 400, ErrorKind.VALIDATION),
        ("InternalServerException", 500, ErrorKind.UNAVAILABLE),
        ("UnrecognizedClientException", 403, ErrorKind.UNAVAILABLE),  # the gateway's own credentials
    ],
)
def test_service_errors(agent: FakeBedrockAgent, resolver: PromptResolver, code: str, status: int, kind) -> None:
    pid = agent.put_prompt(text_variant("x"))
    agent.fail(pid, code, status)
    error = error_of(resolver, agent.arn(pid))
    assert error.kind is kind
    assert pid in error.message
    assert "Traceback" not in error.message and "botocore" not in error.message


def test_access_denied_maps_to_bedrock_access_denied(agent: FakeBedrockAgent, resolver: PromptResolver) -> None:
    pid = agent.put_prompt(text_variant("x"))
    agent.fail(pid)
    error = error_of(resolver, agent.arn(pid))
    assert (error.bedrock_name(), error.bedrock_status(), error.openai_status()) == ("AccessDeniedException", 403, 403)
    assert error.message == f"access to prompt {agent.arn(pid)} denied"


def test_failures_are_not_cached(agent: FakeBedrockAgent, resolver: PromptResolver) -> None:
    pid = agent.put_prompt(text_variant("ok"))
    agent.fail(pid, "ThrottlingException", 429)
    error_of(resolver, agent.arn(pid))
    agent.clear_failure(pid)
    assert resolver.resolve(agent.arn(pid), None).messages == [{"role": "user", "content": "ok"}]
    assert agent.get_prompt_calls(pid) == 2


def test_unreachable_endpoint(agent: FakeBedrockAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT", f"http://127.0.0.1:{port}")
    arn = "arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDE12345"
    error = error_of(PromptResolver(config=NO_RETRY), arn)
    assert (error.kind, error.message) == (ErrorKind.UNAVAILABLE, f"prompt {arn} could not be fetched; retry later")


def test_the_endpoint_comes_from_the_generic_variable_too(agent: FakeBedrockAgent, monkeypatch, clock) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_AGENT")
    monkeypatch.setenv("AWS_ENDPOINT_URL", agent.url)
    pid = agent.put_prompt(text_variant("x"))
    assert PromptResolver(timer=clock, config=NO_RETRY).resolve(agent.arn(pid), None).model == "fake"


def test_one_client_per_region(agent: FakeBedrockAgent, clock: Clock) -> None:
    made: list[str] = []

    def factory(region: str):
        made.append(region)
        return boto3.client("bedrock-agent", region_name=region, config=NO_RETRY)

    resolver = PromptResolver(timer=clock, client_factory=factory)
    pid = agent.put_prompt(text_variant("x"))
    agent.create_version(pid)
    agent.create_version(pid)
    for region, version in [("us-east-1", None), ("us-east-1", "1"), ("eu-west-1", "1"), ("us-east-1", "2")]:
        resolver.resolve(agent.arn(pid, version, region=region), None)
    assert made == ["us-east-1", "eu-west-1"]
    assert [r["region"] for r in agent.requests] == ["us-east-1", "us-east-1", "eu-west-1", "us-east-1"]


def test_made_up_regions_make_no_clients(agent: FakeBedrockAgent, clock: Clock) -> None:
    """Issue 16 defect 4: 300 made-up regions used to leave 300 clients (~77 MB) behind."""
    made: list[str] = []
    resolver = PromptResolver(timer=clock, client_factory=lambda region: made.append(region))
    pid = agent.put_prompt(text_variant("x"))
    for n in range(300):
        error = error_of(resolver, agent.arn(pid, "1", region=f"us-fake{n}-1"))
        assert error.kind is ErrorKind.VALIDATION
        assert f"unknown AWS region 'us-fake{n}-1'" in error.message
    assert made == []
    assert agent.requests == []


def test_clients_are_bounded_even_across_every_real_region(agent: FakeBedrockAgent, clock: Clock) -> None:
    live: set[int] = set()

    def factory(region: str):
        client = boto3.client("bedrock-agent", region_name=region, config=NO_RETRY)
        live.add(id(client))
        weakref.finalize(client, live.discard, id(client))
        return client

    resolver = PromptResolver(timer=clock, client_factory=factory)
    pid = agent.put_prompt(text_variant("x"))
    regions = sorted(boto3.session.Session().get_available_regions("bedrock"))
    assert len(regions) > MAX_CLIENTS
    for region in regions:
        assert resolver.resolve(agent.arn(pid, region=region), None).model == "fake"
        resolver.clear()  # fetch again: every region goes through its client
    gc.collect()
    assert len(live) <= MAX_CLIENTS
    assert {r["region"] for r in agent.requests} == set(regions)
