"""The public edge: API Gateway REST API (regional) with WAF, access logs, the REQUEST authorizer, the
gateway routes on Lambda (response streaming) and every other LiteLLM route on the internal ALB.

Private integration: a **VPC link V2** (``AWS::ApiGatewayV2::VpcLink``), which REST APIs accept for
Application Load Balancers since late 2025, so no NLB is needed in front of the ALB. The L2 ``Integration``
only knows V1 links, so ``ConnectionId``/``IntegrationTarget`` are set with the CloudFormation escape hatch.

API Gateway does not fall back from a static resource to the root ``{proxy+}``, so every static prefix
created for a gateway route (``/v1``, ``/user``, ``/bedrock`` …) gets its own ``{proxy+}`` child that forwards
to LiteLLM under the same path — except the prefixes in :data:`MIDDLEWARE_PROXIES`, whose ``{proxy+}`` goes to
the middleware (which relays what it does not serve itself to LiteLLM).

**Prompt ARNs as ``modelId``.** boto3 percent-encodes the ``{modelId}`` label, ``/`` included, so a managed
prompt arrives as ``/bedrock/model/arn%3Aaws%3Abedrock%3A…%3Aprompt%2FPROMPTID%3A1/converse``. AWS documents a
path variable (``{modelId}``) as matching one path segment and a greedy ``{proxy+}`` as matching all child
resources below its parent
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html); it does not
document, for REST APIs, whether ``%2F`` is decoded before matching (for HTTP APIs it says parameters are
decoded). So there are two possible readings, and both must end at the Converse handler:

* ``%2F`` kept inside the segment: ``{modelId}`` = the whole ARN, the request reaches
  ``POST /bedrock/model/{modelId}/converse`` — the middleware route.
* ``%2F`` treated as ``/``: the segments are ``…:prompt`` / ``PROMPTID:1`` / ``converse``; the static child
  ``converse`` does not match ``PROMPTID:1``, so the request reaches ``/bedrock/model/{modelId}/{proxy+}``.
  That greedy resource therefore goes to the middleware too (it used to go to the ALB: LiteLLM's own Bedrock
  pass-through, which knows nothing of managed prompts), and the middleware's own router matches the full path
  (``{model_id:path}/converse``).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .common import retention, suppress
from .functions import GatewayFunctions
from .gateway_responses import add_gateway_responses
from .litellm_service import LiteLLMService
from .network import Network
from .settings import Settings

#: (method, path) the middleware function serves, with response streaming.
GATEWAY_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/v1/chat/completions"),
    ("POST", "/chat/completions"),
    ("POST", "/bedrock/model/{modelId}/converse"),
    ("POST", "/bedrock/model/{modelId}/converse-stream"),
    # Anthropic Messages bodies (Claude Code, AnthropicBedrock, boto3 invoke_model) for any model
    ("POST", "/bedrock/model/{modelId}/invoke"),
    ("POST", "/bedrock/model/{modelId}/invoke-with-response-stream"),
    ("POST", "/chat-history"),
    ("POST", "/bedrock/chat-history"),
    ("POST", "/session-ids"),
    ("POST", "/user/new"),
    ("POST", "/key/generate"),
    # Every key-writing route is guarded by the middleware, which relays the rest of /key to LiteLLM.
    ("ANY", "/key"),
    ("POST", "/team/key/bulk_update"),  # a key-writing route outside /key, guarded the same way
    ("GET", "/gateway/openapi.json"),
    # Bedrock control-plane discovery and CountTokens at the Bedrock base (gateway.discovery, token_count)
    ("GET", "/bedrock/inference-profiles"),
    ("GET", "/bedrock/inference-profiles/{inferenceProfileIdentifier}"),
    ("GET", "/bedrock/foundation-models"),
    ("GET", "/bedrock/foundation-models/{modelIdentifier}"),
    ("POST", "/bedrock/model/{modelId}/count-tokens"),
    # LiteLLM's other inference routes, relayed by the middleware so that Okta JWTs act through the user's
    # managed key (web/proxy.py); their sub-paths follow through MIDDLEWARE_PROXIES
    ("POST", "/v1/messages"),
    ("POST", "/v1/responses"),
    ("POST", "/responses"),
    ("POST", "/v1/embeddings"),
    ("POST", "/embeddings"),
    ("GET", "/v1/models"),
    ("GET", "/models"),
    # The Responses API and conversations (state in chat history). Other methods and sub-paths of a
    # response or conversation (input_items, items, LiteLLM's cancel …) reach the middleware through
    # the resource's {proxy+}; the middleware relays what it does not serve to LiteLLM.
    ("ANY", "/v1/responses/{responseId}"),
    ("POST", "/v1/conversations"),
    ("ANY", "/v1/conversations/{conversationId}"),
)
#: Static prefixes whose ``{proxy+}`` goes to the middleware instead of the ALB (see the module docstring).
MIDDLEWARE_PROXIES: frozenset[str] = frozenset(
    {
        "/key",
        "/bedrock/model/{modelId}",
        "/gateway",
        # LiteLLM inference sub-routes a JWT may use (count_tokens, a stored response, one model), the
        # Responses API's stored responses and conversations
        "/v1/messages",
        "/responses",
        "/v1/responses/{responseId}",
        "/v1/conversations/{conversationId}",
        "/v1/models",
        "/models",
    }
)
#: LiteLLM's admin UI (``gateway/web/ui_access.py``, the same list): (path, methods) that pass WITHOUT the
#: authorizer, to the middleware, which relays them to LiteLLM (or, :data:`UI_STATIC_TO_ALB`, to the ALB). A
#: ``{proxy+}`` path covers the static files below it. Every other method on these resources, and every other
#: path below their parents, keeps the authorizer.
UI_ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/ui", ("GET", "HEAD")),
    ("/ui/{proxy+}", ("GET", "HEAD")),
    ("/litellm-asset-prefix/_next/{proxy+}", ("GET", "HEAD")),
    ("/get_image", ("GET",)),
    ("/get_favicon", ("GET",)),
    ("/litellm/.well-known/litellm-ui-config", ("GET",)),
    ("/get/ui_theme_settings", ("GET",)),
    ("/get/ui_settings", ("GET",)),
    ("/v2/login", ("POST",)),
    ("/sso/key/generate", ("GET",)),
    ("/sso/callback", ("GET",)),
)
#: UI routes whose public methods go straight to the ALB: the UI's scripts, styles and fonts — content-hashed
#: files at exact paths, most of a page load's requests — need nothing from the middleware, unless the UI runs
#: below a path prefix (:func:`ui_path_prefix`), where their text must name it (``gateway/web/ui_access.py``).
UI_STATIC_TO_ALB: frozenset[str] = frozenset({"/litellm-asset-prefix/_next/{proxy+}"})
UI_OFF_MESSAGE = "the admin UI is turned off on this gateway (UI_ACCESS=off)"
STAGE_NAME = "prod"


def ui_path_prefix(settings: Settings) -> str:
    """The path between the ServiceURL's host and the gateway's routes (the middleware's ``UI_PATH_PREFIX``):
    the stage on the ``execute-api`` URL, which API Gateway strips before the request reaches an integration;
    nothing on the custom domain, whose base path mapping is the root (``DomainName(mapping=...)``)."""
    return "" if settings.domain_name else f"/{STAGE_NAME}"


#: Streaming integrations may run up to 15 minutes (the REST API limit with ResponseTransferMode STREAM).
STREAM_TIMEOUT = Duration.minutes(15)
#: Rules of the common rule set that inspect the body. Prompts are arbitrary text (code, URLs, HTML, long
#: documents), so these only count; everything else in the set blocks.
_BODY_RULES_TO_COUNT = (
    "SizeRestrictions_BODY",
    "CrossSiteScripting_BODY",
    "GenericLFI_BODY",
    "GenericRFI_BODY",
    "EC2MetaDataSSRF_BODY",
)


class GatewayApi(Construct):
    """REST API + stage + WAF (+ custom domain). ``url`` is the ServiceURL clients use."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        functions: GatewayFunctions,
        litellm: LiteLLMService,
    ) -> None:
        super().__init__(scope, construct_id)
        self._litellm = litellm
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(settings.sizing.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # No API Gateway result cache and no identity sources: with caching on, API Gateway refuses (401,
        # without invoking the authorizer) any request missing one of the identity sources, so a key sent as
        # `x-api-key` (Anthropic SDKs, Claude Code) or `api-key` (Azure OpenAI clients) instead of
        # `Authorization` could never pass. Identity sources are optional when caching is off
        # (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html, identitySource). The
        # authorizer function keeps its own bounded key cache instead (docs/deploy.md, "Auth").
        # `x-api-key` means nothing special to API Gateway here: with ApiKeySourceType HEADER (the default) it
        # is read only for methods with ApiKeyRequired, and none has it
        # (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html).
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "Authorizer",
            handler=functions.authorizer,
            identity_sources=[],
            results_cache_ttl=Duration.seconds(0),
        )
        cfn_authorizer = self.authorizer.node.default_child
        assert isinstance(cfn_authorizer, apigw.CfnAuthorizer)
        cfn_authorizer.add_property_deletion_override("IdentitySource")
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=settings.stack_name,
            description="GenAI Gateway: OpenAI and Bedrock Converse APIs in front of LiteLLM",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            disable_execute_api_endpoint=settings.domain_name is not None,
            cloud_watch_role=True,
            # Account-wide setting shared with other APIs: keep the role if this stack goes away.
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_method_options=apigw.MethodOptions(
                authorizer=self.authorizer, authorization_type=apigw.AuthorizationType.CUSTOM
            ),
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
        )
        # Path parameters are checked at the edge; bodies are validated by the gateway app against the
        # OpenAI/Converse schemas (a second JSON schema here would drift from it).
        self.validator = self.rest_api.add_request_validator(
            "ParameterValidator", validate_request_parameters=True, validate_request_body=False
        )
        add_gateway_responses(self.rest_api)

        self.vpc_link_security_group = ec2.SecurityGroup(
            self, "VpcLinkSecurityGroup", vpc=network.vpc, description="API Gateway VPC link to the internal ALB"
        )
        litellm.allow_from(self.vpc_link_security_group, "API Gateway VPC link")
        litellm.allow_from(functions.security_group, "Gateway functions")
        self.vpc_link = apigwv2.VpcLink(
            self,
            "VpcLink",
            vpc=network.vpc,
            subnets=network.private,
            security_groups=[self.vpc_link_security_group],
        )

        stream = apigw.LambdaIntegration(
            functions.api_target,
            proxy=True,
            response_transfer_mode=apigw.ResponseTransferMode.STREAM,
            timeout=STREAM_TIMEOUT,
            scope_permission_to_method=False,
        )
        proxied = self._build_routes(stream)
        self.ui_path_prefix = ui_path_prefix(settings)
        functions.api.add_environment("UI_PATH_PREFIX", self.ui_path_prefix)
        self._build_ui_routes(stream, proxied, ui_access=settings.ui_access, prefix=self.ui_path_prefix)
        self.web_acl = self._web_acl(settings)
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )

        self.url = self.rest_api.url
        self.domain: apigw.DomainName | None = None
        if settings.domain_name and settings.certificate_arn:
            self.domain = apigw.DomainName(
                self,
                "Domain",
                domain_name=settings.domain_name,
                certificate=acm.Certificate.from_certificate_arn(self, "Certificate", settings.certificate_arn),
                endpoint_type=apigw.EndpointType.REGIONAL,
                security_policy=apigw.SecurityPolicy.TLS_1_2,
                mapping=self.rest_api,
            )
            self.url = f"https://{settings.domain_name}/"

        suppress(
            self.rest_api,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]": "The account-level API Gateway logging role uses the "
                "AWS-managed policy that is the documented minimum for execution logs.",
                "AwsSolutions-APIG2": "Request parameters are validated here; request bodies are validated by "
                "the gateway app (OpenAI/Converse schemas) and by LiteLLM, with the error shapes clients expect.",
                "AwsSolutions-COG4": "Callers present LiteLLM keys or OIDC (Okta) JWTs, verified by the Lambda "
                "REQUEST authorizer on every method; there is no Cognito user pool.",
            },
        )

    # -- routes ---------------------------------------------------------------------------------------

    def _build_routes(self, stream: apigw.LambdaIntegration) -> set[str]:
        """The gateway routes; the resource paths that got a ``{proxy+}`` child."""
        root = self.rest_api.root
        self._private_proxy(root, "", ())
        proxied: set[str] = set()
        for verb, route in GATEWAY_ROUTES:
            resource: apigw.IResource = root
            params: list[str] = []
            parts = route.strip("/").split("/")
            for index, part in enumerate(parts[:-1]):
                resource = resource.get_resource(part) or resource.add_resource(part)
                if part.startswith("{"):
                    params.append(part.strip("{}"))
                # A resource cannot have two variable children, so {proxy+} yields to e.g. {modelId}.
                if resource.path not in proxied and not parts[index + 1].startswith("{"):
                    proxied.add(resource.path)
                    self._proxy(resource, tuple(params), stream)
            leaf = parts[-1]
            if leaf.startswith("{"):  # e.g. /bedrock/foundation-models/{modelIdentifier}
                params.append(leaf.strip("{}"))
            resource = resource.get_resource(leaf) or resource.add_resource(leaf)
            if resource.path in MIDDLEWARE_PROXIES and resource.path not in proxied:
                proxied.add(resource.path)
                self._proxy(resource, tuple(params), stream)
            request_parameters = {f"method.request.path.{p}": True for p in params}
            resource.add_method(
                verb, stream, request_parameters=request_parameters or None, request_validator=self.validator
            )
        return proxied

    def _build_ui_routes(
        self, stream: apigw.LambdaIntegration, proxied: set[str], *, ui_access: bool, prefix: str
    ) -> None:
        """:data:`UI_ROUTES` without the authorizer: to the middleware (``UI_ACCESS=on``) or a 404 answered by
        API Gateway itself (``off``). Each new parent gets its authorized ``{proxy+}`` (API Gateway does not fall
        back to the root's), each UI resource an authorized ``ANY`` to the ALB (today's rule) for the other methods.

        Pages and the login go through the middleware rather than straight to the ALB: the middleware sees the
        path exactly as sent (``/ui/login/`` keeps its slash, which LiteLLM's static files need), drops
        credentials nobody checked, turns LiteLLM's redirects (built from the ALB's host name) into paths on the
        ServiceURL, and is the code the browser test runs locally. The scripts, styles and fonts
        (:data:`UI_STATIC_TO_ALB`) go straight to the ALB: a page load's burst of them invokes no function —
        except below a path ``prefix`` (the ``execute-api`` URL's stage), where the middleware rewrites their
        absolute paths to carry it. Binary files need no ``binaryMediaTypes``: both integrations stream.
        """
        off = self._ui_off_integration() if not ui_access else None
        for route, verbs in UI_ROUTES:
            resource: apigw.IResource = self.rest_api.root
            parts = route.strip("/").split("/")
            for index, part in enumerate(parts):
                resource = resource.get_resource(part) or resource.add_resource(part)
                parent = index < len(parts) - 1
                if parent and parts[index + 1] != "{proxy+}" and resource.path not in proxied:
                    proxied.add(resource.path)
                    self._proxy(resource, (), stream)
            greedy = route.endswith("{proxy+}")
            params = {"method.request.path.proxy": True} if greedy else None
            # the methods the UI does not use keep today's rule: the authorizer, then LiteLLM on the ALB
            self._alb_method(resource, "ANY", route.replace("{proxy+}", "{proxy}"), ("proxy",) if greedy else ())
            for verb in verbs:
                if off is None and route in UI_STATIC_TO_ALB and not prefix:
                    uri = route.replace("{proxy+}", "{proxy}")
                    method = self._alb_method(resource, verb, uri, ("proxy",), public=True)
                else:
                    method = resource.add_method(
                        verb,
                        off or stream,
                        authorization_type=apigw.AuthorizationType.NONE,
                        request_parameters=params,
                        request_validator=self.validator,
                        method_responses=[apigw.MethodResponse(status_code="404")] if off else None,
                    )
                suppress(
                    method,
                    {
                        "AwsSolutions-APIG4": "LiteLLM's admin UI: its static pages and assets, and its login/SSO "
                        "endpoints, which a browser calls without an Authorization header; LiteLLM's own login "
                        "protects everything behind them (docs/operations.md, 'Admin UI'). UI_ACCESS=off "
                        "answers 404 here.",
                        "AwsSolutions-COG4": "See AwsSolutions-APIG4: no caller identity exists before the login.",
                    },
                )

    @staticmethod
    def _ui_off_integration() -> apigw.MockIntegration:
        """A 404 answered by API Gateway (OpenAI error format), for the UI's routes with ``UI_ACCESS=off``."""
        body = (
            '{"error": {"message": "' + UI_OFF_MESSAGE + '", "type": "not_found_error", "code": "not_found", '
            '"param": null}}'
        )
        return apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 404}'},
            passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_TEMPLATES,
            integration_responses=[
                apigw.IntegrationResponse(status_code="404", response_templates={"application/json": body})
            ],
        )

    def _proxy(self, resource: apigw.IResource, params: tuple[str, ...], stream: apigw.LambdaIntegration) -> None:
        """``ANY <resource>/{proxy+}``: to the middleware for :data:`MIDDLEWARE_PROXIES`, else to the ALB."""
        if resource.path not in MIDDLEWARE_PROXIES:
            self._private_proxy(resource, resource.path, params)
            return
        resource.add_resource("{proxy+}").add_method(
            "ANY",
            stream,
            request_parameters={f"method.request.path.{p}": True for p in ("proxy", *params)},
            request_validator=self.validator,
        )

    def _private_proxy(self, resource: apigw.IResource, path: str, params: tuple[str, ...]) -> None:
        """``ANY <path>/{proxy+}`` -> ``http://<internal ALB><path>/{proxy}`` over the VPC link V2."""
        self._alb_method(resource.add_resource("{proxy+}"), "ANY", f"{path}/{{proxy}}", ("proxy", *params))

    def _alb_method(
        self, resource: apigw.IResource, verb: str, uri_path: str, mapped: tuple[str, ...], *, public: bool = False
    ) -> apigw.Method:
        """``verb`` on ``resource`` (with the authorizer unless ``public``) -> ``http://<internal ALB><uri_path>``
        over the VPC link V2; ``mapped``: the path parameters carried over."""
        integration = apigw.Integration(
            type=apigw.IntegrationType.HTTP_PROXY,
            integration_http_method="ANY",
            uri=f"{self._litellm.url}{uri_path}",
            options=apigw.IntegrationOptions(
                request_parameters={f"integration.request.path.{p}": f"method.request.path.{p}" for p in mapped}
                or None,
                response_transfer_mode=apigw.ResponseTransferMode.STREAM,
                timeout=STREAM_TIMEOUT,
            ),
        )
        method = resource.add_method(
            verb,
            integration,
            authorization_type=apigw.AuthorizationType.NONE if public else None,
            request_parameters={f"method.request.path.{p}": True for p in mapped} or None,
            request_validator=self.validator,
        )
        cfn_method = method.node.default_child
        assert isinstance(cfn_method, apigw.CfnMethod)
        cfn_method.add_property_override("Integration.ConnectionType", "VPC_LINK")
        cfn_method.add_property_override("Integration.ConnectionId", self.vpc_link.vpc_link_id)
        cfn_method.add_property_override("Integration.IntegrationTarget", self._litellm.alb.load_balancer_arn)
        return method

    # -- WAF ------------------------------------------------------------------------------------------

    def _web_acl(self, settings: Settings) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"{settings.stack_name}-waf"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="AWSManagedRulesCommonRuleSet",
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name="AWSManagedRulesCommonRuleSet",
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                                )
                                for rule in _BODY_RULES_TO_COUNT
                            ],
                        )
                    ),
                    visibility_config=visibility("common-rules"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=settings.sizing.waf_rate_limit, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=visibility("rate-limit"),
                ),
            ],
        )
