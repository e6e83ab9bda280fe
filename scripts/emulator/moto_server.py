"""moto's server (pinned 5.2.5) with six of its CloudFormation gaps closed,
so a stackctl template deploys to it as it does to AWS. Each fix is the
smallest change that makes moto follow the CloudFormation documentation;
stackctl itself is never told it talks to an emulator.

1. AWS::KMS::Key Tags arrive in CloudFormation's shape (Key/Value), but
   moto hands them to the KMS API that expects TagKey/TagValue: HTTP 500.
   A KeyPolicy written as a JSON object (as the resource reference allows)
   is stored as a dict and a later DescribeKey fails: stored as JSON text.
2. Stacks made through change sets never get their Outputs computed: the
   stack's template is replaced after execution but its outputs are not.
3. Types moto does not model (CloudFront, API Gateway v2, Cognito …) are
   skipped, but a GetAtt on one of them (`${SiteDistribution.DomainName}`
   in a CORS rule) then fails the whole stack as "undefined resource": it
   resolves to a stand-in `{logicalid}-{attribute}.emulated.invalid`, and a
   Ref to one to `{logicalid}-emulated` (moto would drop the value).
   An Output moto still cannot resolve is left out instead of failing
   DescribeStacks with HTTP 500 (moto already does this for Ref).
4. DependsOn is ignored when moto creates a resource, so an API Gateway
   Deployment is made before the Methods it depends on and fails with
   "The REST API doesn't contain any methods": dependencies come first.
5. An AWS::ApiGateway::Method with a MOCK integration (a CORS preflight)
   has no IntegrationHttpMethod or Uri, as the reference allows; moto
   requires both (KeyError, HTTP 500): they default to none.
6. moto's CloudFormation backend is not thread-safe, and the server is
   threaded: two stacks deployed at once ("OrderedDict mutated during
   iteration") fail with HTTP 500. Its stack calls run one at a time.

Run: python moto_server.py -H 127.0.0.1 -p PORT   (same arguments as moto_server)
"""

import json
import sys
import threading

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.apigateway import models as apigateway_models
from moto.kms import models as kms_models
from moto.server import main

_create_key = kms_models.Key.create_from_cloudformation_json.__func__


def _create_key_from_template(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = dict(cloudformation_json["Properties"])
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
    if isinstance(properties.get("KeyPolicy"), dict):
        properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
    return _create_key(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id, region_name, **kwargs)


kms_models.Key.create_from_cloudformation_json = classmethod(_create_key_from_template)

_execute_change_set = cfn_models.CloudFormationBackend.execute_change_set


def _execute_change_set_with_outputs(self, change_set_name, stack_name=None):
    _execute_change_set(self, change_set_name, stack_name)
    for stack in list(self.stacks.values()):
        if stack.name == stack_name or stack.stack_id == stack_name:
            stack._parse_template()
            stack.output_map = stack._create_output_map()


cfn_models.CloudFormationBackend.execute_change_set = _execute_change_set_with_outputs

_clean_json = cfn_parsing.clean_json


def _clean_json_with_stand_ins(resource_json, resources_map):
    if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
        name, attribute = resource_json["Fn::GetAtt"][0], resource_json["Fn::GetAtt"][1]
        if resources_map.get(name) is None and name in resources_map._resource_json_map:
            return f"{name}-{attribute}.emulated.invalid".lower()
    if isinstance(resource_json, dict) and isinstance(resource_json.get("Ref"), str):
        name = resource_json["Ref"]
        if name in resources_map._resource_json_map and resources_map.get(name) is None:
            return f"{name}-emulated".lower()
    return _clean_json(resource_json, resources_map)


cfn_parsing.clean_json = _clean_json_with_stand_ins

_create_method = apigateway_models.Method.create_from_cloudformation_json.__func__


def _create_method_with_optional_integration_fields(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    integration = cloudformation_json.get("Properties", {}).get("Integration")
    if isinstance(integration, dict):
        integration.setdefault("IntegrationHttpMethod", None)
        integration.setdefault("Uri", None)
    return _create_method(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


apigateway_models.Method.create_from_cloudformation_json = classmethod(_create_method_with_optional_integration_fields)

_get_resource = cfn_parsing.ResourceMap.__getitem__


def _get_resource_after_its_dependencies(self, key):
    if key not in self._parsed_resources:
        depends_on = (self._resource_json_map.get(key) or {}).get("DependsOn", [])
        for dependency in [depends_on] if isinstance(depends_on, str) else depends_on:
            if dependency in self._resource_json_map:
                _get_resource_after_its_dependencies(self, dependency)
    return _get_resource(self, key)


cfn_parsing.ResourceMap.__getitem__ = _get_resource_after_its_dependencies

_output = cfn_parsing.OutputMap.__getitem__


def _output_or_nothing(self, key):
    try:
        return _output(self, key)
    except Exception:  # noqa: BLE001 - moto raises many kinds here; the output is simply unknown
        return None


cfn_parsing.OutputMap.__getitem__ = _output_or_nothing

_one_at_a_time = threading.RLock()


def _serialised(method):
    def call(*args, **kwargs):
        with _one_at_a_time:
            return method(*args, **kwargs)

    return call


for _name in ["create_stack", "update_stack", "delete_stack", "create_change_set", "execute_change_set", "delete_change_set", "describe_stacks", "describe_stack_events", "list_stack_resources", "get_template", "describe_change_set"]:
    setattr(cfn_models.CloudFormationBackend, _name, _serialised(getattr(cfn_models.CloudFormationBackend, _name)))

if __name__ == "__main__":
    sys.exit(main())
