"""Values for Ref and Fn::GetAtt of the resource types moto has no service
for at all, so a template that refers to them still deploys. They are not
created; the values have the shapes AWS returns (an ARN where the resource
reference documents an ARN) and stay the same for the same stack and
logical id, so a redeploy does not see them change.

A type that is neither created nor listed here has no stand-in: a reference
to it fails the operation, naming the type.
"""

from cfn_types.service_resource import stable_token

HEX = "0123456789abcdef"


class StandIn:
    """What a stand-in may know: the stack, the logical id, and the
    resource's own properties (resolved as CloudFormation would)."""

    def __init__(self, resources_map, logical_id, resolve):
        self.resources_map = resources_map
        self.logical_id = logical_id
        self.resolve = resolve
        self.region = resources_map["AWS::Region"]
        self.account = resources_map["AWS::AccountId"]
        self.stack_name = resources_map["AWS::StackName"]

    def prop(self, name):
        properties = self.resources_map._resource_json_map[self.logical_id].get("Properties") or {}
        return self.resolve(properties.get(name), self.resources_map)

    def token(self, length, alphabet="abcdefghijklmnopqrstuvwxyz0123456789"):
        return stable_token(self.stack_name, self.logical_id, length=length, alphabet=alphabet)


def amplify_app(s):
    # Ref: the app's ARN; AppId: "d" and 13 lower-case letters and digits.
    app_id = "d" + s.token(13)
    arn = f"arn:aws:amplify:{s.region}:{s.account}:apps/{app_id}"
    return {"Ref": arn, "Arn": arn, "AppId": app_id, "AppName": s.prop("Name"), "DefaultDomain": f"{app_id}.amplifyapp.com"}


def amplify_branch(s):
    # Ref: the branch's ARN, under its app's.
    app_id = s.prop("AppId")
    arn = f"arn:aws:amplify:{s.region}:{s.account}:apps/{app_id}/branches/{s.prop('BranchName')}"
    return {"Ref": arn, "Arn": arn}


def response_headers_policy(s):
    # Ref and Id: the policy's id, a UUID.
    t = s.token(32, HEX)
    policy_id = f"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}"
    return {"Ref": policy_id, "Id": policy_id, "LastModifiedTime": "2026-01-01T00:00:00Z"}


STAND_INS = {
    "AWS::Amplify::App": amplify_app,
    "AWS::Amplify::Branch": amplify_branch,
    "AWS::CloudFront::ResponseHeadersPolicy": response_headers_policy,
}
