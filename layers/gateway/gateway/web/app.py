"""The ASGI application the Lambda Web Adapter and ``make local`` both serve."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import ErrorKind, GatewayError
from gateway.settings import Settings, get_settings
from gateway.web.access_log import AccessLogMiddleware
from gateway.web.account_routes import user_new
from gateway.web.auth import AuthMiddleware
from gateway.web.bedrock_control_routes import (
    count_tokens,
    get_foundation_model,
    get_inference_profile,
    list_foundation_models,
    list_inference_profiles,
)
from gateway.web.context import GatewayContext
from gateway.web.converse_routes import converse, converse_stream
from gateway.web.errors import error_response, handle_gateway_error, handle_unexpected_error
from gateway.web.history_routes import bedrock_chat_history, chat_history, session_ids
from gateway.web.invoke_routes import invoke, invoke_stream
from gateway.web.key_routes import key_route
from gateway.web.openai_routes import chat_completions
from gateway.web.openapi import OPENAPI_PATH, openapi_route
from gateway.web.proxy import proxy_to_litellm
from gateway.web.responses_routes import (
    add_conversation_items,
    conversation_items,
    create_conversation,
    create_response,
    delete_response,
    get_conversation,
    get_response,
    response_input_items,
)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


async def health(_: Request) -> Response:
    """Liveness of the middleware itself (the Lambda Web Adapter's readiness check)."""
    return JSONResponse({"status": "ok"})


async def handle_routing_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals in the route family's format (a path no route matches: one with a
    newline, which ``{param:path}`` does not cross)."""
    assert isinstance(exc, HTTPException)
    kind = ErrorKind.NOT_FOUND if exc.status_code == 404 else ErrorKind.VALIDATION
    return error_response(GatewayError(kind, str(exc.detail)), request.url.path)


def create_app(settings: Settings | None = None) -> Starlette:
    context = GatewayContext.from_settings(settings or get_settings())
    routes = [
        Route("/gateway/health", health, methods=["GET"]),
        Route(OPENAPI_PATH, openapi_route, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/chat/completions", chat_completions, methods=["POST"]),
        Route("/bedrock/model/{model_id:path}/converse", converse, methods=["POST"]),
        Route("/bedrock/model/{model_id:path}/converse-stream", converse_stream, methods=["POST"]),
        # Anthropic Messages bodies (Claude Code, AnthropicBedrock, boto3 invoke_model) for any model
        Route("/bedrock/model/{model_id:path}/invoke", invoke, methods=["POST"]),
        Route("/bedrock/model/{model_id:path}/invoke-with-response-stream", invoke_stream, methods=["POST"]),
        # Bedrock control-plane discovery and CountTokens (gateway.discovery, gateway.token_count)
        Route("/bedrock/model/{model_id:path}/count-tokens", count_tokens, methods=["POST"]),
        Route("/bedrock/inference-profiles", list_inference_profiles, methods=["GET"]),
        Route("/bedrock/inference-profiles/{identifier:path}", get_inference_profile, methods=["GET"]),
        Route("/bedrock/foundation-models", list_foundation_models, methods=["GET"]),
        Route("/bedrock/foundation-models/{identifier:path}", get_foundation_model, methods=["GET"]),
        Route("/chat-history", chat_history, methods=["POST"]),
        Route("/bedrock/chat-history", bedrock_chat_history, methods=["POST"]),
        Route("/session-ids", session_ids, methods=["POST"]),
        Route("/user/new", user_new, methods=["POST"]),
        # the Responses API, its state in chat history (gateway/responses/)
        Route("/v1/responses", create_response, methods=["POST"]),
        Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
        Route("/v1/responses/{response_id}", delete_response, methods=["DELETE"]),
        Route("/v1/responses/{response_id}/input_items", response_input_items, methods=["GET"]),
        Route("/v1/conversations", create_conversation, methods=["POST"]),
        Route("/v1/conversations/{conversation_id}", get_conversation, methods=["GET"]),
        Route("/v1/conversations/{conversation_id}/items", conversation_items, methods=["GET"]),
        Route("/v1/conversations/{conversation_id}/items", add_conversation_items, methods=["POST"]),
        # every /key/* path and method (API Gateway routes ANY /key/{proxy+} here): writes are checked
        Route("/key/{rest:path}", key_route, methods=ALL_METHODS),
        Route("/team/key/bulk_update", key_route, methods=["POST"]),
        Route("/{path:path}", proxy_to_litellm, methods=ALL_METHODS),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AccessLogMiddleware), Middleware(AuthMiddleware)],
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_routing_error,
            Exception: handle_unexpected_error,
        },
    )
    app.state.gw = context
    return app
