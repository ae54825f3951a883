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
    ("POST", "/chat-history"),
    ("POST", "/bedrock/chat-history"),
    ("POST", "/session-ids"),
    ("POST", "/user/new"),
    ("POST", "/key/generate"),
    # Every key-writing route is guarded by the middleware, which relays the rest of /key to LiteLLM.
    ("ANY", "/key"),
    ("POST", "/team/key/bulk_update"),  # a key-writing route outside /key, guarded the same way
    ("GET", "/gateway/openapi.json"),
    # The Responses API and conversations (state in chat history). Other methods and sub-paths of a
    # response or conversation (input_items, items, LiteLLM's cancel …) reach the middleware through
    # the resource's {proxy+}; the middleware relays what it does not serve to LiteLLM.
    ("POST", "/v1/responses"),
    ("ANY", "/v1/responses/{responseId}"),
    ("POST", "/v1/conversations"),
    ("ANY", "/v1/conversations/{conversationId}"),
)
#: Static prefixes whose ``{proxy+}`` goes to the middleware instead of the ALB (see the module docstring).
MIDDLEWARE_PROXIES: frozenset[str] = frozenset(
    {"/key", "/bedrock/model/{modelId}", "/gateway", "/v1/responses/{responseId}", "/v1/conversations/{conversationId}"}
)
STAGE_NAME = "prod"
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

        self._build_routes(
            apigw.LambdaIntegration(
                functions.api_target,
                proxy=True,
                response_transfer_mode=apigw.ResponseTransferMode.STREAM,
                timeout=STREAM_TIMEOUT,
                scope_permission_to_method=False,
            )
        )
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

    def _build_routes(self, stream: apigw.LambdaIntegration) -> None:
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
            resource = resource.get_resource(leaf) or resource.add_resource(leaf)
            if resource.path in MIDDLEWARE_PROXIES and resource.path not in proxied:
                proxied.add(resource.path)
                self._proxy(resource, tuple(params), stream)
            request_parameters = {f"method.request.path.{p}": True for p in params}
            resource.add_method(
                verb, stream, request_parameters=request_parameters or None, request_validator=self.validator
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
        proxy = resource.add_resource("{proxy+}")
        mapped = ("proxy", *params)
        integration = apigw.Integration(
            type=apigw.IntegrationType.HTTP_PROXY,
            integration_http_method="ANY",
            uri=f"{self._litellm.url}{path}/{{proxy}}",
            options=apigw.IntegrationOptions(
                request_parameters={f"integration.request.path.{p}": f"method.request.path.{p}" for p in mapped},
                response_transfer_mode=apigw.ResponseTransferMode.STREAM,
                timeout=STREAM_TIMEOUT,
            ),
        )
        method = proxy.add_method(
            "ANY",
            integration,
            request_parameters={f"method.request.path.{p}": True for p in mapped},
            request_validator=self.validator,
        )
        cfn_method = method.node.default_child
        assert isinstance(cfn_method, apigw.CfnMethod)
        cfn_method.add_property_override("Integration.ConnectionType", "VPC_LINK")
        cfn_method.add_property_override("Integration.ConnectionId", self.vpc_link.vpc_link_id)
        cfn_method.add_property_override("Integration.IntegrationTarget", self._litellm.alb.load_balancer_arn)

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
