use super::*;
use crate::local::iam::condition::Context;
use crate::local::iam::fixtures::{self, ACCOUNT, REGION};
use crate::local::iam::policy::Decision;
use crate::local::template::functions;

#[test]
fn a_seed_function_role_is_found_and_its_grants_resolve_to_the_deployed_arns() {
    let f = fixtures::stack("guitar-collection");
    let images = f.function("images");
    let policy = role_policy(&f.template, &f.resolver(), &images).expect("role");
    assert_eq!(policy.role, "ImagesFunctionRole");
    assert!(policy.unresolved.is_empty(), "{:?}", policy.unresolved);
    assert!(policy.managed_policies.is_empty());
    let bucket = &f.deployed.physical_ids["ImagesBucket"];
    let object = format!("arn:aws:s3:::{bucket}/images/x.jpg");
    let ctx = Context::new();
    assert!(matches!(
        policy.evaluate("s3:PutObject", &object, &ctx).decision,
        Decision::Allowed(_)
    ));
    assert_eq!(
        policy
            .evaluate("s3:PutObject", "arn:aws:s3:::someone-elses/x.jpg", &ctx)
            .decision,
        Decision::ImplicitlyDenied
    );
    let table = |id: &str| {
        format!(
            "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}",
            f.deployed.physical_ids[id]
        )
    };
    let index = format!("{}/index/brand-userId-index", table("GuitarsTable"));
    assert!(matches!(
        policy.evaluate("dynamodb:Query", &index, &ctx).decision,
        Decision::Allowed(_)
    ));
    assert_eq!(
        policy
            .evaluate("dynamodb:Query", &table("UsersTable"), &ctx)
            .decision,
        Decision::ImplicitlyDenied
    );
}

#[test]
fn the_kms_grant_applies_only_through_the_service_its_condition_names() {
    let f = fixtures::stack("guitar-collection");
    let policy = role_policy(&f.template, &f.resolver(), &f.function("auth")).expect("role");
    let key = format!(
        "arn:aws:kms:{REGION}:{ACCOUNT}:key/{}",
        f.deployed.physical_ids["StackKey"]
    );
    let direct = Context::new().with("kms:ViaService", None);
    assert_eq!(
        policy.evaluate("kms:Decrypt", &key, &direct).decision,
        Decision::ImplicitlyDenied
    );
    let via_lambda = Context::new().with(
        "kms:ViaService",
        Some(&format!("lambda.{REGION}.amazonaws.com")),
    );
    assert!(matches!(
        policy.evaluate("kms:Decrypt", &key, &via_lambda).decision,
        Decision::Allowed(_)
    ));
}

#[test]
fn a_role_found_by_arn_takes_attached_policies_and_names_what_it_cannot_evaluate() {
    let template = fixtures::hand_written();
    let deployed = fixtures::hand_written_deployed();
    let resolver = Resolver::new(&template, &deployed);
    let function = functions(&template, &resolver)
        .expect("functions")
        .remove(0);
    let policy = role_policy(&template, &resolver, &function).expect("role");
    assert_eq!(policy.role, "HandRole");
    assert_eq!(
        policy.managed_policies,
        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    );
    assert_eq!(policy.unresolved.len(), 1, "{:?}", policy.unresolved);
    assert!(policy.unresolved[0].contains("NotDeployed"));
    let table = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/hand-table");
    let secure = Context::new().with("aws:SecureTransport", Some("true"));
    assert_eq!(
        policy
            .evaluate("dynamodb:GetItem", &table, &secure)
            .decision,
        Decision::Allowed(vec![0])
    );
    let plain = Context::new().with("aws:SecureTransport", Some("false"));
    assert_eq!(
        policy.evaluate("dynamodb:GetItem", &table, &plain).decision,
        Decision::ExplicitlyDenied(2)
    );
}

#[test]
fn a_function_whose_role_is_not_in_the_template_is_an_error() {
    let template = fixtures::hand_written();
    let deployed = fixtures::hand_written_deployed();
    let resolver = Resolver::new(&template, &deployed);
    let mut function = functions(&template, &resolver)
        .expect("functions")
        .remove(0);
    function.role_arn = "arn:aws:iam::123456789012:role/elsewhere".into();
    let mut template = template;
    template["Resources"]["Fn"]["Properties"]["Role"] = function.role_arn.clone().into();
    let resolver = Resolver::new(&template, &deployed);
    assert!(matches!(
        role_policy(&template, &resolver, &function),
        Err(RoleError::NotInTemplate { .. })
    ));
}

#[test]
fn an_append_grant_allows_puts_that_return_nothing_and_nothing_else() {
    let f = fixtures::stack("fleet-console");
    let reboot = f.function("instances-reboot");
    let policy = role_policy(&f.template, &f.resolver(), &reboot).expect("role");
    let table = format!(
        "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}",
        f.deployed.physical_ids["AuditLogsTable"]
    );
    let returning = |v: Option<&str>| Context::new().with("dynamodb:ReturnValues", v);
    let allowed = |action: &str, resource: &str, ctx: &Context| {
        matches!(
            policy.evaluate(action, resource, ctx).decision,
            Decision::Allowed(_)
        )
    };
    assert!(allowed("dynamodb:PutItem", &table, &returning(None)));
    assert!(allowed(
        "dynamodb:PutItem",
        &table,
        &returning(Some("NONE"))
    ));
    assert!(!allowed(
        "dynamodb:PutItem",
        &table,
        &returning(Some("ALL_OLD"))
    ));
    for action in [
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    ] {
        assert!(!allowed(action, &table, &returning(None)), "{action}");
    }
    let index = format!("{table}/index/action-index");
    assert!(!allowed("dynamodb:PutItem", &index, &returning(None)));
    // `audit` reads (the indexes too) and appends.
    let audit = role_policy(&f.template, &f.resolver(), &f.function("audit")).expect("role");
    let audit_allows = |action: &str, resource: &str, ctx: &Context| {
        matches!(
            audit.evaluate(action, resource, ctx).decision,
            Decision::Allowed(_)
        )
    };
    assert!(audit_allows("dynamodb:Query", &index, &returning(None)));
    assert!(audit_allows("dynamodb:PutItem", &table, &returning(None)));
    assert!(!audit_allows(
        "dynamodb:PutItem",
        &table,
        &returning(Some("ALL_OLD"))
    ));
    assert!(!audit_allows(
        "dynamodb:DeleteItem",
        &table,
        &returning(None)
    ));
}

/// `access.stack_key` as the proxy evaluates it: the classified KMS call
/// (its encryption context told whole) with the proxy's own defaults, so
/// `local` allows exactly the calls the deployed policy allows.
#[test]
fn the_stack_key_grant_holds_only_for_its_actions_under_its_encryption_context() {
    use crate::local::iam::classify::{classify, Classified, Request, Scope};
    let f = fixtures::stack("ebay-sniper");
    let key = format!(
        "arn:aws:kms:{REGION}:{ACCOUNT}:key/{}",
        f.deployed.physical_ids["StackKey"]
    );
    let decide = |function: &str, operation: &str, context: serde_json::Value| {
        let policy = role_policy(&f.template, &f.resolver(), &f.function(function)).expect("role");
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-amz-target",
            format!("TrentService.{operation}").parse().unwrap(),
        );
        let body =
            serde_json::to_vec(&serde_json::json!({"KeyId": key, "EncryptionContext": context}))
                .unwrap();
        let request = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
            signing_service: Some("kms"),
        };
        let scope = Scope {
            partition: "aws",
            region: REGION,
            account: ACCOUNT,
            secret_arns: &[],
        };
        let Classified::Checked(call) = classify(&request, &scope) else {
            panic!("{operation} is checked")
        };
        // What the proxy adds to every call the function makes itself.
        let defaults = Context::new().with("kms:ViaService", None);
        let check = &call.checks[0];
        policy
            .evaluate(
                &check.action,
                &check.resource,
                &check.context.clone().or(&defaults),
            )
            .decision
    };
    let token = serde_json::json!({"purpose": "ebay-refresh-token", "userId": "u-1"});
    assert!(matches!(
        decide("api", "Encrypt", token.clone()),
        Decision::Allowed(_)
    ));
    assert!(matches!(
        decide("bid-executor", "Decrypt", token.clone()),
        Decision::Allowed(_)
    ));
    for (function, operation, context) in [
        ("api", "Decrypt", token.clone()),
        ("api", "GenerateDataKey", token.clone()),
        ("bid-executor", "Encrypt", token.clone()),
        ("api", "Encrypt", serde_json::json!({"userId": "u-1"})),
        ("api", "Encrypt", serde_json::json!({"purpose": "session"})),
        ("bid-executor", "Decrypt", serde_json::json!({})),
    ] {
        assert_eq!(
            decide(function, operation, context.clone()),
            Decision::ImplicitlyDenied,
            "{function} {operation} {context}"
        );
    }
}
