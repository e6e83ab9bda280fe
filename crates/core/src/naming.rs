//! Names: logical ids derived from the stack file, and physical-name patterns.
//!
//! A logical id is the author's name in PascalCase plus the kind
//! (`bid-executor` → `BidExecutorFunction`), so ids are stable and only a
//! rename changes one. Physical names are patterns with placeholders; the
//! template fills `{stack}`, `{account}`, `{region}` through `Fn::Sub`, and
//! validation measures them with the longest values those can take. A
//! default that could exceed AWS's limit is shortened with a stable hash
//! ([`fit_default`]).

use std::borrow::Cow;

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

/// Placeholders whose values are known when the template is rendered; the
/// others (`{account}`, `{region}`) are filled by CloudFormation.
const KNOWN_WHEN_RENDERED: [&str; 4] = ["{stack}", "{app}", "{env}", "{name}"];

/// Characters a shortened default ends with: `-` and [`stable_hash`]'s 8.
const HASH_SUFFIX: usize = 9;

/// A default physical-name pattern fitted to `max` characters.
///
/// A default that fits at its longest (with the longest account and region)
/// is returned unchanged, so every name that validated before keeps its
/// value (renaming a bucket or a table replaces it). A longer one keeps
/// what surrounds its known part (`-dlq`, `-{account}-{region}`, `.fifo`)
/// and shortens the known part itself (`{stack}-{name}` filled in) to a
/// readable beginning, `-` and [`stable_hash`] of the whole known part:
/// deterministic, different for different entries, and within `max` in
/// every account and region. A pattern whose known part contains
/// `{account}` or `{region}` is returned unchanged (no default does).
pub fn fit_default<'p>(pattern: &'p str, ctx: &NameContext, max: usize) -> Cow<'p, str> {
    if expand_for_checks(pattern, ctx).chars().count() <= max {
        return Cow::Borrowed(pattern);
    }
    let start = KNOWN_WHEN_RENDERED
        .iter()
        .filter_map(|p| pattern.find(p))
        .min();
    let end = KNOWN_WHEN_RENDERED
        .iter()
        .filter_map(|p| pattern.rfind(p).map(|at| at + p.len()))
        .max();
    let (Some(start), Some(end)) = (start, end) else {
        return Cow::Borrowed(pattern);
    };
    let (before, known, after) = (&pattern[..start], &pattern[start..end], &pattern[end..]);
    if known.contains("{account}") || known.contains("{region}") {
        return Cow::Borrowed(pattern);
    }
    let known = expand_for_checks(known, ctx);
    let around = expand_for_checks(before, ctx).chars().count()
        + expand_for_checks(after, ctx).chars().count();
    let keep = max.saturating_sub(around + HASH_SUFFIX);
    let readable: String = known.chars().take(keep).collect();
    let readable = readable.trim_end_matches(|ch: char| !ch.is_ascii_alphanumeric());
    let hash = stable_hash(&known);
    let short = if readable.is_empty() {
        hash
    } else {
        format!("{readable}-{hash}")
    };
    Cow::Owned(format!("{before}{short}{after}"))
}

/// 8 hex digits of the 64-bit FNV-1a hash of `text` (its upper half):
/// the same on every platform and Rust version. Physical names depend on
/// it, so it must never change.
pub fn stable_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
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

    #[test]
    fn the_stable_hash_is_fnv_1a() {
        // FNV-1a 64's published vectors: "" → cbf29ce484222325, "a" → af63dc4c8601ec8c.
        assert_eq!(stable_hash(""), "cbf29ce4");
        assert_eq!(stable_hash("a"), "af63dc4c");
        assert_eq!(stable_hash("foobar"), "85944171");
    }

    #[test]
    fn a_default_that_fits_at_its_longest_is_unchanged() {
        let ctx = NameContext {
            app: "ebay-sniper",
            env: "staging",
            name: "bid-images",
        };
        for (pattern, max) in [
            ("{stack}-{name}-{account}-{region}", 63),
            ("{stack}-{name}", 64),
            ("{stack}-{name}-dlq", 80),
            ("{stack}-users", 128),
        ] {
            assert!(matches!(fit_default(pattern, &ctx, max), Cow::Borrowed(p) if p == pattern));
        }
    }

    #[test]
    fn a_default_that_could_be_too_long_is_shortened_with_a_stable_hash() {
        let ctx = NameContext {
            app: "a-rather-long-application-name",
            env: "staging",
            name: "customer-uploads",
        };
        // 30 + 1 + 7 + 1 + 16 = 55 known characters, + 28 for account and region.
        let bucket = fit_default("{stack}-{name}-{account}-{region}", &ctx, 63);
        // 26 characters fit before the hash; the `-` they end with is dropped.
        assert_eq!(
            bucket,
            "a-rather-long-application-321255f9-{account}-{region}"
        );
        assert_eq!(expand_for_checks(&bucket, &ctx).len(), 62);
        // The same entry in another environment gets another hash.
        let prod = NameContext {
            env: "prod",
            ..ctx.clone()
        };
        let other = fit_default("{stack}-{name}-{account}-{region}", &prod, 63);
        assert_ne!(other, bucket);
        // Text after the known part is kept (a queue's `-dlq`, a FIFO queue's `.fifo`).
        let dlq = fit_default(
            "{stack}-{name}-dlq",
            &NameContext {
                name: "x".repeat(64).as_str(),
                ..ctx.clone()
            },
            80,
        );
        assert!(dlq.ends_with("-dlq") && dlq.len() == 80, "{dlq}");
        let fifo = fit_default(
            "{stack}-{name}.fifo",
            &NameContext {
                name: "y".repeat(64).as_str(),
                ..ctx.clone()
            },
            80,
        );
        assert!(fifo.ends_with(".fifo") && fifo.len() == 80, "{fifo}");
        let function = fit_default("{stack}-{name}", &ctx, 36);
        assert_eq!(function, "a-rather-long-application-n-321255f9");
    }
}
