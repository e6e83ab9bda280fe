"""CloudFront distributions and origin access controls, WAFv2 web ACLs and
their associations, made by CloudFormation through moto's cloudfront and
wafv2 backends.

CloudFront's template shape differs from its API's: lists in the template
are {Quantity, Items} in the API, and a few members are spelled otherwise
(IPV6Enabled / IsIPV6Enabled, AcmCertificateArn / ACMCertificateArn).
"""

from moto.cloudfront.models import cloudfront_backends
from moto.wafv2.models import GLOBAL_REGION, wafv2_backends

from cfn_types.service_resource import ServiceResource, stable_token, tag_list


def items(values):
    return {"Quantity": len(values or []), "Items": list(values or [])}


def cache_behavior(behavior):
    api = {k: v for k, v in behavior.items() if k not in ("AllowedMethods", "CachedMethods", "LambdaFunctionAssociations", "FunctionAssociations", "TrustedSigners", "TrustedKeyGroups")}
    allowed = behavior.get("AllowedMethods") or ["GET", "HEAD"]
    api["AllowedMethods"] = {**items(allowed), "CachedMethods": items(behavior.get("CachedMethods") or ["GET", "HEAD"])}
    for key in ("LambdaFunctionAssociations", "FunctionAssociations", "TrustedSigners", "TrustedKeyGroups"):
        if key in behavior:
            api[key] = items(behavior[key])
    return api


def origin(o):
    api = {k: v for k, v in o.items() if k not in ("OriginCustomHeaders", "CustomOriginConfig")}
    api["CustomHeaders"] = items([{"HeaderName": h["HeaderName"], "HeaderValue": h["HeaderValue"]} for h in o.get("OriginCustomHeaders") or []])
    if "CustomOriginConfig" in o:
        custom = dict(o["CustomOriginConfig"])
        custom["OriginSslProtocols"] = items(custom.pop("OriginSSLProtocols", ["TLSv1.2"]))
        api["CustomOriginConfig"] = custom
    return api


def distribution_config(config, caller_reference):
    """AWS::CloudFront::Distribution's DistributionConfig as CreateDistribution takes it."""
    api = {k: v for k, v in config.items() if k not in ("Aliases", "CacheBehaviors", "CustomErrorResponses", "DefaultCacheBehavior", "IPV6Enabled", "Origins", "Restrictions", "ViewerCertificate", "OriginGroups")}
    api["CallerReference"] = caller_reference
    api["Aliases"] = items(config.get("Aliases"))
    api["Origins"] = items([origin(o) for o in config.get("Origins") or []])
    api["DefaultCacheBehavior"] = cache_behavior(config["DefaultCacheBehavior"])
    if config.get("CacheBehaviors"):
        api["CacheBehaviors"] = items([cache_behavior(b) for b in config["CacheBehaviors"]])
    if config.get("CustomErrorResponses"):
        api["CustomErrorResponses"] = items(config["CustomErrorResponses"])
    if "IPV6Enabled" in config:
        api["IsIPV6Enabled"] = config["IPV6Enabled"]
    geo = (config.get("Restrictions") or {}).get("GeoRestriction")
    if geo:
        api["Restrictions"] = {"GeoRestriction": {"RestrictionType": geo["RestrictionType"], **items(geo.get("Locations"))}}
    certificate = dict(config.get("ViewerCertificate") or {})
    for template_name, api_name in (("AcmCertificateArn", "ACMCertificateArn"), ("IamCertificateId", "IAMCertificateId")):
        if template_name in certificate:
            certificate[api_name] = certificate.pop(template_name)
    if certificate:
        api["ViewerCertificate"] = certificate
    return api


class Distribution(ServiceResource):
    TYPE = "AWS::CloudFront::Distribution"

    def backend(self):
        # CloudFront is global; moto keeps it in the partition's backend.
        return cloudfront_backends[self.account_id]["aws"]

    def caller_reference(self):
        return stable_token(self.generated_name, length=20)

    def create(self):
        config = distribution_config(self.properties["DistributionConfig"], self.caller_reference())
        distribution, _, _ = self.backend().create_distribution(config, tag_list(self.properties.get("Tags")))
        self.physical_resource_id = distribution.distribution_id
        self.attributes = {"Id": distribution.distribution_id, "DomainName": distribution.domain_name}

    def update(self):
        config = distribution_config(self.properties["DistributionConfig"], self.caller_reference())
        self.backend().update_distribution(config, self.physical_resource_id, if_match=True)

    def remove(self):
        self.backend().delete_distribution(self.physical_resource_id, if_match=True)


class OriginAccessControl(ServiceResource):
    TYPE = "AWS::CloudFront::OriginAccessControl"

    def backend(self):
        return cloudfront_backends[self.account_id]["aws"]

    def create(self):
        control = self.backend().create_origin_access_control(dict(self.properties["OriginAccessControlConfig"]))
        self.physical_resource_id = control.id
        self.attributes = {"Id": control.id}

    def update(self):
        self.backend().update_origin_access_control(self.physical_resource_id, dict(self.properties["OriginAccessControlConfig"]))

    def remove(self):
        self.backend().delete_origin_access_control(self.physical_resource_id)


def waf_backend(account_id, region_or_arn, scope=None):
    """A CLOUDFRONT-scoped web ACL lives in WAF's global backend (as moto's
    own API handlers choose it); a REGIONAL one in its region's."""
    if region_or_arn.startswith("arn:"):
        parts = region_or_arn.split(":")
        scope = "CLOUDFRONT" if parts[5].startswith("global") else "REGIONAL"
        region_or_arn = parts[3]
    return wafv2_backends[account_id][GLOBAL_REGION if scope == "CLOUDFRONT" else region_or_arn]


class WebAcl(ServiceResource):
    TYPE = "AWS::WAFv2::WebACL"

    def backend(self):
        return waf_backend(self.account_id, self.region_name, self.properties["Scope"])

    def optional(self):
        p = self.properties
        return dict(
            association_config=p.get("AssociationConfig"),
            captcha_config=p.get("CaptchaConfig"),
            challenge_config=p.get("ChallengeConfig"),
            custom_response_bodies=p.get("CustomResponseBodies"),
            token_domains=p.get("TokenDomains"),
        )

    def create(self):
        p = self.properties
        name = p.get("Name") or self.generated_name[:128]
        acl = self.backend().create_web_acl(
            name=name, visibility_config=p["VisibilityConfig"], default_action=p["DefaultAction"], scope=p["Scope"], description=p.get("Description"), tags=tag_list(p.get("Tags")), rules=p.get("Rules") or [], **self.optional()
        )
        # Ref is name|id|scope, as the resource reference documents.
        self.physical_resource_id = f"{name}|{acl.id}|{p['Scope']}"
        self.attributes = {"Arn": acl.arn, "Id": acl.id, "Capacity": acl.capacity, "LabelNamespace": acl.label_namespace}

    def update(self):
        name, acl_id, _ = self.physical_resource_id.split("|")
        acl = self.backend().get_web_acl(None, name, acl_id)
        p = self.properties
        self.backend().update_web_acl(
            name=name, _id=acl_id, default_action=p["DefaultAction"], rules=p.get("Rules") or [], description=p.get("Description"), visibility_config=p["VisibilityConfig"], lock_token=acl.lock_token, **self.optional()
        )

    def remove(self):
        name, acl_id, scope = self.physical_resource_id.split("|")
        acl = self.backend().get_web_acl(None, name, acl_id)
        self.backend().delete_web_acl(name, scope, acl_id, acl.lock_token)


class WebAclAssociation(ServiceResource):
    TYPE = "AWS::WAFv2::WebACLAssociation"

    def create(self):
        waf_backend(self.account_id, self.properties["WebACLArn"]).associate_web_acl(self.properties["WebACLArn"], self.properties["ResourceArn"])
        # The primary identifier: both ARNs (either changing replaces it).
        self.physical_resource_id = f"{self.properties['ResourceArn']}|{self.properties['WebACLArn']}"

    def remove(self):
        waf_backend(self.account_id, self.properties["WebACLArn"]).disassociate_web_acl(self.properties["ResourceArn"])
