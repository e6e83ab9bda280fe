use crate::pipeline::Outcome;
use serde_json::{json, Value};

fn render(text: &str) -> Outcome {
    super::super::test_stacks::render("access.yaml", text)
}

/// The statements of function `api`'s role when it has `tables: {log: LEVEL}`.
fn table_statements(level: &str) -> Vec<Value> {
    let text = format!(
        r#"
name: access
tables:
  log:
    partition_key: {{name: id, type: S}}
    indexes: {{by-kind: {{partition_key: {{name: kind, type: S}}}}}}
functions:
  api:
    crate: api-handler
    access:
      tables: {{log: {level}}}
"#
    );
    let template = match render(&text) {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{d:#?}"),
    };
    let policies = &template["Resources"]["ApiFunctionRole"]["Properties"]["Policies"];
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    // Logs, the environment's key and the table key are every role's.
    statements
        .iter()
        .filter(|s| {
            s["Sid"]
                .as_str()
                .is_some_and(|sid| sid.ends_with("LogTable"))
        })
        .cloned()
        .collect()
}

fn read_statement() -> Value {
    json!({
        "Sid": "ReadLogTable",
        "Effect": "Allow",
        "Action": [
            "dynamodb:BatchGetItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan"
        ],
        "Resource": [
            {"Fn::GetAtt": ["LogTable", "Arn"]},
            {"Fn::Sub": "${LogTable.Arn}/index/*"}
        ]
    })
}

fn append_statement() -> Value {
    json!({
        "Sid": "AppendToLogTable",
        "Effect": "Allow",
        "Action": ["dynamodb:PutItem"],
        "Resource": [{"Fn::GetAtt": ["LogTable", "Arn"]}],
        "Condition": {"StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}}
    })
}

#[test]
fn append_is_put_item_on_the_table_alone_returning_nothing() {
    assert_eq!(table_statements("append"), vec![append_statement()]);
}

#[test]
fn read_append_is_the_read_grant_and_the_append_grant() {
    assert_eq!(
        table_statements("read_append"),
        vec![read_statement(), append_statement()]
    );
    assert_eq!(table_statements("read"), vec![read_statement()]);
}

#[test]
fn read_write_keeps_one_statement_on_the_table_and_its_indexes() {
    let statements = table_statements("read_write");
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Sid"], "ReadWriteLogTable");
    assert_eq!(statements[0]["Resource"], read_statement()["Resource"]);
    assert!(statements[0].get("Condition").is_none());
    let actions = statements[0]["Action"].as_array().unwrap();
    for action in [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ] {
        assert!(actions.contains(&json!(action)), "{action}");
    }
}

#[test]
fn buckets_refuse_the_table_only_levels_where_they_are_written() {
    let text = "name: access
buckets:
  files: {}
functions:
  api:
    crate: api-handler
    access:
      buckets: {files: append}
";
    let diagnostics = match render(text) {
        Outcome::Invalid(d) => d,
        Outcome::Rendered { .. } => panic!("a bucket took `append`"),
    };
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0]
            .message
            .ends_with("unknown variant `append`, expected one of `read`, `write`, `read_write`"),
        "{}",
        errors[0].message
    );
    let loc = errors[0].loc().expect("located");
    assert_eq!((loc.line, loc.col), (8, 24));
    // The long form too.
    let long = text.replace("{files: append}", "{files: {level: read_append}}");
    let Outcome::Invalid(d) = render(&long) else {
        panic!("a bucket took `read_append`")
    };
    assert!(
        d.iter().any(
            |d| d.message.contains("`read_append` is not an accepted value")
                && d.loc().is_some_and(|l| l.line == 8)
        ),
        "{d:#?}"
    );
}

/// The rendered template of `text`, or a panic with the diagnostics.
fn rendered(text: &str) -> Value {
    super::super::test_stacks::rendered("access.yaml", text)
}

/// The errors of `text` as (line, column, message).
fn errors(text: &str) -> Vec<(u32, u32, String)> {
    let Outcome::Invalid(diagnostics) = render(text) else {
        panic!("rendered: {text}")
    };
    diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let loc = d.loc().expect("located");
            (loc.line, loc.col, d.message.clone())
        })
        .collect()
}

/// The statements of `role`'s one inline policy.
fn role_statements(template: &Value, role: &str) -> Vec<Value> {
    template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .clone()
}

fn stack_key_stack(actions: &str, context: &str) -> String {
    format!(
        "name: access
functions:
  api:
    crate: api-handler
    access:
      stack_key:
        actions: {actions}
        encryption_context: {context}
"
    )
}

#[test]
fn stack_key_is_one_statement_on_the_key_under_each_context_pair() {
    let template = rendered(&stack_key_stack(
        "[generate_data_key, encrypt]",
        "{purpose: ebay-refresh-token, app: sniper}",
    ));
    let statements = role_statements(&template, "ApiFunctionRole");
    let direct: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Sid"] == "UseStackKeyUnderEncryptionContext")
        .collect();
    assert_eq!(
        direct,
        vec![&json!({
            "Sid": "UseStackKeyUnderEncryptionContext",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [{"Fn::GetAtt": ["StackKey", "Arn"]}],
            "Condition": {"StringEquals": {
                "kms:EncryptionContext:purpose": "ebay-refresh-token",
                "kms:EncryptionContext:app": "sniper"
            }}
        })]
    );
    // The key policy lets the account's IAM policies grant the key, so the
    // statement above is all the function needs.
    let key_policy = &template["Resources"]["StackKey"]["Properties"]["KeyPolicy"]["Statement"];
    assert!(key_policy
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["Principal"]["AWS"]
            == json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})
            && s["Action"] == "kms:*"));
    // Without `stack_key`, no statement uses the key outside a service.
    let plain = rendered("name: access\nfunctions:\n  api:\n    crate: api-handler\n");
    let statements = role_statements(&plain, "ApiFunctionRole");
    assert!(statements
        .iter()
        .filter(|s| s["Action"].to_string().contains("kms:"))
        .all(|s| s["Condition"]["StringEquals"]
            .get("kms:ViaService")
            .is_some()));
}

#[test]
fn stack_key_refuses_an_empty_context_aws_keys_empty_values_and_repeated_actions() {
    assert_eq!(
        errors(&stack_key_stack("[encrypt]", "{}")),
        vec![(
            8,
            29,
            "the stack key grant names no encryption context".to_string()
        )]
    );
    assert_eq!(
        errors(&stack_key_stack(
            "[encrypt]",
            "{\"aws:s3:arn\": x, AWSx: y}"
        )),
        vec![
            (
                8,
                30,
                "the encryption context key `aws:s3:arn` starts with `aws`".to_string()
            ),
            (
                8,
                47,
                "the encryption context key `AWSx` starts with `aws`".to_string()
            )
        ]
    );
    assert_eq!(
        errors(&stack_key_stack("[encrypt]", "{purpose: a, Purpose: b}")),
        vec![(
            8,
            42,
            "the encryption context keys `purpose` and `Purpose` differ only in case".to_string()
        )]
    );
    assert_eq!(
        errors(&stack_key_stack(
            "[encrypt, decrypt, encrypt]",
            "{purpose: \"\"}"
        )),
        vec![
            (7, 37, "`encrypt` is listed twice".to_string()),
            (
                8,
                39,
                "the encryption context value of `purpose` is empty".to_string()
            )
        ]
    );
    assert_eq!(
        errors(&stack_key_stack("[]", "{purpose: \"${aws:username}\"}")),
        vec![
            (7, 18, "no stack key actions listed".to_string()),
            (
                8,
                39,
                "the encryption context pair `purpose` contains `${`".to_string()
            )
        ]
    );
}

fn dead_letter_stack(group: &str) -> String {
    format!(
        "name: access
functions:
  api:
    crate: api-handler
    environment:
      DLQ: ${{schedule_groups.bids.dead_letter_arn}}
      DLQ_URL: ${{schedule_groups.bids.dead_letter_url}}
  executor:
    crate: executor
schedule_groups:
  bids: {group}
"
    )
}

#[test]
fn a_dead_letter_queue_is_encrypted_kept_like_data_and_its_group_role_may_send_to_it() {
    let text = dead_letter_stack("{targets: [executor], dead_letter: {retention_days: 3}}");
    let template = rendered(&text);
    let queue = &template["Resources"]["BidsScheduleGroupDeadLetterQueue"];
    assert_eq!(
        queue,
        &json!({
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": {"Fn::Sub": "${AWS::StackName}-bids-dlq"},
                "MessageRetentionPeriod": 259200,
                "KmsMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]},
                "Tags": [{"Key": "app", "Value": "access"}, {"Key": "env", "Value": "dev"}]
            }
        })
    );
    assert_eq!(
        role_statements(&template, "BidsScheduleGroupRole")[1..],
        [
            json!({
                "Sid": "SendToDeadLetterQueue",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [{"Fn::GetAtt": ["BidsScheduleGroupDeadLetterQueue", "Arn"]}]
            }),
            json!({
                "Sid": "UseStackKeyForDeadLetterQueue",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [{"Fn::GetAtt": ["StackKey", "Arn"]}],
                "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.${AWS::URLSuffix}"}}}
            })
        ]
    );
    let variables = &template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        variables["DLQ"],
        json!({"Fn::Sub": "${BidsScheduleGroupDeadLetterQueue.Arn}"})
    );
    assert_eq!(
        variables["DLQ_URL"],
        json!({"Fn::Sub": "${BidsScheduleGroupDeadLetterQueue}"}),
        "`Ref` of a queue is its URL"
    );
    // Kept outside dev, like every other resource that holds data.
    let kept = rendered(&format!("retain_data: true\n{text}"));
    assert_eq!(
        kept["Resources"]["BidsScheduleGroupDeadLetterQueue"]["DeletionPolicy"],
        "Retain"
    );
    // 14 days unless the group says otherwise.
    let default = rendered(&dead_letter_stack("{targets: [executor], dead_letter: {}}"));
    assert_eq!(
        default["Resources"]["BidsScheduleGroupDeadLetterQueue"]["Properties"]
            ["MessageRetentionPeriod"],
        1_209_600
    );
}

#[test]
fn a_group_without_a_dead_letter_queue_has_none_to_refer_to_or_send_to() {
    let text = dead_letter_stack("{targets: [executor]}");
    assert_eq!(
        errors(&text),
        vec![
            (
                6,
                12,
                "`${schedule_groups.bids.dead_letter_arn}`: schedule group `bids` has no dead-letter queue"
                    .to_string()
            ),
            (
                7,
                16,
                "`${schedule_groups.bids.dead_letter_url}`: schedule group `bids` has no dead-letter queue"
                    .to_string()
            )
        ]
    );
    let without = rendered(
        "name: access\nfunctions:\n  executor:\n    crate: executor\nschedule_groups:\n  bids: {targets: [executor]}\n",
    );
    let statements = role_statements(&without, "BidsScheduleGroupRole");
    assert_eq!(statements.len(), 1, "{statements:#?}");
    assert!(without["Resources"]
        .as_object()
        .unwrap()
        .values()
        .all(|r| r["Type"] != "AWS::SQS::Queue"));
    assert_eq!(
        errors(&dead_letter_stack(
            "{targets: [executor], dead_letter: {retention_days: 15}}"
        ))
        .into_iter()
        .map(|(l, c, m)| (l, c, m.split(':').next().unwrap_or_default().to_string()))
        .collect::<Vec<_>>(),
        vec![(
            11,
            61,
            "`schedule_groups.bids.dead_letter.retention_days`".to_string()
        )]
    );
}
