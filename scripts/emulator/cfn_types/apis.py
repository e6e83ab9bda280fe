"""API Gateway resources moto's CloudFormation does not model, made through
moto's apigateway (REST) and apigatewayv2 (HTTP) backends.

The template's members are PascalCase; the services' request members (what
moto's backends take) are the same names in camelCase.
"""

import json

from moto.apigateway.models import apigateway_backends
from moto.apigatewayv2.models import apigatewayv2_backends

from cfn_types.service_resource import ServiceResource, tag_map


def camel(struct):
    """One level of a template structure in the API's member names."""
    return {k[0].lower() + k[1:]: v for k, v in (struct or {}).items()} if struct is not None else None


# -- HTTP APIs (API Gateway v2) ----------------------------------------------


class HttpApiPart(ServiceResource):
    def backend(self):
        return apigatewayv2_backends[self.account_id][self.region_name]


class Api(HttpApiPart):
    TYPE = "AWS::ApiGatewayV2::Api"

    def arguments(self):
        p = self.properties
        return dict(
            api_key_selection_expression=p.get("ApiKeySelectionExpression"),
            cors_configuration=camel(p.get("CorsConfiguration")),
            description=p.get("Description"),
            disable_schema_validation=p.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=p.get("DisableExecuteApiEndpoint"),
            name=p.get("Name") or self.generated_name,
            route_selection_expression=p.get("RouteSelectionExpression"),
            version=p.get("Version"),
        )

    def create(self):
        if "Body" in self.properties or "BodyS3Location" in self.properties:
            raise NotImplementedError("the emulator does not import OpenAPI bodies into AWS::ApiGatewayV2::Api")
        api = self.backend().create_api(protocol_type=self.properties["ProtocolType"], tags=tag_map(self.properties.get("Tags")), **self.arguments())
        self.physical_resource_id = api.api_id
        self.attributes = {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint, "ExecuteApiArn": self.arn("execute-api", api.api_id)}

    def update(self):
        api = self.backend().update_api(self.physical_resource_id, **self.arguments())
        if self.properties.get("CorsConfiguration") is None:
            api.delete_cors_configuration()
        api.tags = tag_map(self.properties.get("Tags"))

    def remove(self):
        self.backend().delete_api(self.physical_resource_id)


class Integration(HttpApiPart):
    TYPE = "AWS::ApiGatewayV2::Integration"

    def arguments(self):
        p = self.properties
        return dict(
            connection_id=p.get("ConnectionId"),
            connection_type=p.get("ConnectionType"),
            content_handling_strategy=p.get("ContentHandlingStrategy"),
            credentials_arn=p.get("CredentialsArn"),
            description=p.get("Description"),
            integration_method=p.get("IntegrationMethod"),
            integration_subtype=p.get("IntegrationSubtype"),
            integration_type=p["IntegrationType"],
            integration_uri=p.get("IntegrationUri"),
            passthrough_behavior=p.get("PassthroughBehavior"),
            payload_format_version=p.get("PayloadFormatVersion"),
            request_parameters=p.get("RequestParameters"),
            request_templates=p.get("RequestTemplates"),
            response_parameters=p.get("ResponseParameters"),
            template_selection_expression=p.get("TemplateSelectionExpression"),
            timeout_in_millis=p.get("TimeoutInMillis"),
            tls_config=camel(p.get("TlsConfig")),
        )

    def create(self):
        integration = self.backend().create_integration(api_id=self.properties["ApiId"], **self.arguments())
        self.physical_resource_id = integration.id
        self.attributes = {"IntegrationId": integration.id}

    def update(self):
        self.backend().update_integration(api_id=self.properties["ApiId"], integration_id=self.physical_resource_id, **self.arguments())

    def remove(self):
        self.backend().delete_integration(api_id=self.properties["ApiId"], integration_id=self.physical_resource_id)


class Route(HttpApiPart):
    TYPE = "AWS::ApiGatewayV2::Route"

    def arguments(self):
        p = self.properties
        return dict(
            api_key_required=p.get("ApiKeyRequired", False),
            authorization_scopes=p.get("AuthorizationScopes"),
            authorization_type=p.get("AuthorizationType", "NONE"),
            authorizer_id=p.get("AuthorizerId"),
            model_selection_expression=p.get("ModelSelectionExpression"),
            operation_name=p.get("OperationName"),
            request_models=p.get("RequestModels"),
            request_parameters={k: camel(v) for k, v in (p.get("RequestParameters") or {}).items()} or None,
            route_key=p["RouteKey"],
            route_response_selection_expression=p.get("RouteResponseSelectionExpression"),
            target=p.get("Target"),
        )

    def create(self):
        route = self.backend().create_route(api_id=self.properties["ApiId"], **self.arguments())
        self.physical_resource_id = route.route_id
        self.attributes = {"RouteId": route.route_id}

    def update(self):
        self.backend().update_route(api_id=self.properties["ApiId"], route_id=self.physical_resource_id, **self.arguments())

    def remove(self):
        self.backend().delete_route(api_id=self.properties["ApiId"], route_id=self.physical_resource_id)


class Authorizer(HttpApiPart):
    TYPE = "AWS::ApiGatewayV2::Authorizer"

    def arguments(self):
        p = self.properties
        return dict(
            auth_creds_arn=p.get("AuthorizerCredentialsArn"),
            auth_payload_format_version=p.get("AuthorizerPayloadFormatVersion"),
            auth_result_ttl=p.get("AuthorizerResultTtlInSeconds"),
            authorizer_type=p["AuthorizerType"],
            authorizer_uri=p.get("AuthorizerUri"),
            enable_simple_response=p.get("EnableSimpleResponses"),
            identity_source=p.get("IdentitySource"),
            identity_validation_expr=p.get("IdentityValidationExpression"),
            jwt_config=camel(p.get("JwtConfiguration")),
            name=p["Name"],
        )

    def create(self):
        authorizer = self.backend().create_authorizer(self.properties["ApiId"], **self.arguments())
        self.physical_resource_id = authorizer.id
        self.attributes = {"AuthorizerId": authorizer.id}

    def update(self):
        self.backend().update_authorizer(self.properties["ApiId"], authorizer_id=self.physical_resource_id, **self.arguments())

    def remove(self):
        self.backend().delete_authorizer(self.properties["ApiId"], self.physical_resource_id)


class HttpStage(HttpApiPart):
    TYPE = "AWS::ApiGatewayV2::Stage"

    def config(self):
        p = self.properties
        config = {
            "stageName": p["StageName"],
            "autoDeploy": p.get("AutoDeploy"),
            "accessLogSettings": camel(p.get("AccessLogSettings")),
            "clientCertificateId": p.get("ClientCertificateId"),
            "deploymentId": p.get("DeploymentId"),
            "description": p.get("Description"),
            "routeSettings": {k: camel(v) for k, v in (p.get("RouteSettings") or {}).items()},
            "stageVariables": p.get("StageVariables") or {},
            "tags": tag_map(p.get("Tags")),
        }
        if "DefaultRouteSettings" in p:
            config["defaultRouteSettings"] = camel(p["DefaultRouteSettings"])
        return {k: v for k, v in config.items() if v is not None}

    def create(self):
        self.backend().create_stage(self.properties["ApiId"], self.config())
        # Ref is the stage's name; the resource reference lists no attributes.
        self.physical_resource_id = self.properties["StageName"]

    def update(self):
        # The stage's settings are replaced as UpdateStage would set them.
        self.backend().delete_stage(self.properties["ApiId"], self.physical_resource_id)
        self.create()

    def remove(self):
        self.backend().delete_stage(self.properties["ApiId"], self.physical_resource_id)


# -- REST APIs (API Gateway v1) ----------------------------------------------


class RestApiPart(ServiceResource):
    def backend(self):
        return apigateway_backends[self.account_id][self.region_name]


class RestAuthorizer(RestApiPart):
    TYPE = "AWS::ApiGateway::Authorizer"

    def create(self):
        p = self.properties
        authorizer = self.backend().create_authorizer(
            p["RestApiId"],
            p["Name"],
            p["Type"],
            provider_arns=p.get("ProviderARNs"),
            auth_type=p.get("AuthType"),
            authorizer_uri=p.get("AuthorizerUri"),
            authorizer_credentials=p.get("AuthorizerCredentials"),
            identity_source=p.get("IdentitySource"),
            identiy_validation_expression=p.get("IdentityValidationExpression"),
            authorizer_result_ttl=p.get("AuthorizerResultTtlInSeconds"),
        )
        self.physical_resource_id = authorizer.id
        self.attributes = {"AuthorizerId": authorizer.id}

    def update(self):
        # Replaced in the service (a new id) would break methods that name it;
        # the authorizer's fields are set on the existing one instead.
        authorizer = self.backend().get_authorizer(self.properties["RestApiId"], self.physical_resource_id)
        p = self.properties
        authorizer.name, authorizer.type = p["Name"], p["Type"]
        authorizer.provider_arns, authorizer.authorizer_uri = p.get("ProviderARNs"), p.get("AuthorizerUri")
        authorizer.identity_source, authorizer.authorizer_result_ttl = p.get("IdentitySource"), p.get("AuthorizerResultTtlInSeconds")

    def remove(self):
        self.backend().delete_authorizer(self.properties["RestApiId"], self.physical_resource_id)


class RestModel(RestApiPart):
    TYPE = "AWS::ApiGateway::Model"

    def create(self):
        p = self.properties
        schema = p.get("Schema")
        name = p.get("Name") or self.generated_name.replace("-", "")[:64]
        self.backend().create_model(p["RestApiId"], name=name, content_type=p.get("ContentType"), description=p.get("Description"), schema=schema if isinstance(schema, str) or schema is None else json.dumps(schema))
        # Ref is the model's name.
        self.physical_resource_id = name

    def remove(self):
        self.backend().delete_model(self.properties["RestApiId"], self.physical_resource_id)


class RestRequestValidator(RestApiPart):
    TYPE = "AWS::ApiGateway::RequestValidator"

    def create(self):
        p = self.properties
        validator = self.backend().create_request_validator(p["RestApiId"], name=p.get("Name") or self.generated_name, body=p.get("ValidateRequestBody", False), params=p.get("ValidateRequestParameters", False))
        self.physical_resource_id = validator.id
        self.attributes = {"RequestValidatorId": validator.id}

    def update(self):
        validator = self.backend().get_request_validator(self.properties["RestApiId"], self.physical_resource_id)
        validator.validate_request_body = self.properties.get("ValidateRequestBody", False)
        validator.validate_request_parameters = self.properties.get("ValidateRequestParameters", False)

    def remove(self):
        self.backend().delete_request_validator(self.properties["RestApiId"], self.physical_resource_id)


# MethodSetting members as UpdateStage's patch paths name them.
_METHOD_SETTING_PATHS = {
    "MetricsEnabled": "metrics/enabled",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "ThrottlingRateLimit": "throttling/rateLimit",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
    "CacheDataEncrypted": "caching/dataEncrypted",
}


class RestStage(RestApiPart):
    TYPE = "AWS::ApiGateway::Stage"

    def create(self):
        p = self.properties
        stage_name = p.get("StageName") or self.generated_name
        self.backend().create_stage(
            p["RestApiId"],
            stage_name,
            p.get("DeploymentId"),
            variables=p.get("Variables"),
            description=p.get("Description", ""),
            cacheClusterEnabled=p.get("CacheClusterEnabled"),
            cacheClusterSize=p.get("CacheClusterSize"),
            tags=tag_map(p.get("Tags")),
            tracing_enabled=p.get("TracingEnabled"),
        )
        self.physical_resource_id = stage_name
        self.backend().update_stage(p["RestApiId"], stage_name, self.patch_operations())

    def patch_operations(self):
        """AccessLogSetting and MethodSettings, as UpdateStage patches set them."""
        operations = []
        for key, value in (self.properties.get("AccessLogSetting") or {}).items():
            operations.append({"op": "replace", "path": f"/accessLogSettings/{key[0].lower() + key[1:]}", "value": value})
        for setting in self.properties.get("MethodSettings") or []:
            path = setting.get("ResourcePath", "/*")
            resource = "*" if path == "/*" else path.replace("/", "~1")
            for key, member in _METHOD_SETTING_PATHS.items():
                if key in setting:
                    operations.append({"op": "replace", "path": f"/{resource}/{setting.get('HttpMethod', '*')}/{member}", "value": str(setting[key]).lower() if isinstance(setting[key], bool) else str(setting[key])})
        return operations

    def update(self):
        p = self.properties
        stage = self.backend().get_stage(p["RestApiId"], self.physical_resource_id)
        stage.deployment_id, stage.variables, stage.description = p.get("DeploymentId"), p.get("Variables") or {}, p.get("Description", "")
        stage.tags, stage.tracing_enabled = tag_map(p.get("Tags")), p.get("TracingEnabled")
        stage.method_settings, stage.access_log_settings = {}, None
        self.backend().update_stage(p["RestApiId"], self.physical_resource_id, self.patch_operations())

    def remove(self):
        self.backend().delete_stage(self.properties["RestApiId"], self.physical_resource_id)


class RestAccount(RestApiPart):
    """The account's API Gateway settings (one per account and region): the
    resource sets them; deleting it leaves them as they are, as on AWS."""

    TYPE = "AWS::ApiGateway::Account"

    def create(self):
        role = self.properties.get("CloudWatchRoleArn")
        if role:
            self.backend().update_account([{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
        # The resource reference: Ref returns an id such as mysta-accou-01234b567890example.
        self.physical_resource_id = f"{self.generated_name[:5]}-{self.logical_id[:5].lower()}-{self.generated_name.rsplit('-', 1)[-1].lower()}"
        self.attributes = {"Id": self.physical_resource_id}

    def update(self):
        role = self.properties.get("CloudWatchRoleArn")
        if role:
            self.backend().update_account([{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])

    def remove(self):
        pass
