"""moto's server (pinned 5.2.5) with its CloudFormation gaps closed, so a
stackctl template deploys to it as it does to AWS and creates what it
declares. Each fix makes moto follow the CloudFormation documentation;
stackctl itself is never told it talks to an emulator.

1. Types moto's CloudFormation skips although moto has their service
   (Cognito, API Gateway v2 and parts of v1, CloudFront, WAFv2, CloudWatch
   alarms, SNS subscriptions, Scheduler, Secrets Manager, bucket policies,
   Lambda aliases and asynchronous invocation settings, CloudWatch Logs
   subscription filters) are created, updated and deleted through that service's
   own moto backend (cfn_types/: identity.py, apis.py, edge.py,
   operations.py), and Ref and Fn::GetAtt return the values the service
   made. What a service of moto cannot keep is named in its class (a Lambda
   alias's provisioned concurrency).
2. Types moto has no service for (Amplify, CloudFront response headers
   policies) are not created; a Ref or Fn::GetAtt to one returns a stand-in
   of the real shape (cfn_types/stand_ins.py). A reference to any other
   uncreated type fails the operation. ListStackResources lists only what
   exists (moto lists a blank row for each skipped resource), and listing
   creates nothing (moto's lazy map would retry what failed).
3. A template's Fn::GetAtt must name an attribute its resource type has
   (CloudFormation's resource schemas), else the change set is refused with
   CloudFormation's message, for every type, created or not.
4. ExecuteChangeSet: Outputs are computed (moto never computes them for
   stacks made through change sets); an output or resource that fails
   makes the stack CREATE_FAILED or UPDATE_FAILED with an event naming the
   cause, as DescribeStackEvents shows it on AWS (moto would answer HTTP 500
   or drop the output). The emulator does not roll back.
5. Termination protection: UpdateTerminationProtection is implemented
   (moto lacks it) and DeleteStack refuses a protected stack.
6. AWS::KMS::Key Tags arrive in CloudFormation's shape (Key/Value), but
   moto hands them to the KMS API that expects TagKey/TagValue: HTTP 500.
   A KeyPolicy written as a JSON object is stored as JSON text (moto keeps
   the dict and a later DescribeKey fails). An AWS::Logs::LogGroup's
   KmsKeyId is kept (moto dropped it), and its Fn::GetAtt Arn ends in
   `:*` as documented. An AWS::Lambda::Version answers
   Ref (its ARN) and Fn::GetAtt Version and FunctionArn (moto: neither).
7. DependsOn is ignored when moto creates a resource, so an API Gateway
   Deployment is made before the Methods it depends on and fails with
   "The REST API doesn't contain any methods": dependencies come first.
   Deletion goes in reverse dependency order (moto's set order deletes a
   bucket before its policy, and the policy's deletion then fails).
8. An AWS::ApiGateway::Method with a MOCK integration (a CORS preflight)
   has no IntegrationHttpMethod or Uri, as the reference allows; moto
   requires both (KeyError, HTTP 500): for MOCK integrations only, they
   default to none.
9. moto's CloudFormation backend is not thread-safe, and the server is
   threaded: two stacks deployed at once ("OrderedDict mutated during
   iteration") fail with HTTP 500. Its stack calls run one at a time.
10. A policy statement applies only when its Condition holds (IAM's
   evaluation logic). moto takes a condition whose operator it does not
   know (`Bool`…) or whose key the request does not carry as holding, so
   stackctl's TLS-only bucket policy (`Deny` when `aws:SecureTransport` is
   `false`) refused every object request, even an administrator's: a
   condition moto cannot evaluate now does not hold. The emulator speaks
   plain HTTP and does not know the transport, so that deny is not applied.
11. Smithy RPC v2 CBOR (`POST /service/{Service}/operation/{Operation}`,
   `smithy-protocol: rpc-v2-cbor`) is what the AWS SDK for Rust speaks to
   CloudWatch (and to every service whose model lists that protocol
   first); moto serves none of it (HTTP 404), so PutMetricData and
   GetMetricData failed from Rust. Such a request is translated, with the
   service's botocore model, to the JSON protocol moto serves (the
   service's `X-Amz-Target`), and moto's answer back to CBOR: the
   output shape's timestamps as tag 1 epoch seconds, blobs as byte
   strings; an error as a CBOR map with `__type` and `message`, same
   status, with moto's `x-amzn-query-error` header (the error code of
   query-compatible services such as CloudWatch). A body the SDK
   compressed (`Content-Encoding: gzip`, PutMetricData over 10 KB) is
   decompressed first.
12. Posture properties moto's CloudFormation drops, which `stackctl
   verify` reads back through each service's own API as on AWS: a
   table's PointInTimeRecoverySpecification (moto never enables PITR) and
   its SSESpecification (CloudFormation's `SSEEnabled`, which moto reads as
   the API's `Enabled`, so no SSEDescription came back; the key is reported
   as its ARN, as DynamoDB does), and a bucket's
   PublicAccessBlockConfiguration (moto keeps none). A role's inline
   policy from a template is stored as JSON text, as IAM stores it (moto
   kept the template's object, and GetRolePolicy then answered its Python
   form, which no client can read).
13. CloudWatch percentiles (`p99`, `p99.9`) as a GetMetricData statistic:
   moto knows only Sum, Average, Minimum, Maximum and SampleCount and
   answered a percentile with a null value (an HTTP 500 through the SDK),
   so `stackctl status` failed as soon as a function had Duration data.
   A percentile of the period's values is computed by nearest rank (the
   values published one by one; a statistic set has none, as on AWS).
14. A queue with a Lambda event source mapping: moto's SQS delivers each
   sent message to the function itself, through a Docker runtime this
   machine does not have, so every SendMessage received the queue's
   messages (counting a receive, which pushed them towards the
   dead-letter queue) and handed them back unprocessed. The emulator runs
   no functions: a mapping is created and listed as on AWS, and the
   queue's messages wait to be received, by `stackctl local`, which plays
   Lambda's poller with the function's real package.
15. An AWS::Events::EventBus had no physical id in moto, so its Ref was
   moto's Python object instead of the bus's name (the reference's Ref):
   a rule naming its bus with a Ref failed ("'EventBus' object has no
   attribute 'split'"). Ref is now the name, and the bus keeps its
   Description, KmsKeyIdentifier, DeadLetterConfig and Tags (moto made it
   from its name alone).
16. An AWS::Kinesis::Stream's StreamModeDetails and StreamEncryption were
   dropped (moto made every stream PROVISIONED and unencrypted): the
   mode is passed to CreateStream and the encryption applied as
   StartStreamEncryption, on creation and on update.
17. ListEventSourceMappings with FunctionName matched only the exact text
   the mapping was created with (CloudFormation passes the function's
   ARN, so asking by name found nothing); Lambda accepts the function's
   name or ARN, so the mappings of that function are listed either way.
18. AWS::SQS::QueuePolicy, skipped by moto's CloudFormation, is set as the
   queues' Policy attribute (cfn_types/messaging.py).
19. An EventBridge target's InputTransformer: moto pasted a string
   value into a JSON template without quotes and did not know
   `<aws.events.rule-name>`, so the template was not JSON and PutEvents
   of any event the rule matched failed with HTTP 500. As EventBridge
   documents it, in a JSON template a variable outside a string is
   replaced by its value as JSON (a string quoted) and one inside a
   string by its text; the predefined `aws.events.rule-name`,
   `aws.events.rule-arn`, `aws.events.event`, `aws.events.event.json` and
   `aws.events.event.ingestion-time` are known; a path that matches
   nothing gives null (or nothing inside a string). Templates that are
   not JSON (plain text) stay as moto had them.
20. A rule whose target is a function: moto has no way to invoke one
   from EventBridge ("Expr not defined", HTTP 500 for PutEvents of every
   event the rule matched). As with queues (14), the emulator runs no
   functions: the event is accepted, the rule's other targets get it,
   and the function target gets nothing.
21. An AWS::SNS::Subscription's attributes were set FilterPolicy first,
   FilterPolicyScope after: moto validates a filter policy, and builds its
   matcher, under the scope already set, so a nested policy on the message
   body was refused ("Filter policy scope MessageAttributes does not
   support nested filter policy") and a flat one would have matched
   attributes. The scope is set first (cfn_types/operations.py), as moto's
   own Subscribe does.

Run: python moto_server.py -H 127.0.0.1 -p PORT   (same arguments as moto_server)
"""

import contextvars
import gzip
import io
import json
import math
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore.session  # noqa: E402
from botocore.parsers import JSONParser, RpcV2CBORParser  # noqa: E402
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer  # noqa: E402
from moto.apigateway import models as apigateway_models  # noqa: E402
from moto.awslambda import models as lambda_models  # noqa: E402
from moto.cloudformation import models as cfn_models  # noqa: E402
from moto.cloudwatch import models as cloudwatch_models  # noqa: E402
from moto.cloudformation import parsing as cfn_parsing  # noqa: E402
from moto.cloudformation import responses as cfn_responses  # noqa: E402
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.dynamodb.models import table as dynamodb_table  # noqa: E402
from moto.events import models as events_models  # noqa: E402
from moto.events import utils as events_utils  # noqa: E402
from moto.iam import access_control  # noqa: E402
from moto.iam import models as iam_models  # noqa: E402
from moto.kinesis import models as kinesis_models  # noqa: E402
from moto.kms import models as kms_models  # noqa: E402
from moto.logs import models as logs_models  # noqa: E402
from moto.s3 import models as s3_models  # noqa: E402
from moto.sqs import models as sqs_models  # noqa: E402
from moto.moto_server import werkzeug_app  # noqa: E402
from moto.server import main  # noqa: E402
from moto.utilities.utils import get_partition  # noqa: E402

from cfn_types import apis, edge, identity, messaging, operations  # noqa: E402,F401 - imported for the types they define
from cfn_types.service_resource import ServiceResource, schema_attributes  # noqa: E402
from cfn_types.stand_ins import STAND_INS, StandIn  # noqa: E402

# -- 1. types created through their service's backend -------------------------


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


ADDED_TYPES = {cls.TYPE: cls for cls in _all_subclasses(ServiceResource) if cls.TYPE}
_moto_model_map = cfn_parsing.get_model_map


def _model_map_with_added_types():
    return {**_moto_model_map(), **ADDED_TYPES}


cfn_parsing.get_model_map = _model_map_with_added_types

# -- 2. stand-ins for types without a service; only existing resources listed --

_clean_json = cfn_parsing.clean_json


def _uncreated(resources_map, name):
    return name in resources_map._resource_json_map and resources_map.get(name) is None


def _stand_in_value(resources_map, name, attribute):
    resource_type = resources_map._resource_json_map[name]["Type"]
    make = STAND_INS.get(resource_type)
    if make is None:
        raise ValidationError(name, message=f"the emulator does not create {resource_type} and has no stand-in for it, so {name}.{attribute} cannot be resolved (scripts/emulator/cfn_types/stand_ins.py)")
    values = make(StandIn(resources_map, name, _clean_json_with_stand_ins))
    if attribute not in values:
        raise ValidationError(name, message=f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt")
    return values[attribute]


def _clean_json_with_stand_ins(resource_json, resources_map):
    if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
        target = resource_json["Fn::GetAtt"]
        name, attribute = target.split(".", 1) if isinstance(target, str) else target
        if _uncreated(resources_map, name):
            return _stand_in_value(resources_map, name, attribute)
    if isinstance(resource_json, dict) and isinstance(resource_json.get("Ref"), str) and _uncreated(resources_map, resource_json["Ref"]):
        return _stand_in_value(resources_map, resource_json["Ref"], "Ref")
    return _clean_json(resource_json, resources_map)


cfn_parsing.clean_json = _clean_json_with_stand_ins


def _existing_resources(self):
    """What was created; listing a stack creates nothing (moto's lazy map
    would try again to create what failed)."""
    made = self.resource_map._parsed_resources
    return [made[n] for n in self.resource_map._resource_json_map if made.get(n) is not None and not isinstance(made[n], str)]


cfn_models.Stack.stack_resources = property(_existing_resources)

# -- 3. Fn::GetAtt names an attribute of its type ------------------------------

_SUB_REFERENCE = re.compile(r"\$\{([^!}][^}]*)\}")


def _get_atts(node):
    """Every (resource, attribute) a template fragment reads with Fn::GetAtt,
    including `${Resource.Attribute}` inside Fn::Sub."""
    if isinstance(node, list):
        for item in node:
            yield from _get_atts(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt":
                yield tuple(value.split(".", 1)) if isinstance(value, str) else (value[0], value[1])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                for reference in _SUB_REFERENCE.findall(text):
                    if "." in reference and reference.split(".", 1)[0] not in variables:
                        yield tuple(reference.split(".", 1))
                yield from _get_atts(variables)
            else:
                yield from _get_atts(value)


def _check_get_atts(template_text):
    template = cfn_models.Stack.parse_template(template_text) if isinstance(template_text, str) else template_text
    resources = (template or {}).get("Resources") or {}
    for name, attribute in _get_atts({"Resources": resources, "Outputs": (template or {}).get("Outputs") or {}}):
        if name not in resources:
            raise ValidationError(name, message=f"Template error: instance of Fn::GetAtt references undefined resource {name}")
        known = schema_attributes(resources[name]["Type"])
        if known is not None and attribute not in known:
            raise ValidationError(name, message=f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt")


_create_change_set = cfn_models.CloudFormationBackend.create_change_set


def _create_change_set_checked(self, stack_name, change_set_name, template, *args, **kwargs):
    _check_get_atts(template)
    return _create_change_set(self, stack_name, change_set_name, template, *args, **kwargs)


cfn_models.CloudFormationBackend.create_change_set = _create_change_set_checked

# -- 4. ExecuteChangeSet computes outputs; a failure fails the stack -----------


class ResourceFailed(Exception):
    def __init__(self, logical_id, resource_type, reason):
        super().__init__(reason)
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


def _failing_as_resource(operation):
    """Wraps moto's create/update of one resource so a failure names it."""

    def call(logical_id, resource_json, *args, **kwargs):
        try:
            return operation(logical_id, resource_json, *args, **kwargs)
        except ResourceFailed:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of the service is the resource's
            message = getattr(e, "message", None) or getattr(e, "description", None) or str(e) or type(e).__name__
            raise ResourceFailed(logical_id, resource_json.get("Type", ""), f"{type(e).__name__}: {message}") from e

    return call


cfn_parsing.parse_and_create_resource = _failing_as_resource(cfn_parsing.parse_and_create_resource)
cfn_parsing.parse_and_update_resource = _failing_as_resource(cfn_parsing.parse_and_update_resource)


class ResolvedOutputs(dict):
    """The outputs that did resolve, after one did not (no exports)."""

    exports = []


def _resolve_outputs(stack):
    """Every output's value, or the first that cannot be resolved."""
    output_map = stack._create_output_map()
    resolved = ResolvedOutputs()
    for key in output_map.outputs:
        try:
            output = output_map[key]
        except Exception as e:  # noqa: BLE001 - moto raises many kinds here
            stack.output_map = resolved
            return f"Output {key} cannot be resolved: {getattr(e, 'message', None) or e}"
        if output is not None and output.value is None:
            stack.output_map = resolved
            return f"Output {key} resolves to no value"
        if output is not None:
            resolved[key] = output
    stack.output_map = output_map
    return None


def _add_event(stack, logical_id, physical_id, resource_type, status, reason):
    stack.events.append(cfn_models.Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id, physical_resource_id=physical_id, resource_type=resource_type, resource_status=status, resource_status_reason=reason, resource_properties=None))


def _execute_change_set(self, change_set_name, stack_name=None):
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    kind = change_set.change_set_type
    stack._add_stack_event(f"{kind}_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.template = change_set.template
    stack._parse_template()
    failure = None
    try:
        change_set.apply()
    except ResourceFailed as e:
        _add_event(stack, e.logical_id, "", e.resource_type, f"{kind}_FAILED", e.reason)
        failure = f"The following resource(s) failed to {kind.lower()}: [{e.logical_id}]. The emulator does not roll back."
    except Exception as e:  # noqa: BLE001 - e.g. a resource that could not be removed
        failure = f"{type(e).__name__}: {getattr(e, 'message', None) or e}. The emulator does not roll back."
    if failure is None:
        failure = _resolve_outputs(stack)
    if failure is None:
        stack._add_stack_event(f"{kind}_COMPLETE")
        stack.status = f"{kind}_COMPLETE"
        change_set.execution_status = "EXECUTE_COMPLETE"
    else:
        stack._add_stack_event(f"{kind}_FAILED", resource_status_reason=failure)
        stack.status = f"{kind}_FAILED"
        change_set.execution_status = "EXECUTE_FAILED"


cfn_models.CloudFormationBackend.execute_change_set = _execute_change_set

# -- 5. termination protection -------------------------------------------------


def _update_termination_protection(self):
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


cfn_responses.CloudFormationResponse.update_termination_protection = _update_termination_protection

_delete_stack = cfn_models.CloudFormationBackend.delete_stack


def _delete_stack_unless_protected(self, name_or_stack_id):
    for stack in self.stacks.values():
        if name_or_stack_id in (stack.name, stack.stack_id) and stack.enable_termination_protection:
            raise ValidationError(name_or_stack_id, message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
    return _delete_stack(self, name_or_stack_id)


cfn_models.CloudFormationBackend.delete_stack = _delete_stack_unless_protected

# -- 6. KMS key tags and policy; log group key --------------------------------------------------

_create_key = kms_models.Key.create_from_cloudformation_json.__func__


def _create_key_from_template(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = dict(cloudformation_json["Properties"])
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
    if isinstance(properties.get("KeyPolicy"), dict):
        properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
    return _create_key(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id, region_name, **kwargs)


kms_models.Key.create_from_cloudformation_json = classmethod(_create_key_from_template)

_create_log_group = logs_models.LogGroup.create_from_cloudformation_json.__func__


def _create_log_group_with_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """moto's log group reads its key as CreateLogGroup's `kmsKeyId`, but
    CloudFormation passes `KmsKeyId`: the key was silently dropped."""
    properties = dict(cloudformation_json["Properties"])
    if "KmsKeyId" in properties:
        properties["kmsKeyId"] = properties.pop("KmsKeyId")
    return _create_log_group(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id, region_name, **kwargs)


logs_models.LogGroup.create_from_cloudformation_json = classmethod(_create_log_group_with_key)

_log_group_attribute = logs_models.LogGroup.get_cfn_attribute


def _log_group_attribute_as_documented(self, name):
    """Fn::GetAtt Arn of a log group ends in `:*` on AWS (the CloudFormation
    reference's example); moto's did not, so a policy granting writes to
    it differed from what AWS creates."""
    value = _log_group_attribute(self, name)
    return f"{value}:*" if name == "Arn" and not value.endswith(":*") else value


logs_models.LogGroup.get_cfn_attribute = _log_group_attribute_as_documented

_create_version = lambda_models.LambdaVersion.create_from_cloudformation_json.__func__


def _create_version_with_arn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """moto's AWS::Lambda::Version answers no Fn::GetAtt and has no physical
    id; the reference documents Ref as the version's ARN and the attributes
    Version and FunctionArn."""
    version = _create_version(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    function = lambda_models.lambda_backends[account_id][region_name].get_function(cloudformation_json["Properties"]["FunctionName"])
    version.function_arn = function.function_arn
    version.physical_resource_id = f"{function.function_arn}:{version.version}"
    return version


def _version_attribute(self, name):
    if name == "Version":
        return str(self.version)
    if name == "FunctionArn":
        return self.function_arn
    raise UnformattedGetAttTemplateException()


lambda_models.LambdaVersion.create_from_cloudformation_json = classmethod(_create_version_with_arn)
lambda_models.LambdaVersion.get_cfn_attribute = _version_attribute

# -- 7. DependsOn order ----------------------------------------------------------

_get_resource = cfn_parsing.ResourceMap.__getitem__


def _get_resource_after_its_dependencies(self, key):
    if key not in self._parsed_resources:
        depends_on = (self._resource_json_map.get(key) or {}).get("DependsOn", [])
        for dependency in [depends_on] if isinstance(depends_on, str) else depends_on:
            if dependency in self._resource_json_map:
                _get_resource_after_its_dependencies(self, dependency)
    return _get_resource(self, key)


cfn_parsing.ResourceMap.__getitem__ = _get_resource_after_its_dependencies


def _references(node, names):
    """The resources a template fragment refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    if isinstance(node, list):
        return set().union(*(_references(n, names) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set()
    for key, value in node.items():
        if key == "Ref" and value in names:
            found.add(value)
        elif key == "Fn::GetAtt":
            target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
            found |= {target} & names
        elif key == "Fn::Sub":
            text = value if isinstance(value, str) else value[0]
            found |= {r.split(".", 1)[0] for r in _SUB_REFERENCE.findall(text)} & names
            found |= _references(value if isinstance(value, list) else [], names)
        else:
            found |= _references(value, names)
    return found


def _delete_in_reverse_dependency_order(self):
    """CloudFormation deletes a resource only after everything that refers
    to it (a bucket policy before its bucket, a route before its API); moto
    deletes in set order and retries, so a child whose parent went first
    (a bucket policy of a deleted bucket) fails the deletion."""
    resources = self._resource_json_map
    names = set(resources)
    depends = {n: _references(r.get("Properties"), names) | set([r["DependsOn"]] if isinstance(r.get("DependsOn"), str) else r.get("DependsOn") or []) for n, r in resources.items()}
    order, seen = [], set()

    def visit(name):
        if name not in seen:
            seen.add(name)
            for dependency in sorted(depends[name]):
                visit(dependency)
            order.append(name)

    for name in sorted(names):
        visit(name)
    for name in reversed(order):
        if resources[name].get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
            continue
        resource = self._parsed_resources.get(name)
        if resource is not None and not isinstance(resource, str):
            self._delete_resource(resource, resources[name])
            self._parsed_resources.pop(name)


cfn_parsing.ResourceMap.delete = _delete_in_reverse_dependency_order

# -- 8. MOCK integrations ----------------------------------------------------------

_create_method = apigateway_models.Method.create_from_cloudformation_json.__func__


def _create_method_with_mock_integration(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    integration = cloudformation_json.get("Properties", {}).get("Integration")
    if isinstance(integration, dict) and integration.get("Type") == "MOCK":
        integration.setdefault("IntegrationHttpMethod", None)
        integration.setdefault("Uri", None)
    return _create_method(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


apigateway_models.Method.create_from_cloudformation_json = classmethod(_create_method_with_mock_integration)

# -- 9. one stack call at a time ---------------------------------------------------

_one_at_a_time = threading.RLock()


def _serialised(method):
    def call(*args, **kwargs):
        with _one_at_a_time:
            return method(*args, **kwargs)

    return call


for _name in ["create_stack", "update_stack", "delete_stack", "create_change_set", "execute_change_set", "delete_change_set", "describe_stacks", "describe_stack_events", "list_stack_resources", "describe_stack_resources", "get_template", "describe_change_set"]:
    setattr(cfn_models.CloudFormationBackend, _name, _serialised(getattr(cfn_models.CloudFormationBackend, _name)))

# -- 10. a statement applies only when its conditions hold ------------------------

_statement_permits = access_control.IAMPolicyStatement.is_action_permitted


def _conditions_hold(statement, incoming):
    conditions = statement._statement.get("Condition")
    if not conditions:
        return True
    incoming = incoming or {}
    known = all(operator == "StringEquals" and all(key in incoming for key in pairs) for operator, pairs in conditions.items())
    return known and statement._check_conditions(incoming)


def _applies_only_when_conditions_hold(self, action, resource="*", principal=None, incoming_condition_values=None):
    if not _conditions_hold(self, incoming_condition_values):
        return access_control.PermissionResult.NEUTRAL
    return _statement_permits(self, action, resource, principal, incoming_condition_values)


access_control.IAMPolicyStatement.is_action_permitted = _applies_only_when_conditions_hold

# -- 12. table PITR and SSE, bucket public access block ---------------------------

_create_table = dynamodb_table.Table.create_from_cloudformation_json.__func__


def _key_arn(account_id, region_name, key_id):
    """DynamoDB reports a table's key as its ARN, whatever the template named
    it by (key id, ARN or alias)."""
    try:
        return kms_models.kms_backends[account_id][region_name].describe_key(key_id).arn
    except Exception:  # noqa: BLE001 - an unknown key stays as written, as moto had it
        return key_id


def _create_table_with_posture(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = dict(cloudformation_json["Properties"])
    sse = properties.get("SSESpecification")
    if isinstance(sse, dict) and "SSEEnabled" in sse:
        api_sse = {"Enabled": sse["SSEEnabled"]}
        if sse.get("SSEType"):
            api_sse["SSEType"] = sse["SSEType"]
        if sse.get("KMSMasterKeyId"):
            api_sse["KMSMasterKeyId"] = _key_arn(account_id, region_name, sse["KMSMasterKeyId"])
        properties["SSESpecification"] = api_sse
    table = _create_table(cls, resource_name, {**cloudformation_json, "Properties": properties}, account_id, region_name, **kwargs)
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled") is True:
        dynamodb_backends[account_id][region_name].update_continuous_backups(table.name, {"PointInTimeRecoveryEnabled": True})
    return table


dynamodb_table.Table.create_from_cloudformation_json = classmethod(_create_table_with_posture)

_create_bucket = s3_models.FakeBucket.create_from_cloudformation_json.__func__


def _create_bucket_with_public_access_block(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    bucket = _create_bucket(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    block = cloudformation_json["Properties"].get("PublicAccessBlockConfiguration")
    if block:
        s3_models.s3_backends[account_id][get_partition(region_name)].put_public_access_block(bucket.name, block)
    return bucket


s3_models.FakeBucket.create_from_cloudformation_json = classmethod(_create_bucket_with_public_access_block)

_put_role_policy = iam_models.Role.put_policy


def _put_role_policy_as_json(self, policy_name, policy_json):
    if not isinstance(policy_json, str):
        policy_json = json.dumps(policy_json)
    return _put_role_policy(self, policy_name, policy_json)


iam_models.Role.put_policy = _put_role_policy_as_json

# -- 14. queues deliver nothing to functions themselves ----------------------------

_add_message = sqs_models.Queue.add_message


def _add_message_without_delivery(self, *args, **kwargs):
    mappings = self.lambda_event_source_mappings
    self.lambda_event_source_mappings = {}
    try:
        return _add_message(self, *args, **kwargs)
    finally:
        self.lambda_event_source_mappings = mappings


sqs_models.Queue.add_message = _add_message_without_delivery

# -- 15. an event bus's Ref is its name; its settings are kept --------------------


def _create_event_bus_with_settings(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    p = cloudformation_json.get("Properties") or {}
    tags = [{"Key": k, "Value": v} for k, v in p["Tags"].items()] if isinstance(p.get("Tags"), dict) else p.get("Tags")
    return events_models.events_backends[account_id][region_name].create_event_bus(
        name=resource_name,
        event_source_name=p.get("EventSourceName"),
        description=p.get("Description"),
        kms_key_identifier=p.get("KmsKeyIdentifier"),
        dead_letter_config=p.get("DeadLetterConfig"),
        tags=tags,
    )


events_models.EventBus.create_from_cloudformation_json = classmethod(_create_event_bus_with_settings)
events_models.EventBus.physical_resource_id = property(lambda self: self.name)

# -- 16. a stream's mode and encryption ----------------------------------------------

_create_stream = kinesis_models.Stream.create_from_cloudformation_json.__func__
_update_stream = kinesis_models.Stream.update_from_cloudformation_json.__func__


def _apply_stream_settings(stream, properties, account_id, region_name):
    backend = kinesis_models.kinesis_backends[account_id][region_name]
    mode = properties.get("StreamModeDetails")
    if mode:
        backend.update_stream_mode(stream.arn, mode)
    encryption = properties.get("StreamEncryption")
    if encryption:
        backend.start_stream_encryption(stream.arn, None, encryption["EncryptionType"], encryption["KeyId"])
    elif stream.encryption_type != "NONE":
        backend.stop_stream_encryption(stream.arn, None)
    return stream


def _create_stream_with_settings(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties") or {}
    mode = properties.get("StreamModeDetails")
    if mode and mode.get("StreamMode") == "ON_DEMAND" and "ShardCount" not in properties:
        # moto's model gives an on-demand stream its shards itself.
        stream = kinesis_models.kinesis_backends[account_id][region_name].create_stream(resource_name, 4, stream_mode=mode, retention_period_hours=properties.get("RetentionPeriodHours"))
        tags = {t["Key"]: t["Value"] for t in properties.get("Tags", [])}
        if tags:
            kinesis_models.kinesis_backends[account_id][region_name].add_tags_to_stream(stream_arn=None, stream_name=stream.stream_name, tags=tags)
    else:
        stream = _create_stream(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    return _apply_stream_settings(stream, properties, account_id, region_name)


def _update_stream_with_settings(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    stream = _update_stream(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    return _apply_stream_settings(stream, cloudformation_json.get("Properties") or {}, account_id, region_name)


kinesis_models.Stream.create_from_cloudformation_json = classmethod(_create_stream_with_settings)
kinesis_models.Stream.update_from_cloudformation_json = classmethod(_update_stream_with_settings)

# -- 17. a function's event source mappings, asked by its name or ARN ----------------

_list_event_source_mappings = lambda_models.LambdaBackend.list_event_source_mappings


def _list_event_source_mappings_of_function(self, event_source_arn, function_name):
    mappings = _list_event_source_mappings(self, event_source_arn, None)
    if not function_name:
        return mappings
    try:
        function_arn = self.get_function(function_name).function_arn
    except Exception:  # noqa: BLE001 - an unknown function: moto's own matching
        return _list_event_source_mappings(self, event_source_arn, function_name)
    return [m for m in mappings if m.function_arn == function_arn]


lambda_models.LambdaBackend.list_event_source_mappings = _list_event_source_mappings_of_function

# -- 19. input transformer templates as EventBridge fills them ----------------------

_parse_template = events_utils.EventTemplateParser.parse
_rule_sending = contextvars.ContextVar("rule_sending", default=None)
_send_to_targets = events_models.Rule.send_to_targets
_TEMPLATE_VARIABLE = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def _send_to_targets_of_rule(self, *args, **kwargs):
    token = _rule_sending.set(self)
    # 20. a function target is not invoked (moto has no runtime here).
    targets = self.targets
    self.targets = [t for t in targets if t["Arn"].split(":")[2] != "lambda"]
    try:
        return _send_to_targets(self, *args, **kwargs)
    finally:
        self.targets = targets
        _rule_sending.reset(token)


def _template_values(input_paths_map, event):
    from jsonpath_ng.ext import parse

    values = {}
    for name, path in (input_paths_map or {}).items():
        found = parse(path).find(event)
        values[name] = found[0].value if found else None
    rule = _rule_sending.get()
    if rule is not None:
        values["aws.events.rule-name"] = rule.name
        values["aws.events.rule-arn"] = rule.arn
    original = {k: v for k, v in event.items() if k != "ingestion-time"}
    values["aws.events.event"] = original
    values["aws.events.event.json"] = original
    values["aws.events.event.ingestion-time"] = event.get("ingestion-time")
    return values


def _fill_json_template(template, values):
    """Each known `<name>`: its value as JSON outside a string, its text inside one."""
    out, in_string, i = [], False, 0
    while i < len(template):
        c = template[i]
        if in_string and c == "\\":
            out.append(template[i : i + 2])
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        match = _TEMPLATE_VARIABLE.match(template, i) if c == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(value))
            i = match.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_template_as_eventbridge(input_template, input_paths_map, event):
    if not input_template or input_template.lstrip()[:1] not in ("{", "["):
        return _parse_template(input_template, input_paths_map, event)
    return json.loads(_fill_json_template(input_template, _template_values(input_paths_map, event)))


events_models.Rule.send_to_targets = _send_to_targets_of_rule
events_utils.EventTemplateParser.parse = staticmethod(_parse_template_as_eventbridge)

# -- 13. percentiles -----------------------------------------------------------------

_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100)")
_statistic = cloudwatch_models.Statistics.get_statistics_for_type


def _statistic_with_percentiles(self, stat):
    match = _PERCENTILE.fullmatch(stat)
    if match is None:
        return _statistic(self, stat)
    values = sorted(self.metric_single_values_list)
    if not values:
        return None
    rank = max(1, math.ceil(float(match.group(1)) / 100 * len(values)))
    return values[rank - 1]


cloudwatch_models.Statistics.get_statistics_for_type = _statistic_with_percentiles

# -- 11. Smithy RPC v2 CBOR, translated to and from the JSON protocol ----------------

_RPC_V2_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_botocore = botocore.session.get_session()
_models_lock = threading.Lock()
_rpc_v2_models = {}  # moto backend name -> botocore service model, or None


def _rpc_v2_service_model(backend):
    """The botocore model of moto's backend `backend` when its service
    speaks RPC v2 CBOR first and also JSON (what moto serves), else None."""
    with _models_lock:
        if backend not in _rpc_v2_models:
            try:
                model = _botocore.get_service_model(backend)
            except Exception:
                model = None
            protocols = (model.metadata.get("protocols") or [model.protocol]) if model else []
            fits = protocols[:1] == ["smithy-rpc-v2-cbor"] and "json" in protocols
            _rpc_v2_models[backend] = model if fits else None
        return _rpc_v2_models[backend]


def _rpc_v2_operation(dispatcher, environ):
    """The botocore operation model of an RPC v2 CBOR request, or None."""
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor":
        return None
    path = environ.get("PATH_INFO", "")
    match = _RPC_V2_PATH.match(path)
    if not match:
        return None
    host = dispatcher.infer_service_region_host(environ, path)
    backend = dispatcher.get_backend_for_host(host)
    model = _rpc_v2_service_model(backend) if isinstance(backend, str) else None
    if model is None or model.metadata.get("targetPrefix") != match.group(1):
        return None
    try:
        return model.operation_model(match.group(2))
    except Exception:
        return None


def _request_body(environ):
    length = environ.get("CONTENT_LENGTH")
    if length:
        return environ["wsgi.input"].read(int(length))
    if environ.get("wsgi.input_terminated"):
        return environ["wsgi.input"].read()
    return b""


def _cbor_error(code, message):
    """`{"__type": code, "message": message}` in CBOR."""
    cbor = RpcV2CBORSerializer()
    body = bytearray(cbor._get_initial_byte(cbor.MAP_MAJOR_TYPE, 2))
    for text in ["__type", code, "message", message]:
        cbor._serialize_type_string(body, text, None, None)
    return bytes(body)


def _cbor_answer(operation, status, headers, body):
    """moto's JSON answer to `operation` as RPC v2 CBOR: (headers, body)."""
    kept = [(name, value) for name, value in headers if name.lower() in ("x-amzn-requestid", "x-amzn-query-error")]
    if status < 300:
        shape = operation.output_shape
        cbor = b""
        if shape is not None:
            parsed = JSONParser().parse({"status_code": status, "headers": dict(headers), "body": body}, shape)
            parsed.pop("ResponseMetadata", None)
            out = bytearray()
            RpcV2CBORSerializer()._serialize_data_item(out, parsed, shape)
            cbor = bytes(out)
    else:
        try:
            error = json.loads(body)
        except ValueError:
            error = {}
        if not isinstance(error, dict):
            error = {}
        code = error.get("__type") or dict((k.lower(), v) for k, v in headers).get("x-amzn-errortype") or str(status)
        message = error.get("message") or error.get("Message") or body.decode("utf-8", "replace")
        cbor = _cbor_error(code, message)
    answer = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor"), ("Content-Length", str(len(cbor)))]
    return kept + answer, cbor


_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _dispatch_translating_rpc_v2_cbor(self, environ, start_response):
    operation = _rpc_v2_operation(self, environ)
    if operation is None:
        return _dispatch(self, environ, start_response)
    request = _request_body(environ)
    if request and "gzip" in environ.get("HTTP_CONTENT_ENCODING", ""):
        # The SDK compresses large bodies (PutMetricData over 10 KB).
        request = gzip.decompress(request)
    params = {}
    if operation.input_shape is not None and request:
        params = RpcV2CBORParser().parse({"status_code": 200, "headers": {}, "body": request}, operation.input_shape)
        params.pop("ResponseMetadata", None)
    as_json = JSONSerializer().serialize_to_request(params, operation)
    environ = dict(environ)
    environ.update(
        {
            "PATH_INFO": "/",
            "RAW_URI": "/",
            "REQUEST_URI": "/",
            "QUERY_STRING": "",
            "CONTENT_TYPE": as_json["headers"]["Content-Type"],
            "CONTENT_LENGTH": str(len(as_json["body"])),
            "HTTP_X_AMZ_TARGET": as_json["headers"]["X-Amz-Target"],
            "HTTP_ACCEPT": "application/json",
            "wsgi.input": io.BytesIO(as_json["body"]),
        }
    )
    environ.pop("HTTP_SMITHY_PROTOCOL", None)
    environ.pop("HTTP_CONTENT_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)
    if "x-amzn-query-mode" in as_json["headers"]:
        environ["HTTP_X_AMZN_QUERY_MODE"] = as_json["headers"]["x-amzn-query-mode"]
    answered, written = {}, []

    def record(status, headers, exc_info=None):
        answered["status"], answered["headers"] = status, headers
        return written.append

    chunks = _dispatch(self, environ, record)
    try:
        body = b"".join(written) + b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    status = answered["status"]
    headers, cbor = _cbor_answer(operation, int(status.split()[0]), answered["headers"], body)
    start_response(status, headers)
    return [cbor]


werkzeug_app.DomainDispatcherApplication.__call__ = _dispatch_translating_rpc_v2_cbor

if __name__ == "__main__":
    sys.exit(main())
