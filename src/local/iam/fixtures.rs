//! Seed stacks rendered and "deployed" with realistic physical ids, for
//! the tests of this module and of the proxy.

use crate::load::StackSource;
use crate::local::template::{functions, Deployed, FunctionSpec, Resolver, Unresolved};
use crate::model::StackDef;
use crate::pipeline::{render_environment, Outcome};
use crate::render::{Renderer, TemplateSet};
use serde_json::{json, Value};

pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";

pub struct Fixture {
    pub template: Value,
    pub def: StackDef,
    pub deployed: Deployed,
}

impl Fixture {
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver::new(&self.template, &self.deployed)
    }

    /// The function whose stack-file name is `name`.
    pub fn function(&self, name: &str) -> FunctionSpec {
        let id = crate::kinds::FUNCTION.logical_id(name);
        functions(&self.template, &self.resolver())
            .expect("functions resolve")
            .into_iter()
            .find(|f| f.logical_id == id)
            .expect("function exists")
    }
}

/// `stacks/{stack}.yaml`, environment `dev`, deployed to eu-west-1.
pub fn stack(stack: &str) -> Fixture {
    let name = format!("stacks/{stack}.yaml");
    let text = std::fs::read_to_string(&name).expect("stack file");
    let source = StackSource::parse(crate::source::SourceFile { name, text })
        .unwrap_or_else(|(_, d)| panic!("{stack}: {d:?}"));
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates");
    let template = match render_environment(&source, "dev", &renderer, &Default::default())
        .expect("renders")
    {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{stack} is invalid: {d:?}"),
    };
    let resolved = source.resolve("dev");
    let def: StackDef = StackDef::clone(resolved.valid_def().expect("valid"));
    let deployed = deploy(&template, &format!("{stack}-dev"));
    Fixture {
        template,
        def,
        deployed,
    }
}

/// Physical ids as CloudFormation gives them: names from the template's
/// name properties, ARNs for topics and secrets, generated names else.
fn deploy(template: &Value, stack_name: &str) -> Deployed {
    let mut deployed = Deployed {
        stack_name: stack_name.into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        ..Default::default()
    };
    let ids: Vec<(String, String)> = template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .map(|(id, r)| {
            (
                id.clone(),
                r["Type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (id, resource_type) in ids {
        let physical = physical_id(template, &deployed, &id, &resource_type);
        deployed.physical_ids.insert(id, physical);
    }
    // Attributes no ARN rule computes (a distribution's domain) come as
    // `--resolve` values, as a user would give them.
    while let Err((
        _,
        Unresolved::Attribute {
            logical_id,
            attribute,
            ..
        },
    )) = functions(template, &Resolver::new(template, &deployed))
    {
        let value = format!(
            "{}-{}.example",
            logical_id.to_lowercase(),
            attribute.to_lowercase()
        );
        deployed
            .overrides
            .insert(format!("{logical_id}.{attribute}"), value);
    }
    deployed
}

fn physical_id(template: &Value, deployed: &Deployed, id: &str, resource_type: &str) -> String {
    let props = &template["Resources"][id]["Properties"];
    let named = |property: &str| {
        Resolver::new(template, deployed)
            .string(&props[property])
            .ok()
    };
    let arn = |service: &str, rest: String| format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{rest}");
    match resource_type {
        "AWS::DynamoDB::Table" => named("TableName"),
        "AWS::S3::Bucket" => named("BucketName"),
        "AWS::Lambda::Function" => named("FunctionName"),
        "AWS::Logs::LogGroup" => named("LogGroupName"),
        "AWS::Scheduler::ScheduleGroup" => named("Name"),
        "AWS::SNS::Topic" => named("TopicName").map(|n| arn("sns", n)),
        "AWS::SQS::Queue" => {
            named("QueueName").map(|n| format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{n}"))
        }
        "AWS::Kinesis::Stream" | "AWS::Events::EventBus" => named("Name"),
        "AWS::SecretsManager::Secret" => {
            named("Name").map(|n| arn("secretsmanager", format!("secret:{n}-AbCdEf")))
        }
        "AWS::Cognito::UserPool" => Some(format!("{REGION}_TestPool")),
        "AWS::KMS::Key" => Some("0e1f2a3b-0000-4000-8000-000000000001".into()),
        _ => None,
    }
    .unwrap_or_else(|| format!("{}-{id}-X1Y2Z3", deployed.stack_name))
}

/// A template of one function whose role is found only by its ARN, with a
/// policy resource attached and a managed policy named.
pub fn hand_written() -> Value {
    json!({"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "fn", "Role": "arn:aws:iam::123456789012:role/hand-role"}},
        "HandRole": {"Type": "AWS::IAM::Role", "Properties": {
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}],
            "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Statement": [
                {"Sid": "ReadTable", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": {"Fn::GetAtt": ["Table", "Arn"]}},
                {"Sid": "Missing", "Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "NotDeployed"}}
            ]}}]}},
        "Extra": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "extra", "Roles": [{"Ref": "HandRole"}],
            "PolicyDocument": {"Statement": {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}}}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "NotDeployed": {"Type": "AWS::SNS::Topic", "Properties": {}}
    }})
}

/// The deployment of [`hand_written`].
pub fn hand_written_deployed() -> Deployed {
    let mut d = Deployed {
        stack_name: "hand".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        ..Default::default()
    };
    for (id, physical) in [
        ("Fn", "fn"),
        ("HandRole", "hand-role"),
        ("Table", "hand-table"),
    ] {
        d.physical_ids.insert(id.into(), physical.into());
    }
    d
}
