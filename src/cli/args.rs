//! Command-line arguments as plain data. `resolve` in the commands turns
//! them, with the environment and files, into settings once.

use crate::diff::guard::RequireApproval;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str =
    "Turns a short, typed stack definition into a complete, secure AWS serverless deployment";

const AFTER_HELP: &str = "\
Examples:
  stackctl validate                          check every stack in stacks/, every environment
  stackctl render --env prod guitar-collection
  stackctl schema > schema/stack.schema.json

Exit codes: 0 success, 1 problems found or operation failed, 2 usage error,
3 `diff --exit-code` found changes, 4 `drift --exit-code` found drift,
130 interrupted (Ctrl-C).";

#[derive(Debug, Parser)]
#[command(name = "stackctl", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Folder holding stack definitions (`NAME.yaml`).
    #[arg(
        long,
        global = true,
        default_value = "stacks",
        env = "STACKCTL_STACKS_DIR",
        value_name = "DIR"
    )]
    pub stacks_dir: PathBuf,
    /// Folder for build outputs (packages and manifests).
    #[arg(
        long,
        global = true,
        default_value = ".stackctl",
        env = "STACKCTL_BUILD_DIR",
        value_name = "DIR"
    )]
    pub build_dir: PathBuf,
    /// Show the full report behind an AWS error (the SDK's own form).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check stack definitions for every mistake that can be known before AWS sees them.
    #[command(after_help = "\
Examples:
  stackctl validate                         every stack, every environment
  stackctl validate --env prod ebay-sniper  one stack as it is in prod
  stackctl validate --output json           diagnostics as JSON lines for tools

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage error.")]
    Validate(ValidateArgs),
    /// Render the CloudFormation template of stacks for one environment.
    #[command(after_help = "\
Examples:
  stackctl render --env dev guitar-collection            YAML to stdout
  stackctl render --env prod --format json --out build  every stack, one file each
  stackctl render --env dev --templates my-templates     with overridden templates

Exit codes: 0 rendered, 1 a stack has errors or a template failed, 2 usage error.")]
    Render(RenderArgs),
    /// Build the handler crates of stacks into Lambda packages (deterministic, content-addressed zips).
    #[command(after_help = "\
Examples:
  stackctl build                          every function of every stack, every environment
  stackctl build --env prod ebay-sniper   one stack as it is in prod
  stackctl build --upload --profile ci    and ship the packages to the artifact bucket

Needs cargo-zigbuild and zig (so binaries run on Lambda's glibc):
  python3 -m venv .tools/zigbuild && .tools/zigbuild/bin/pip install cargo-zigbuild==0.24.0 ziglang==0.17.1

Exit codes: 0 built, 1 a stack has errors or a build failed, 2 usage error.")]
    Build(BuildArgs),
    /// Show what a deploy would change: resource by resource, with replacements, data-loss and security findings.
    #[command(after_help = "\
Examples:
  stackctl diff --env prod                     every stack against what is deployed
  stackctl diff --env prod --exit-code shop    exit 3 when something would change (CI gates)
  stackctl diff --env prod --output json       one JSON object per stack

The change set stackctl creates to ask CloudFormation is deleted again; a
stack that does not exist yet is shown as all new without creating anything.

Exit codes: 0 no changes (or changes without --exit-code), 1 error, 2 usage error,
3 changes with --exit-code.")]
    Diff(DiffArgs),
    /// Deploy stacks through CloudFormation change sets: build, upload, show the diff, guard, execute, follow.
    #[command(after_help = "\
Examples:
  stackctl deploy --env dev guitar-collection
  stackctl deploy --env prod --outputs-file outputs.json     every stack, outputs for the next CI step
  stackctl deploy --env prod --require-approval never shop   unattended, after a reviewed `stackctl diff`
  stackctl deploy --env staging --allow-replace shop:OrdersTable  a table replacement that is intended

Stacks that declare `depends_on` deploy after those stacks; independent ones
deploy together, up to --concurrency at a time.

Refused without a flag: removing or replacing a table, bucket, user pool, key,
secret or log group (--allow-replace [STACK:]ID); permission-widening changes when no
terminal can ask (--require-approval never).

Exit codes: 0 deployed or nothing to change, 1 refused, failed or rolled back, 2 usage error,
130 interrupted (pending change sets are removed).")]
    Deploy(DeployArgs),
    /// Delete a deployed stack; lists the resources it keeps (tables, buckets, keys… with DeletionPolicy Retain).
    #[command(after_help = "\
Examples:
  stackctl destroy --env dev guitar-collection         asks you to type the stack name
  stackctl destroy --env dev --yes guitar-collection   no question (CI)
  stackctl destroy --env dev --yes --force-delete guitar-collection
                                                      a stack in DELETE_FAILED: delete it,
                                                      leaving what failed to delete (listed)

Prod stacks have termination protection; destroy refuses them and says how to lift it.
A stack in DELETE_FAILED is offered force-delete: it lists the resources whose deletion
failed, which stay in the account; agreeing takes the typed name, or --force-delete.

Exit codes: 0 deleted or not there, 1 refused or failed, 2 usage error, 130 interrupted.")]
    Destroy(DestroyArgs),
    /// Print a deployed stack's outputs (API URL, user pool and client ids, table and bucket names…).
    #[command(after_help = "\
Examples:
  stackctl outputs --env prod guitar-collection
  stackctl outputs --env prod --format dotenv guitar-collection > frontend/.env.production
  stackctl outputs --env dev --format json ebay-sniper | jq -r .HttpApiUrl

Exit codes: 0 printed, 1 the stack does not exist or AWS could not be reached, 2 usage error.")]
    Outputs(OutputsArgs),
    /// How deployed stacks are doing: state, last operation, alarms, function and API metrics, endpoints.
    #[command(after_help = "\
Examples:
  stackctl status --env prod                      every stack, the last hour
  stackctl status --env prod --since 24h shop     one stack, the last day
  stackctl status --env prod --output json        one JSON object per stack

Alarms in ALARM come first, with their reason and since when.

Exit codes: 0 no alarm in ALARM, 1 an alarm is in ALARM or a stack could not be read,
2 usage error.")]
    Status(StatusArgs),
    /// Check deployed stacks against their definitions: web ACLs attached, key rotating, roles unchanged, alarms, tables, buckets.
    #[command(after_help = "\
Examples:
  stackctl verify --env prod                  every stack
  stackctl verify --env prod --output json    one JSON object per check

Each check prints PASS or FAIL with what was expected and what was found.

Exit codes: 0 every check passed, 1 a check failed or a stack could not be read, 2 usage error.")]
    Verify(VerifyArgs),
    /// Detect drift: what was changed outside CloudFormation, property by property, in stack-file terms.
    #[command(after_help = "\
Examples:
  stackctl drift --env prod                    every stack
  stackctl drift --env prod --exit-code shop   exit 4 when something drifted (CI gates)
  stackctl deploy --env prod --revert-drift    put drifted resources back as the template says

Exit codes: 0 no drift (or drift without --exit-code), 1 error, 2 usage error,
4 drift found with --exit-code.")]
    Drift(DriftArgs),
    /// Read the stack's function and API logs, merged in time order; `--tail` follows them live.
    #[command(after_help = "\
Examples:
  stackctl logs --env dev guitar-collection                   every function and API, last 10 minutes
  stackctl logs --env prod shop payments --since 1h --filter ERROR
  stackctl logs --env dev shop --tail                         follow until Ctrl-C

Exit codes: 0 printed (or followed until Ctrl-C), 1 the stack or a log group could not be read,
2 usage error.")]
    Logs(LogsArgs),
    /// Serve the stack's APIs on this machine through its real handler packages, against the deployed stack.
    #[command(after_help = "\
Examples:
  stackctl local --env dev guitar-collection                 APIs on http://127.0.0.1:3000 and up
  stackctl local --env dev guitar-collection --resolve UserPool=eu-west-1_abc
  stackctl local invoke --env dev guitar-collection guitars --event event.json

Each function runs its `bootstrap` with its own role's credentials; every AWS
call it makes is checked against that role's policy and a denied call is
reported. Stop with Ctrl-C: the grants no request used are listed then.

Exit codes: 0 stopped, 1 it could not start (the reason is printed), 2 usage error.")]
    Local(Box<LocalArgs>),
    /// Print the JSON schema of stack definitions (for editors and CI checks).
    #[command(after_help = "\
Examples:
  stackctl schema > schema/stack.schema.json
  # then, at the top of a stack file:
  # yaml-language-server: $schema=../schema/stack.schema.json")]
    Schema,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Check this environment only (default: every environment of each stack).
    #[arg(long, short)]
    pub env: Option<String>,
    /// Stacks by name (`guitar-collection`) or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// `human` for people, `json` for one JSON object per diagnostic.
    #[arg(long, value_enum, default_value_t = OutputMode::Human)]
    pub output: OutputMode,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Build for this environment only (default: every environment of each stack).
    #[arg(long, short)]
    pub env: Option<String>,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// Also ship the packages to the account's artifact bucket (created if missing); packages already there are not sent again.
    #[arg(long)]
    pub upload: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[arg(long, short)]
    pub env: String,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// `human`, or `json` (one object per stack).
    #[arg(long, value_enum, default_value_t = OutputMode::Human)]
    pub output: OutputMode,
    /// Exit with 3 when something would change (1 stays "error", 2 "usage error").
    #[arg(long)]
    pub exit_code: bool,
    /// Resources whose replacement or removal is intended (repeatable), as `LOGICAL_ID` or `STACK:LOGICAL_ID`; not reported as data loss.
    #[arg(long, value_name = "[STACK:]LOGICAL_ID")]
    pub allow_replace: Vec<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[arg(long, short)]
    pub env: String,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// Resources whose replacement or removal is intended (repeatable), as `LOGICAL_ID` (in any stack deployed) or `STACK:LOGICAL_ID` (STACK is the stack's name, with or without the environment).
    #[arg(long, value_name = "[STACK:]LOGICAL_ID")]
    pub allow_replace: Vec<String>,
    /// Which changes need a person's approval: `broadening` (new or wider permissions), `any-change`, or `never`.
    #[arg(long, default_value_t = RequireApproval::Broadening, value_parser = require_approval_parser())]
    pub require_approval: RequireApproval,
    /// How many independent stacks deploy at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
    /// Write the stacks' outputs here after the deploy: JSON (`{stack: {key: value}}`) for `.json`, dotenv otherwise (one stack).
    #[arg(long, value_name = "PATH")]
    pub outputs_file: Option<PathBuf>,
    /// Wait for a stack busy with another operation, instead of refusing.
    #[arg(long)]
    pub wait_busy: bool,
    /// Put resources changed outside CloudFormation back as the template says (a drift-aware change set).
    #[arg(long)]
    pub revert_drift: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[arg(long, short)]
    pub env: String,
    /// The stack, by name or path.
    pub stack: String,
    /// Do not ask; needed where there is no terminal.
    #[arg(long)]
    pub yes: bool,
    /// For a stack in DELETE_FAILED: delete it with CloudFormation's force-delete mode, leaving behind (and listing) the resources that could not be deleted.
    #[arg(long)]
    pub force_delete: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LocalArgs {
    #[command(subcommand)]
    pub action: Option<LocalAction>,
    #[arg(long, short, required = true)]
    pub env: Option<String>,
    /// The stack, by name or path.
    #[arg(required = true)]
    pub stack: Option<String>,
    /// The port of the stack's first API; each further API takes the next port.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    #[command(flatten)]
    pub session: LocalSessionArgs,
}

#[derive(Debug, Subcommand)]
pub enum LocalAction {
    /// Invoke one function of the stack once, as its trigger would, and print its answer.
    #[command(after_help = "\
Examples:
  stackctl local invoke --env dev guitar-collection guitars --event event.json
  echo '{}' | stackctl local invoke --env dev etl ingest --event -
  stackctl local invoke --env dev ebay-sniper poller --schedule poll   what the schedule sends

Exit codes: 0 the function answered, 1 it failed (its error is printed) or could not run, 2 usage error.")]
    Invoke(LocalInvokeArgs),
}

#[derive(Debug, Args)]
pub struct LocalInvokeArgs {
    #[arg(long, short)]
    pub env: String,
    /// The stack, by name or path.
    pub stack: String,
    /// The function, by its name in the stack file (`guitars`) or its logical id (`GuitarsFunction`).
    pub function: String,
    /// The event, from a JSON file or `-` for standard input (default: `{}`).
    #[arg(long, value_name = "FILE", conflicts_with = "schedule")]
    pub event: Option<PathBuf>,
    /// Send what this schedule of the stack sends the function (by name in the stack file or logical id).
    #[arg(long, value_name = "NAME")]
    pub schedule: Option<String>,
    #[command(flatten)]
    pub session: LocalSessionArgs,
}

#[derive(Debug, Args)]
pub struct LocalSessionArgs {
    /// A value the deployed stack does not tell (repeatable): `LOGICAL_ID=PHYSICAL_ID` for a resource the emulator does not create, `LOGICAL_ID.ATTRIBUTE=VALUE` for an attribute.
    #[arg(long, value_name = "KEY=VALUE")]
    pub resolve: Vec<String>,
    /// Write the APIs' URLs here as JSON once they are served (for scripts and tests).
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct OutputsArgs {
    #[arg(long, short)]
    pub env: String,
    /// The stack, by name or path.
    pub stack: String,
    #[arg(long, value_enum, default_value_t = OutputsFormat::Table)]
    pub format: OutputsFormat,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, short)]
    pub env: String,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// How far back metrics go: `30m`, `1h`, `2d` (seconds `s`, minutes `m`, hours `h`, days `d`).
    #[arg(long, default_value = "1h", value_parser = parse_span)]
    pub since: std::time::Duration,
    /// `human`, or `json` (one object per stack).
    #[arg(long, value_enum, default_value_t = OutputMode::Human)]
    pub output: OutputMode,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[arg(long, short)]
    pub env: String,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// `human`, or `json` (one object per check).
    #[arg(long, value_enum, default_value_t = OutputMode::Human)]
    pub output: OutputMode,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[arg(long, short)]
    pub env: String,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    /// `human`, or `json` (one object per stack).
    #[arg(long, value_enum, default_value_t = OutputMode::Human)]
    pub output: OutputMode,
    /// Exit with 4 when a stack has drifted (1 stays "error", 2 "usage error").
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[arg(long, short)]
    pub env: String,
    /// The stack, by name or path.
    pub stack: String,
    /// Functions by their name in the stack file (default: every function and API of the stack).
    pub functions: Vec<String>,
    /// How far back to start: `10m`, `1h`, `2d` (seconds `s`, minutes `m`, hours `h`, days `d`).
    #[arg(long, default_value = "10m", value_parser = parse_span)]
    pub since: std::time::Duration,
    /// A CloudWatch Logs filter pattern: `ERROR`, `"timed out"`, `{ $.level = "ERROR" }`.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Keep following new lines until Ctrl-C.
    #[arg(long)]
    pub tail: bool,
    /// `human` for people, `json` for one JSON object per line (timestamp, group, stream, function, message).
    #[arg(long, value_enum, default_value_t = OutputMode::Human)]
    pub output: OutputMode,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `90s`, `10m`, `1h`, `2d`: a span of time back from now.
pub fn parse_span(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit: write it as 30m, 1h or 2d"))?;
    let (number, unit) = text.split_at(split);
    let amount: u64 = number.parse().map_err(|_| {
        format!("`{text}` does not start with a whole number: write it as 30m, 1h or 2d")
    })?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{unit}` is not a unit: use s, m, h or d (`{text}`)"
            ))
        }
    };
    if amount == 0 {
        return Err("the span must be longer than zero".to_string());
    }
    // CloudWatch keeps metrics 15 months and logs no longer than their
    // retention: a longer span asks for nothing more, and would overflow.
    const LONGEST_DAYS: u64 = 455;
    if amount.saturating_mul(seconds) > LONGEST_DAYS * 86_400 {
        return Err(format!(
            "`{text}` reaches back further than CloudWatch keeps anything (15 months): use at most {LONGEST_DAYS}d"
        ));
    }
    amount
        .checked_mul(seconds)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputsFormat {
    Table,
    Json,
    Dotenv,
}

/// The logical ids `--allow-replace` allows in one stack: `ID` everywhere,
/// `STACK:ID` where STACK is the stack's app name or full stack name.
pub fn allowed_in(allow_replace: &[String], app: &str, stack: &str) -> Vec<String> {
    allow_replace
        .iter()
        .filter_map(|a| match a.split_once(':') {
            Some((s, id)) if s == app || s == stack => Some(id.to_string()),
            Some(_) => None,
            None => Some(a.clone()),
        })
        .collect()
}

/// Where in AWS: the standard chain, overridable here.
#[derive(Debug, Args, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile; wins over credentials exported in the environment (default: the standard chain: AWS_ACCESS_KEY_ID, AWS_PROFILE, the default profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: with --profile, that profile's region, then AWS_REGION; otherwise AWS_REGION, then the default profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The environment to render (dev, staging, prod, or any the stack declares).
    #[arg(long, short)]
    pub env: String,
    /// Stacks by name or path; default: every stack in the stacks folder.
    pub stacks: Vec<String>,
    #[arg(long, value_enum, default_value_t = TemplateFormat::Yaml)]
    pub format: TemplateFormat,
    /// Write one file per stack (`{stack}-{env}.yaml`) into this folder instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of templates overriding the built-in ones by file name (`lambda_function.yaml`).
    #[arg(long, value_name = "DIR", env = "STACKCTL_TEMPLATES")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    Yaml,
    Json,
}

/// Parses `--require-approval` into the core's setting, listing the choices
/// in help and errors as a value enum would (the core does not know clap).
fn require_approval_parser() -> impl clap::builder::TypedValueParser<Value = RequireApproval> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(RequireApproval::ALL.map(RequireApproval::as_str))
        .try_map(|name| name.parse::<RequireApproval>())
}

#[cfg(test)]
mod tests {
    use super::allowed_in;

    #[test]
    fn spans_read_with_their_unit_and_refuse_what_is_unclear() {
        use super::parse_span;
        use std::time::Duration;
        assert_eq!(parse_span("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_span("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_span("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_span("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_span("10").unwrap_err().contains("no unit"));
        assert!(parse_span("1w").unwrap_err().contains("`w` is not a unit"));
        assert!(parse_span("0m").unwrap_err().contains("longer than zero"));
        assert!(parse_span("h").unwrap_err().contains("whole number"));
        assert_eq!(parse_span("455d"), Ok(Duration::from_secs(455 * 86_400)));
        assert!(parse_span("456d").unwrap_err().contains("15 months"));
        assert!(parse_span("18446744073709551615s")
            .unwrap_err()
            .contains("15 months"));
    }

    #[test]
    fn allow_replace_can_name_the_stack() {
        let flags = vec![
            "UsersTable".to_string(),
            "shop:OrdersTable".to_string(),
            "blog-prod:PostsTable".to_string(),
        ];
        assert_eq!(
            allowed_in(&flags, "shop", "shop-prod"),
            ["UsersTable", "OrdersTable"]
        );
        assert_eq!(
            allowed_in(&flags, "blog", "blog-prod"),
            ["UsersTable", "PostsTable"]
        );
        assert_eq!(allowed_in(&flags, "blog", "blog-dev"), ["UsersTable"]);
    }
}
