use crate::load::StackSource;
use crate::pipeline::{render_environment, Outcome};
use crate::plan::CodeLocations;
use crate::render::{Renderer, TemplateSet};
use crate::source::SourceFile;
use serde_json::{json, Value};

/// The stack `text` rendered for `dev`, or the diagnostics that stop it.
fn render(text: &str) -> Outcome {
    let file = SourceFile {
        name: "access.yaml".into(),
        text: text.into(),
    };
    let source = match StackSource::parse(file) {
        Ok(source) => source,
        Err((_, d)) => return Outcome::Invalid(d),
    };
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    render_environment(&source, "dev", &renderer, &CodeLocations::default()).unwrap()
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
