use super::*;
use crate::local::iam::fixtures::{self, ACCOUNT, REGION};

fn terms(stack: &str) -> (StackTerms, fixtures::Fixture) {
    let f = fixtures::stack(stack);
    let t = StackTerms::new(&f.def, &f.resolver());
    (t, f)
}

#[test]
fn a_missing_object_write_names_the_bucket_and_the_level_on_top_of_what_is_declared() {
    let (t, f) = terms("guitar-collection");
    let bucket = &f.deployed.physical_ids["ImagesBucket"];
    let check = Check::new(
        "s3:DeleteObject",
        format!("arn:aws:s3:::{bucket}/images/x.jpg"),
    );
    // `guitars` declares no bucket access: write alone.
    assert_eq!(
        t.remedy("guitars", &check),
        Remedy::Grant {
            access: "access: {buckets: {images: write}}".into(),
            resource: Some(("buckets.images".into(), bucket.clone())),
        }
    );
    assert_eq!(
        t.remedy("guitars", &check).to_string(),
        format!("the stack file grants it with `access: {{buckets: {{images: write}}}}` (buckets.images is {bucket})")
    );
}

#[test]
fn a_table_write_for_a_reader_becomes_read_write_and_an_index_is_the_table() {
    let mut f = fixtures::stack("guitar-collection");
    f.def.functions["user"]
        .access
        .tables
        .insert("users".into(), TableAccess::Read);
    let t = StackTerms::new(&f.def, &f.resolver());
    let users = format!(
        "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}",
        f.deployed.physical_ids["UsersTable"]
    );
    let remedy = t.remedy("user", &Check::new("dynamodb:PutItem", users.clone()));
    assert!(
        matches!(&remedy, Remedy::Grant { access, .. } if access == "access: {tables: {users: read_write}}"),
        "{remedy:?}"
    );
    // `guitars` has no access to the users table at all.
    let remedy = t.remedy(
        "guitars",
        &Check::new("dynamodb:Query", format!("{users}/index/byEmail")),
    );
    assert!(
        matches!(&remedy, Remedy::Grant { access, resource: Some((path, _)) }
        if access.contains("users: read}") && path == "tables.users"),
        "{remedy:?}"
    );
}

#[test]
fn user_pool_actions_are_named_as_the_stack_file_lists_them() {
    let (t, f) = terms("guitar-collection");
    let pool = f.deployed.physical_ids["UserPool"].clone();
    let arn = format!("arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool}");
    assert_eq!(
        t.remedy("auth", &Check::new("cognito-idp:AdminGetUser", arn.clone())),
        Remedy::Grant {
            access: "access: {user_pool: [admin_get_user]}".into(),
            resource: Some(("user_pool".into(), pool.clone()))
        }
    );
    // An action no level grants is declared under `actions`.
    assert_eq!(
        t.remedy("auth", &Check::new("cognito-idp:CreateGroup", arn.clone())),
        Remedy::Grant {
            access: "access: {actions: {user_pool: [cognito-idp:CreateGroup]}}".into(),
            resource: Some(("user_pool".into(), pool.clone()))
        }
    );
    // One IAM grants only on `*` cannot be limited to the pool.
    assert_eq!(
        t.remedy("auth", &Check::new("cognito-idp:ListUserPools", arn)),
        Remedy::NotDeclarable {
            resource: ("user_pool".into(), pool)
        }
    );
}

#[test]
fn secrets_schedules_and_pass_role_name_their_lists() {
    let (t, f) = terms("ebay-sniper");
    let secret = f.deployed.physical_ids["PostmarkSecret"].clone();
    assert_eq!(t.secret_arns().len(), 2);
    assert!(t.secret_arns().contains(&secret));
    assert_eq!(
        t.remedy(
            "bid-executor",
            &Check::new("secretsmanager:GetSecretValue", secret)
        ),
        Remedy::Grant {
            access: "access: {secrets: [postmark]}".into(),
            resource: Some(("secrets.postmark".into(), "ebay-sniper-dev/postmark".into())),
        }
    );
    let group = "ebay-sniper-dev-bid-schedules";
    let schedule = format!("arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/bid-1");
    let role = format!(
        "arn:aws:iam::{ACCOUNT}:role/{}",
        f.deployed.physical_ids["BidSchedulesScheduleGroupRole"]
    );
    for check in [
        Check::new("scheduler:CreateSchedule", schedule),
        Check::new("iam:PassRole", role),
    ] {
        assert_eq!(
            t.remedy("bid-executor", &check),
            Remedy::Grant {
                access: "access: {schedule_groups: [bid-schedules]}".into(),
                resource: Some(("schedule_groups.bid-schedules".into(), group.into())),
            }
        );
    }
}

#[test]
fn a_prefix_grant_is_kept_when_it_covers_the_key_and_dropped_when_not() {
    let (t, f) = terms("cloud-platform");
    let bucket = f.deployed.physical_ids["EtlInputBucket"].clone();
    let inside = Check::new(
        "s3:PutObject",
        format!("arn:aws:s3:::{bucket}/incoming/a.json"),
    );
    assert!(matches!(t.remedy("transform", &inside),
        Remedy::Grant { access, .. } if access == "access: {buckets: {etl-input: {level: read_write, prefix: incoming/}}}"));
    let outside = Check::new(
        "s3:GetObject",
        format!("arn:aws:s3:::{bucket}/archive/a.json"),
    );
    assert!(matches!(t.remedy("transform", &outside),
        Remedy::Grant { access, .. } if access == "access: {buckets: {etl-input: read}}"));
    let listing = Check::new("s3:ListBucket", format!("arn:aws:s3:::{bucket}"))
        .with("s3:prefix", Some("incoming/x"));
    assert!(matches!(t.remedy("transform", &listing),
        Remedy::Grant { access, .. } if access.contains("prefix: incoming/")));
}

#[test]
fn account_wide_grants_and_undeclared_resources() {
    let (t, _) = terms("fleet-console");
    let reboot = Check::new(
        "ec2:RebootInstances",
        format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1"),
    );
    assert_eq!(
        t.remedy("audit", &reboot),
        Remedy::Grant {
            access: "access: {ec2: {actions: [reboot_instances]}}".into(),
            resource: None
        }
    );
    let metrics = Check::new("cloudwatch:GetMetricData", "*");
    assert_eq!(
        t.remedy("audit", &metrics),
        Remedy::Grant {
            access: "access: {read_metrics: true}".into(),
            resource: None
        }
    );
    let elsewhere = Check::new("s3:GetObject", "arn:aws:s3:::not-ours/k");
    assert_eq!(t.remedy("audit", &elsewhere), Remedy::Undeclared);
    assert_eq!(
        Remedy::Undeclared.to_string(),
        "the resource is none of the stack file's declared resources"
    );
}

fn audit_logs(f: &fixtures::Fixture) -> String {
    format!(
        "arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{}",
        f.deployed.physical_ids["AuditLogsTable"]
    )
}

fn access_of(remedy: &Remedy) -> &str {
    match remedy {
        Remedy::Grant { access, .. } => access,
        other => panic!("not a grant: {other:?}"),
    }
}

#[test]
fn an_appender_that_updates_writes_and_one_that_reads_reads_and_appends() {
    let (t, f) = terms("fleet-console");
    let table = audit_logs(&f);
    let update = Check::new("dynamodb:UpdateItem", table.clone());
    // instances-reboot: append; audit: read_append.
    assert_eq!(
        access_of(&t.remedy("instances-reboot", &update)),
        "access: {tables: {audit-logs: write}}"
    );
    assert_eq!(
        access_of(&t.remedy("audit", &update)),
        "access: {tables: {audit-logs: read_write}}"
    );
    let delete = Check::new("dynamodb:DeleteItem", table.clone());
    assert_eq!(
        access_of(&t.remedy("audit", &delete)),
        "access: {tables: {audit-logs: read_write}}"
    );
    let query = Check::new("dynamodb:Query", format!("{table}/index/action-index"));
    assert_eq!(
        access_of(&t.remedy("instances-reboot", &query)),
        "access: {tables: {audit-logs: read_append}}"
    );
    // A function with no access to the table: a put is granted by `write`, as before.
    let put = Check::new("dynamodb:PutItem", table.clone()).with("dynamodb:ReturnValues", None);
    assert_eq!(
        access_of(&t.remedy("refresh", &put)),
        "access: {tables: {audit-logs: write}}"
    );
}

#[test]
fn a_put_asking_for_the_replaced_item_is_explained_to_an_appender() {
    let (t, f) = terms("fleet-console");
    let table = audit_logs(&f);
    let physical = f.deployed.physical_ids["AuditLogsTable"].clone();
    let put = Check::new("dynamodb:PutItem", table.clone())
        .with("dynamodb:ReturnValues", Some("ALL_OLD"));
    let remedy = t.remedy("instances-reboot", &put);
    assert_eq!(
        remedy,
        Remedy::Conditional(Box::new(Unmet {
            declared: "access: {tables: {audit-logs: append}}".into(),
            why: "with ReturnValues NONE or without it, so that a put never returns the item it replaces, and this call sends ALL_OLD".into(),
            fix: "send ReturnValues NONE".into(),
            access: "access: {tables: {audit-logs: write}}".into(),
            resource: ("tables.audit-logs".into(), physical.clone()),
        }))
    );
    assert_eq!(
        remedy.to_string(),
        format!("`access: {{tables: {{audit-logs: append}}}}` allows it only with ReturnValues NONE or without it, so that a put never returns the item it replaces, and this call sends ALL_OLD; send ReturnValues NONE, or the stack file grants it as it is with `access: {{tables: {{audit-logs: write}}}}` (tables.audit-logs is {physical})")
    );
    assert!(matches!(
        t.remedy("audit", &put),
        Remedy::Conditional(unmet) if unmet.access == "access: {tables: {audit-logs: read_write}}"
    ));
}

#[test]
fn a_denied_queue_call_names_the_queue_and_its_level_or_the_declared_action() {
    let (t, f) = terms("ebay-sniper");
    let url = &f.deployed.physical_ids["BidFailuresQueue"];
    let name = url.rsplit('/').next().unwrap().to_string();
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
    let resource = Some(("queues.bid-failures".to_string(), name));
    assert_eq!(
        t.remedy("api", &Check::new("sqs:SendMessage", arn.clone())),
        Remedy::Grant {
            access: "access: {queues: {bid-failures: send}}".into(),
            resource: resource.clone(),
        }
    );
    assert_eq!(
        t.remedy("api", &Check::new("sqs:ReceiveMessage", arn.clone())),
        Remedy::Grant {
            access: "access: {queues: {bid-failures: consume}}".into(),
            resource: resource.clone(),
        }
    );
    // No level covers purging: `access.actions` does, checked against SQS's list.
    assert_eq!(
        t.remedy("api", &Check::new("sqs:PurgeQueue", arn.clone())),
        Remedy::Grant {
            access: "access: {actions: {queues.bid-failures: [sqs:PurgeQueue]}}".into(),
            resource,
        }
    );
    // An action of another service is nothing the queue's entry can grant.
    assert!(matches!(
        t.remedy("api", &Check::new("sns:Publish", arn)),
        Remedy::NotDeclarable { .. }
    ));
}
