"""Cognito user pools and clients, and Secrets Manager secrets, made by
CloudFormation through moto's cognito-idp and secretsmanager backends.

Properties are those of the resource reference (AWS::Cognito::UserPool,
AWS::Cognito::UserPoolClient, AWS::SecretsManager::Secret); they are the
service API's request members, so they pass through unchanged where the
names agree.
"""

import json

from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import cognitoidp_backends
from moto.secretsmanager.models import secretsmanager_backends

from cfn_types.service_resource import ServiceResource, tag_list

# Members of AWS::Cognito::UserPool that CreateUserPool does not take:
# the name is its own argument, MFA factors are set by SetUserPoolMfaConfig.
_POOL_ONLY_IN_TEMPLATE = {"UserPoolName", "EnabledMfas"}
# What a client is when a request does not say (as moto's CreateUserPoolClient sets it).
_CLIENT_DEFAULTS = {"AllowedOAuthFlowsUserPoolClient": False, "AuthSessionValidity": 3, "EnablePropagateAdditionalUserContextData": False, "EnableTokenRevocation": True, "RefreshTokenValidity": 30}


class UserPool(ServiceResource):
    TYPE = "AWS::Cognito::UserPool"

    def backend(self):
        return cognitoidp_backends[self.account_id][self.region_name]

    def config(self):
        return {k: v for k, v in self.properties.items() if k not in _POOL_ONLY_IN_TEMPLATE}

    def create(self):
        pool = self.backend().create_user_pool(self.name_or_generated("UserPoolName", 128), self.config())
        self.set_mfa(pool.id)
        provider = f"cognito-idp.{self.region_name}.amazonaws.com/{pool.id}"
        self.physical_resource_id = pool.id
        self.attributes = {"Arn": pool.arn, "UserPoolId": pool.id, "ProviderName": provider, "ProviderURL": f"https://{provider}"}

    def set_mfa(self, pool_id):
        factors = self.properties.get("EnabledMfas") or []
        token = {"Enabled": True} if "SOFTWARE_TOKEN_MFA" in factors else None
        sms = {"SmsConfiguration": self.properties.get("SmsConfiguration")} if "SMS_MFA" in factors else None
        self.backend().set_user_pool_mfa_config(pool_id, sms, token, self.properties.get("MfaConfiguration") or "OFF")

    def update(self):
        # UpdateUserPool takes neither the schema nor the name; custom
        # attributes can only be added (AddCustomAttributes), as on AWS.
        pool = self.backend().describe_user_pool(self.physical_resource_id)
        config = self.config()
        schema = config.pop("Schema", [])
        self.backend().update_user_pool(pool.id, config)
        pool.name = self.name_or_generated("UserPoolName", 128)
        new = [a for a in schema if a["Name"] not in pool.schema_attributes and f"custom:{a['Name']}" not in pool.schema_attributes]
        if new:
            pool.add_custom_attributes(new)
        self.set_mfa(pool.id)

    def remove(self):
        # DeleteUserPool refuses a pool with deletion protection on.
        pool = self.backend().describe_user_pool(self.physical_resource_id)
        if pool.extended_config.get("DeletionProtection") == "ACTIVE":
            raise InvalidParameterException("The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.")
        self.backend().delete_user_pool(self.physical_resource_id)


class UserPoolClient(ServiceResource):
    TYPE = "AWS::Cognito::UserPoolClient"

    def backend(self):
        return cognitoidp_backends[self.account_id][self.region_name]

    def config(self):
        config = {k: v for k, v in self.properties.items() if k not in ("UserPoolId", "GenerateSecret")}
        config.setdefault("ClientName", self.generated_name[:128])
        return config

    def create(self):
        client = self.backend().create_user_pool_client(self.properties["UserPoolId"], bool(self.properties.get("GenerateSecret")), self.config())
        self.physical_resource_id = client.id
        self.set_attributes(client)

    def set_attributes(self, client):
        self.attributes = {"ClientId": client.id, "Name": client.extended_config["ClientName"]}
        if client.generate_secret:
            # Only a client made with a secret has one to return.
            self.attributes["ClientSecret"] = client.secret

    def update(self):
        # UpdateUserPoolClient resets what the request leaves out to its default.
        client = self.backend().describe_user_pool_client(self.properties["UserPoolId"], self.physical_resource_id)
        client.extended_config = dict(_CLIENT_DEFAULTS)
        self.backend().update_user_pool_client(self.properties["UserPoolId"], self.physical_resource_id, self.config())
        self.set_attributes(client)

    def remove(self):
        self.backend().delete_user_pool_client(self.properties["UserPoolId"], self.physical_resource_id)


class Secret(ServiceResource):
    TYPE = "AWS::SecretsManager::Secret"

    def backend(self):
        return secretsmanager_backends[self.account_id][self.region_name]

    def secret_string(self):
        """SecretString, or one generated as GenerateSecretString says
        (a password, or a JSON object with the password under GenerateStringKey)."""
        if "SecretString" in self.properties:
            return self.properties["SecretString"]
        spec = self.properties.get("GenerateSecretString") or {}
        password = json.loads(
            self.backend().get_random_password(
                password_length=spec.get("PasswordLength", 32),
                exclude_characters=spec.get("ExcludeCharacters", ""),
                exclude_numbers=spec.get("ExcludeNumbers", False),
                exclude_punctuation=spec.get("ExcludePunctuation", False),
                exclude_uppercase=spec.get("ExcludeUppercase", False),
                exclude_lowercase=spec.get("ExcludeLowercase", False),
                include_space=spec.get("IncludeSpace", False),
                require_each_included_type=spec.get("RequireEachIncludedType", True),
            )
        )["RandomPassword"]
        if "SecretStringTemplate" in spec:
            return json.dumps({**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: password})
        return password

    def create(self):
        # Without a Name, CloudFormation names the secret after the logical id.
        created = json.loads(
            self.backend().create_secret(
                name=self.properties.get("Name") or f"{self.logical_id}-{self.generated_name.rsplit('-', 1)[-1]}",
                secret_string=self.secret_string(),
                secret_binary=None,
                description=self.properties.get("Description"),
                tags=tag_list(self.properties.get("Tags")),
                kms_key_id=self.properties.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=self.properties.get("ReplicaRegions") or [],
                force_overwrite=False,
            )
        )
        self.physical_resource_id = created["ARN"]
        self.attributes = {"Id": created["ARN"]}

    def update(self):
        # Description, key and tags change without a new secret version (as
        # UpdateSecret without SecretString and TagResource do); moto's
        # UpdateSecret always adds a version, so the secret is changed directly.
        secret = self.backend().describe_secret(self.physical_resource_id)
        secret.description = self.properties.get("Description")
        secret.kms_key_id = self.properties.get("KmsKeyId")
        secret.tags = tag_list(self.properties.get("Tags"))

    def remove(self):
        # CloudFormation deletes a stack's secret without a recovery window.
        self.backend().delete_secret(self.physical_resource_id, recovery_window_in_days=None, force_delete_without_recovery=True)
