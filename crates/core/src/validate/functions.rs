//! Functions and schedules: code source, Lambda's limits, environment,
//! concurrency, and what a schedule expression may say.

use super::{p, Checker, LOG_RETENTION_DAYS};
use crate::model::{DeadLetter, Function, StackKeyAccess};
use crate::reference::{self, Piece};
use crate::source::Path;

/// Variables Lambda sets itself and refuses in a function's configuration.
const RESERVED_VARIABLES: [&str; 16] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
];

/// Words in a variable name that say its value is a credential.
const SECRET_WORDS: [&str; 6] = [
    "PASSWORD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
];

/// Lambda's limit on all environment variables of a function, in bytes.
pub const ENVIRONMENT_LIMIT: usize = 4096;

pub(super) fn check(c: &mut Checker) {
    let defaults = &c.def.function_defaults;
    let at = p("function_defaults");
    limits(
        c,
        &at,
        defaults.memory,
        defaults.timeout,
        defaults.log_retention_days,
    );
    environment(c, at.key("environment"), &defaults.environment);
    let functions: Vec<(String, Function)> = c
        .def
        .functions
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, f) in &functions {
        function(c, name, f);
    }
    schedules(c);
}

fn function(c: &mut Checker, name: &str, f: &Function) {
    let at = p("functions").key(name);
    match (&f.crate_name, &f.zip) {
        (None, None) => c.error(at.clone(), format!("function `{name}` has no code"), "name the workspace crate that builds it (`crate: my-handler`) or a prebuilt package (`zip: {path: dist/f.zip}`)"),
        (Some(_), Some(_)) => c.error(at.key("zip"), format!("function `{name}` names both a crate and a zip"), "keep one: `crate` is built by `stackctl build`, `zip` is shipped as it is"),
        (Some(krate), None) => {
            let ok = krate.starts_with(|ch: char| ch.is_ascii_alphabetic()) && krate.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
            if !ok {
                c.error(at.key("crate"), format!("`{krate}` is not a crate name"), "crate names are letters, digits, `-` and `_`, as in the crate's Cargo.toml");
            } else {
                crate_exists(c, at.key("crate"), krate);
            }
        }
        (None, Some(zip)) => {
            if !zip.path.ends_with(".zip") {
                c.error(at.key("zip").key("path"), format!("`{}` is not a .zip file", zip.path), "Lambda deployment packages are .zip archives");
            } else if c.code.zips.as_ref().is_some_and(|found| !found.contains(&zip.path)) {
                c.error(at.key("zip").key("path"), format!("there is no package `{}`", zip.path), "the path is relative to the stack file's folder; build the package there first, or correct the path");
            }
        }
    }
    limits(c, &at, f.memory, f.timeout, f.log_retention_days);
    environment(c, at.key("environment"), &f.environment);
    let size = environment_size(&c.def.function_defaults.environment, &f.environment);
    if size > ENVIRONMENT_LIMIT {
        c.error(at.key("environment"), format!("the environment of function `{name}` may take {size} bytes"), format!("Lambda allows {ENVIRONMENT_LIMIT} bytes of variables in all (references count at their longest); move large values to a secret or an S3 object"));
    }
    if let (Some(provisioned), reserved) = (f.provisioned_concurrency, f.reserved_concurrency) {
        if provisioned == 0 {
            c.error(
                at.key("provisioned_concurrency"),
                "provisioned concurrency of 0",
                "remove the field instead",
            );
        }
        if let Some(reserved) = reserved.filter(|r| provisioned > *r) {
            c.error(at.key("provisioned_concurrency"), format!("provisioned concurrency {provisioned} exceeds reserved concurrency {reserved}"), "a function cannot keep more environments ready than it may ever run; raise `reserved_concurrency` or lower this");
        }
    }
    if let Some(key) = &f.access.stack_key {
        stack_key(c, at.key("access").key("stack_key"), key);
    }
    if let Some(ec2) = &f.access.ec2 {
        if ec2.actions.is_empty() {
            c.error(at.key("access").key("ec2").key("actions"), "no EC2 actions listed", "list the calls the function makes, such as `[describe_instances, reboot_instances]`");
        }
        if !ec2.instances_tagged.is_empty() && ec2.actions.iter().all(|a| a.is_describe()) {
            c.warning(at.key("access").key("ec2").key("instances_tagged"), "`instances_tagged` has no effect on describe calls", "IAM cannot limit Describe* calls to tagged instances; the tag condition applies to reboot, start and stop");
        }
    }
}

/// `access.stack_key`: the calls and the encryption context the grant is bound to.
fn stack_key(c: &mut Checker, at: Path, key: &StackKeyAccess) {
    let actions = at.key("actions");
    if key.actions.is_empty() {
        c.error(actions.clone(), "no stack key actions listed", "list the calls the function makes with the key: `[encrypt]`, `[decrypt]` or `[generate_data_key]`");
    }
    for (i, action) in key.actions.iter().enumerate() {
        if key.actions[..i].contains(action) {
            c.error(
                actions.index(i),
                format!("`{}` is listed twice", action.as_str()),
                "list each action once",
            );
        }
    }
    let context = at.key("encryption_context");
    if key.encryption_context.is_empty() {
        c.error(context.clone(), "the stack key grant names no encryption context", "bind the grant to what the function encrypts, such as `{purpose: refresh-token}`: without a pair the function could use the key on anything encrypted with it");
    }
    for (name, value) in &key.encryption_context {
        let here = context.key(name);
        if name.is_empty() {
            c.error_at_key(
                here.clone(),
                "an encryption context key is empty",
                "name the pair, such as `purpose`",
            );
        } else if name
            .get(..3)
            .is_some_and(|head| head.eq_ignore_ascii_case("aws"))
        {
            // KMS itself reserves no key ("Encryption context can consist
            // of any values that you want", AWS KMS Developer Guide,
            // encryption-context.html): the prefix is refused because
            // services name their pairs with it. In any case (`AWS:` too),
            // since IAM compares the key name without case ("The key name
            // is not case sensitive", conditions-kms.html,
            // kms:EncryptionContext:context-key).
            c.error_at_key(here.clone(), format!("the encryption context key `{name}` starts with `aws`"), "AWS services put their own pairs under `aws:` keys when they use the key for you (CloudWatch Logs `aws:logs:arn`, S3 `aws:s3:arn`); a direct grant bound to one would let the function use the key on what the service encrypted, past the `kms:ViaService` limit. Choose a key of your own");
        }
        if value.is_empty() {
            c.error(
                here.clone(),
                format!("the encryption context value of `{name}` is empty"),
                "KMS compares the value exactly; give the value every call sends",
            );
        }
        if let Some(first) = key
            .encryption_context
            .keys()
            .take_while(|other| *other != name)
            .find(|other| other.eq_ignore_ascii_case(name))
        {
            c.error_at_key(here.clone(), format!("the encryption context keys `{first}` and `{name}` differ only in case"), "IAM reads both as one condition key (`kms:EncryptionContext:` key names are not case sensitive); keep one");
        }
        if name.contains("${") || value.contains("${") {
            c.error(here, format!("the encryption context pair `{name}` contains `${{`"), "IAM reads `${…}` in a policy as a policy variable; write the literal text every call sends");
        }
    }
}

/// A crate `stackctl build` can build: a package of the workspace with a
/// binary (checked only when the caller looked at the workspace).
fn crate_exists(c: &mut Checker, at: Path, krate: &str) {
    let Some(crates) = &c.code.crates else {
        return;
    };
    if crates.contains(krate) {
        return;
    }
    let hint = match crate::diagnostic::did_you_mean(krate, crates.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`? (crates are named as in their Cargo.toml)"),
        None => format!("write the handler crate first: a workspace member with a binary, such as `handlers/{krate}`"),
    };
    c.error(
        at,
        format!("there is no crate `{krate}` with a binary in this workspace"),
        hint,
    );
}

/// Lambda's memory and timeout ranges and CloudWatch's retention periods,
/// for a function or the defaults at `at`.
fn limits(
    c: &mut Checker,
    at: &Path,
    memory: Option<u32>,
    timeout: Option<u32>,
    retention_days: Option<u32>,
) {
    if let Some(m) = memory {
        c.in_range(
            at.key("memory"),
            "memory",
            m.into(),
            128..=10240,
            "Lambda memory is in MB",
        );
    }
    if let Some(t) = timeout {
        c.in_range(
            at.key("timeout"),
            "timeout",
            t.into(),
            1..=900,
            "Lambda timeouts are in seconds",
        );
    }
    if let Some(days) = retention_days {
        retention(c, at.key("log_retention_days"), days);
    }
}

fn retention(c: &mut Checker, at: Path, days: u32) {
    if !LOG_RETENTION_DAYS.contains(&days) {
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| d.abs_diff(days))
            .expect("non-empty");
        c.error(at, format!("{days} days is not a retention period CloudWatch Logs accepts"), format!("use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (nearest: {nearest})"));
    }
}

fn environment(c: &mut Checker, at: Path, vars: &indexmap::IndexMap<String, String>) {
    for (key, value) in vars {
        let here = at.key(key);
        let ok = key.starts_with(|ch: char| ch.is_ascii_alphabetic())
            && key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !ok {
            c.error_at_key(
                here.clone(),
                format!("`{key}` is not a usable variable name"),
                "variable names are letters, digits and `_`, starting with a letter",
            );
        } else if RESERVED_VARIABLES.contains(&key.as_str()) {
            c.error_at_key(here.clone(), format!("`{key}` is set by Lambda itself"), "Lambda refuses reserved variables; read the value Lambda provides, or choose another name");
        }
        let upper = key.to_ascii_uppercase();
        let literal = matches!(reference::parse(value).as_deref(), Ok([Piece::Text(_)]));
        if literal
            && SECRET_WORDS.iter().any(|w| upper.contains(w))
            && !upper.ends_with("_ARN")
            && !upper.ends_with("_NAME")
            && !upper.ends_with("_URL")
        {
            c.error(here, format!("`{key}` looks like a credential written in plain text"), "a value here is visible to anyone who can read the function's configuration or the template; declare it under `secrets:`, grant `access.secrets`, and pass `${secrets.NAME.arn}` instead");
        }
    }
}

/// Bytes the variables take once references are replaced by their longest values.
pub fn environment_size(
    defaults: &indexmap::IndexMap<String, String>,
    own: &indexmap::IndexMap<String, String>,
) -> usize {
    let mut merged = defaults.clone();
    merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
        .iter()
        .map(|(k, v)| {
            let value_len: usize = match reference::parse(v) {
                Ok(pieces) => pieces
                    .iter()
                    .map(|piece| match piece {
                        Piece::Text(t) => t.len(),
                        Piece::Ref(r) => match r.attr.as_str() {
                            "arn" | "role_arn" | "stream_arn" | "dead_letter_arn"
                            | "dead_letter_url" | "issuer" | "url" => 200,
                            _ => 128,
                        },
                    })
                    .sum(),
                Err(_) => v.len(),
            };
            k.len() + value_len
        })
        .sum()
}

fn schedules(c: &mut Checker) {
    for (name, s) in &c.def.schedules.clone() {
        let at = p("schedules").key(name);
        if let Err(hint) = schedule_expression(&s.expression) {
            c.error(
                at.key("expression"),
                format!("`{}` is not a schedule expression", s.expression),
                hint,
            );
        }
        if let Some(tz) = &s.timezone {
            if !(tz == "UTC"
                || (tz.contains('/')
                    && tz
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "/_+-".contains(ch))))
            {
                c.error(
                    at.key("timezone"),
                    format!("`{tz}` is not an IANA time zone"),
                    "write a zone such as `UTC`, `Europe/Berlin` or `America/New_York`",
                );
            }
        }
    }
    for (name, g) in &c.def.schedule_groups.clone() {
        let at = p("schedule_groups").key(name);
        if g.targets.is_empty() {
            c.error(
                at.key("targets"),
                format!("schedule group `{name}` has no targets"),
                "list the functions its schedules invoke; the group's role may invoke only those",
            );
        }
        if let Some(days) = g.dead_letter.as_ref().and_then(|d| d.retention_days) {
            // SQS `MessageRetentionPeriod`: "An integer from 60 seconds
            // (1 minute) to 1,209,600 seconds (14 days)" (Amazon SQS API
            // Reference, CreateQueue; the pinned AWS::SQS::Queue schema says
            // the same); in whole days here.
            c.in_range(
                at.key("dead_letter").key("retention_days"),
                "dead-letter retention",
                days.into(),
                1..=DeadLetter::MAX_RETENTION_DAYS.into(),
                "SQS keeps a message at most 14 days",
            );
        }
    }
}

/// Checks `rate(…)`, `cron(…)` and `at(…)` the way EventBridge Scheduler reads them.
pub fn schedule_expression(expr: &str) -> Result<(), String> {
    let inner = |prefix: &str| expr.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
    if let Some(body) = inner("rate(") {
        let (n, unit) = body
            .split_once(' ')
            .ok_or("write `rate(5 minutes)`: a number, a space, a unit")?;
        let n: u64 = n
            .parse()
            .map_err(|_| "the rate must start with a whole number, as in `rate(5 minutes)`")?;
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        if n == 0 || !(singular || plural) {
            return Err(
                "units are minute(s), hour(s) or day(s) and the number is at least 1".into(),
            );
        }
        if (n == 1) != singular {
            return Err(format!(
                "write `rate(1 {})` for one and `rate({n} {}s)` for more",
                unit.trim_end_matches('s'),
                unit.trim_end_matches('s')
            ));
        }
        return Ok(());
    }
    if let Some(body) = inner("cron(") {
        let fields: Vec<&str> = body.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(format!("cron expressions have 6 fields (minutes hours day-of-month month day-of-week year), this has {}", fields.len()));
        }
        if fields[2] != "?" && fields[4] != "?" {
            return Err(
                "one of day-of-month and day-of-week must be `?`, as in `cron(0 12 * * ? *)`"
                    .into(),
            );
        }
        return Ok(());
    }
    if let Some(body) = inner("at(") {
        let ok = body.len() == 19
            && body.as_bytes()[10] == b'T'
            && body
                .chars()
                .all(|ch| ch.is_ascii_digit() || "-:T".contains(ch));
        return if ok {
            Ok(())
        } else {
            Err("write a local time as `at(2026-12-01T09:00:00)`".into())
        };
    }
    Err("write `rate(5 minutes)`, `cron(0 12 * * ? *)` or `at(2026-12-01T09:00:00)`".into())
}

#[cfg(test)]
mod tests {
    use super::schedule_expression;

    #[test]
    fn schedule_expressions() {
        assert!(schedule_expression("rate(5 minutes)").is_ok());
        assert!(schedule_expression("rate(1 hour)").is_ok());
        assert!(schedule_expression("rate(1 hours)").is_err());
        assert!(schedule_expression("cron(0 12 * * ? *)").is_ok());
        assert!(schedule_expression("cron(0 12 * * *)").is_err());
        assert!(schedule_expression("at(2026-12-01T09:00:00)").is_ok());
        assert!(schedule_expression("every 5 minutes").is_err());
    }
}
