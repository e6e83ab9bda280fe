//! Names: logical ids derived from the stack file, and physical-name patterns.
//!
//! A logical id is the author's name in PascalCase plus the kind
//! (`bid-executor` → `BidExecutorFunction`), so ids are stable and only a
//! rename changes one. Physical names are patterns with placeholders; the
//! template fills `{stack}`, `{account}`, `{region}` through `Fn::Sub`, and
//! validation measures them with the longest values those can take.

/// `bid-executor` → `BidExecutor`.
pub fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            let first = chars.next().expect("non-empty part").to_ascii_uppercase();
            std::iter::once(first).chain(chars).collect::<String>()
        })
        .collect()
}

/// The logical id of a named thing of a kind: `pascal(name) + kind`.
pub fn logical_id(name: &str, kind: &str) -> String {
    format!("{}{kind}", pascal(name))
}

/// Placeholders a physical-name pattern may use.
pub const PLACEHOLDERS: [&str; 6] = ["stack", "app", "env", "name", "account", "region"];

/// The longest region name (ap-southeast-2 and its like).
const LONGEST_REGION: &str = "ap-southeast-2";
const ANY_ACCOUNT: &str = "123456789012";

/// What a pattern's placeholders stand for in one stack and environment.
#[derive(Debug, Clone)]
pub struct NameContext<'a> {
    pub app: &'a str,
    pub env: &'a str,
    /// The thing's own name in the stack file (for `{name}`).
    pub name: &'a str,
}

impl NameContext<'_> {
    pub fn stack_name(&self) -> String {
        format!("{}-{}", self.app, self.env)
    }
}

/// Placeholders in `pattern` that are not known, in order of appearance.
pub fn unknown_placeholders(pattern: &str) -> Vec<String> {
    placeholders(pattern)
        .filter(|p| !PLACEHOLDERS.contains(&p.as_str()))
        .collect()
}

fn placeholders(pattern: &str) -> impl Iterator<Item = String> + '_ {
    pattern
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(p, _)| p.to_string()))
}

/// The pattern as it will be in the longest case, for length and character checks.
pub fn expand_for_checks(pattern: &str, ctx: &NameContext) -> String {
    pattern
        .replace("{stack}", &ctx.stack_name())
        .replace("{app}", ctx.app)
        .replace("{env}", ctx.env)
        .replace("{name}", ctx.name)
        .replace("{account}", ANY_ACCOUNT)
        .replace("{region}", LONGEST_REGION)
}

/// The pattern as an `Fn::Sub` string: `{stack}` stays tied to the stack's
/// real name, `{account}` and `{region}` to where it is deployed.
pub fn to_sub(pattern: &str, ctx: &NameContext) -> String {
    pattern
        .replace("${", "${!")
        .replace("{stack}", "${AWS::StackName}")
        .replace("{app}", ctx.app)
        .replace("{env}", ctx.env)
        .replace("{name}", ctx.name)
        .replace("{account}", "${AWS::AccountId}")
        .replace("{region}", "${AWS::Region}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_pascal_case_with_kind() {
        assert_eq!(
            logical_id("bid-executor", "Function"),
            "BidExecutorFunction"
        );
        assert_eq!(logical_id("audit_logs", "Table"), "AuditLogsTable");
        assert_eq!(logical_id("EmailIndex", "Index"), "EmailIndexIndex");
    }

    #[test]
    fn patterns_expand_for_checks_and_for_templates() {
        let ctx = NameContext {
            app: "ebay-sniper",
            env: "prod",
            name: "bids",
        };
        assert_eq!(
            expand_for_checks("{stack}-Bids", &ctx),
            "ebay-sniper-prod-Bids"
        );
        assert_eq!(
            to_sub("{stack}-{name}-{account}", &ctx),
            "${AWS::StackName}-bids-${AWS::AccountId}"
        );
        assert_eq!(unknown_placeholders("{stack}-{nmae}"), vec!["nmae"]);
    }
}
