"""The base of every CloudFormation resource type the launcher adds to moto:
CloudFormation creates, updates and deletes it through the service's own
moto backend (so the service's API then shows it), and Ref/Fn::GetAtt
return the values that backend made.

What a type may return from Fn::GetAtt, and which property changes replace
it, come from CloudFormation's resource provider schemas (the copy cfn-lint
ships, installed with moto[server] and pinned beside it), not from this code.
"""

import hashlib

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

REGION_FOR_SCHEMAS = "us-east-1"


def schema_attributes(resource_type):
    """The names Fn::GetAtt accepts for a type, as the resource reference lists them."""
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION_FOR_SCHEMAS, resource_type)
    except Exception:  # noqa: BLE001 - cfn-lint raises its own "not found" kinds
        return None
    return set(schema.get_atts.keys())


def create_only_properties(resource_type):
    """Top-level properties whose change makes CloudFormation replace the resource."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION_FOR_SCHEMAS, resource_type).schema
    return {path.split("/")[2] for path in schema.get("createOnlyProperties", [])}


def stable_token(*parts, length=13, alphabet="abcdefghijklmnopqrstuvwxyz0123456789"):
    """A value that is the same for the same inputs (so a redeploy does not
    see it change), shaped like the random ids AWS hands out."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def tag_list(tags):
    """CloudFormation writes tags either as a map or as Key/Value pairs; both as pairs."""
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return list(tags or [])


def tag_map(tags):
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags or []}


class ServiceResource(CloudFormationModel):
    """One resource of a stack, kept in its service's moto backend.

    A subclass sets TYPE and implements create() (which sets
    physical_resource_id and the attributes), update() and remove().
    """

    TYPE = ""

    def __init__(self, account_id, region_name, logical_id, generated_name, properties):
        self.account_id = account_id
        self.region_name = region_name
        self.logical_id = logical_id
        self.generated_name = generated_name
        self.properties = properties
        self.physical_resource_id = None
        self.attributes = {}

    # -- what moto's CloudFormation asks of a model --------------------------

    @classmethod
    def cloudformation_type(cls):
        return cls.TYPE

    @staticmethod
    def cloudformation_name_type():
        # Names are read by each type itself (a missing name is generated
        # from the stack and logical id, as CloudFormation does).
        return ""

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in (schema_attributes(cls.TYPE) or set())

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        resource = cls(account_id, region_name, kwargs.get("LogicalId", resource_name), resource_name, cloudformation_json.get("Properties") or {})
        resource.create()
        return resource

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        """An update in place, or a replacement when a create-only property
        changes: the new resource is made first, the old one removed after
        (CloudFormation's order)."""
        properties = cloudformation_json.get("Properties") or {}
        replaced = [p for p in create_only_properties(cls.TYPE) if original_resource.properties.get(p) != properties.get(p)]
        if replaced:
            replacement = cls(account_id, region_name, original_resource.logical_id, new_resource_name, properties)
            replacement.create()
            original_resource.remove()
            return replacement
        original_resource.properties = properties
        original_resource.update()
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # Deletion goes through delete() on the instance, which knows its ids.
        raise NotImplementedError(f"{cls.TYPE} {resource_name} is deleted through its instance")

    def delete(self, account_id=None, region_name=None):
        self.remove()

    def get_cfn_attribute(self, attribute_name):
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self):
        return True

    # -- what a subclass implements ------------------------------------------

    def create(self):
        raise NotImplementedError

    def update(self):
        """Applies self.properties to the existing resource. Types whose
        service has no update call are replaced instead."""
        self.remove()
        self.create()

    def remove(self):
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------

    def name_or_generated(self, key, max_length=None):
        name = self.properties.get(key) or self.generated_name
        return name[:max_length] if max_length else name

    def arn(self, service, resource, region=None):
        region = self.region_name if region is None else region
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"
