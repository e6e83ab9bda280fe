//! `external:` entries name exactly one source of a well-formed ARN, and
//! functions ask only for levels their kind takes; `${external.NAME.…}`
//! references ask only for what the source can give.

use super::{p, Checker};
use crate::model::{External, ExternalKind, ExternalSource};
use crate::reference::Reference;
use crate::source::Path;

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (name, e) in &def.external {
        entry(c, &p("external").key(name), e);
    }
    for (fname, f) in &def.functions {
        for (name, level) in &f.access.external {
            let at = p("functions")
                .key(fname)
                .key("access")
                .key("external")
                .key(name);
            if !c.expect_known_key(at.clone(), "external resource", name, def.external.keys()) {
                continue;
            }
            let kind = def.external[name].kind;
            if !kind.levels().contains(level) {
                let levels: Vec<&str> = kind.levels().iter().map(|l| l.word()).collect();
                c.error(
                    at,
                    format!(
                        "`{}` is not a level of an external {} (`{name}`)",
                        level.word(),
                        kind.word()
                    ),
                    format!("write {}", or_list(&levels)),
                );
            }
        }
    }
}

/// `${external.NAME.ATTR}`: the entry exists and its source gives `ATTR`.
pub(super) fn reference(c: &mut Checker, at: Path, r: &Reference) {
    let def = c.def;
    if !c.expect_known(
        at.clone(),
        "external resource",
        &r.name,
        def.external.keys(),
    ) {
        return;
    }
    let e = &def.external[&r.name];
    let Some(source) = e.source() else {
        return; // reported at the entry
    };
    let given_by = match source {
        ExternalSource::Export(_) => Some("another stack's export"),
        ExternalSource::SsmParameter(_) => Some("an SSM parameter"),
        _ => None,
    };
    match (r.attr.as_str(), given_by) {
        ("name", Some(by)) => c.error(
            at,
            format!(
                "`{r}`: the name of `{}` is not known, only its ARN ({by})",
                r.name
            ),
            format!(
                "refer to `${{external.{}.arn}}`, or give the resource by `arn` or `name`",
                r.name
            ),
        ),
        ("arn", None)
            if e.kind == ExternalKind::Secret && matches!(source, ExternalSource::Name(_)) =>
        {
            c.error(
                at,
                format!("`{r}`: a secret known by name has no full ARN to give"),
                format!(
                    "Secrets Manager ends a secret's ARN with six characters of its own; refer to `${{external.{}.name}}` (the SDK takes a name as `SecretId`), or give the secret's `arn`",
                    r.name
                ),
            );
        }
        _ => {}
    }
}

fn entry(c: &mut Checker, at: &Path, e: &External) {
    let Some(source) = e.source() else {
        c.error_at_key(
            at.clone(),
            "name exactly one of `arn`, `name`, `export` and `ssm_parameter`",
            "an external resource comes from one place: its ARN, its name in this account and region, another stack's export, or an SSM parameter holding its ARN",
        );
        return;
    };
    match source {
        ExternalSource::Arn(arn) => {
            if let Err(shape) = e.kind.name_in_arn(arn) {
                c.error(
                    at.key("arn"),
                    format!("`{arn}` is not the ARN of a {}", kind_noun(e.kind)),
                    format!("write it as `{shape}`"),
                );
            }
        }
        ExternalSource::Name(name) => {
            let slash_ok = e.kind == ExternalKind::Secret;
            let bad = name
                .chars()
                .find(|ch| ch.is_whitespace() || ":*?$".contains(*ch) || (*ch == '/' && !slash_ok));
            if name.is_empty() || bad.is_some() {
                c.error(
                    at.key("name"),
                    format!("`{name}` is not the name of a {}", kind_noun(e.kind)),
                    "write the resource's name as its service shows it (no spaces, `:`, `*`, `?` or `$`), or give its `arn`",
                );
            }
        }
        ExternalSource::Export(export) => {
            if export.is_empty() || export.contains(char::is_whitespace) || export.contains("${") {
                c.error(
                    at.key("export"),
                    format!("`{export}` is not an export name"),
                    "write the `Export.Name` of the other stack's output, as `aws cloudformation list-exports` shows it",
                );
            }
        }
        ExternalSource::SsmParameter(path) => ssm_parameter(c, &at.key("ssm_parameter"), path),
    }
    if let Some(key) = &e.key_arn {
        key_arn(c, &at.key("key_arn"), key);
    }
}

/// "Parameter names can consist of a-zA-Z0-9_.-", `/` for hierarchies,
/// a hierarchical name starts with `/`, and no name may begin with `aws`
/// or `ssm` (AWS Systems Manager User Guide, "Parameter name requirements
/// and constraints").
fn ssm_parameter(c: &mut Checker, at: &Path, path: &str) {
    let first = path.trim_start_matches('/').to_ascii_lowercase();
    let problem = if path.is_empty() || path.len() > 1011 {
        Some("must be 1 to 1011 characters long".to_string())
    } else if let Some(ch) = path
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || "_.-/".contains(*ch)))
    {
        Some(format!(
            "contains `{ch}`; SSM allows letters, digits, `_`, `.`, `-` and `/`"
        ))
    } else if path.contains('/') && !path.starts_with('/') {
        Some("has a hierarchy but does not start with `/`".to_string())
    } else if first.starts_with("aws") || first.starts_with("ssm") {
        Some("begins with `aws` or `ssm`, which SSM reserves".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        c.error(
            at.clone(),
            format!("the SSM parameter name `{path}` {problem}"),
            "write the parameter's name as `aws ssm get-parameter --name` takes it, such as `/shared/orders-table-arn`",
        );
    }
}

fn key_arn(c: &mut Checker, at: &Path, key: &str) {
    let fields: Vec<&str> = key.splitn(6, ':').collect();
    let ok = matches!(fields[..], ["arn", partition, "kms", region, account, resource]
        if partition.starts_with("aws") && !region.is_empty() && account.len() == 12
            && resource.strip_prefix("key/").is_some_and(|id| !id.is_empty()));
    if !ok {
        c.error(
            at.clone(),
            format!("`{key}` is not a KMS key ARN"),
            "write `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`: IAM matches a key by its key ARN, never by an alias",
        );
    }
}

fn kind_noun(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Table => "DynamoDB table",
        ExternalKind::Bucket => "S3 bucket",
        ExternalKind::Queue => "SQS queue",
        ExternalKind::Topic => "SNS topic",
        ExternalKind::Secret => "Secrets Manager secret",
        ExternalKind::Function => "Lambda function",
        ExternalKind::Stream => "Kinesis stream",
        ExternalKind::EventBus => "EventBridge event bus",
    }
}

/// `a`, `` `a` or `b` ``, `` `a`, `b` or `c` ``.
fn or_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}
