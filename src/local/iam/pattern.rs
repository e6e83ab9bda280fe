//! IAM's wildcards: `*` matches any run of characters (none included) and
//! `?` exactly one. Actions compare without regard to case, resource ARNs
//! and condition values with it (IAM JSON policy elements: Action,
//! Resource; the `StringLike`/`ArnLike` operators).

/// Whether `text` matches `pattern`, case-sensitively.
pub fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` absorb one more character and retry.
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether action `action` (`s3:GetObject`) matches policy action `pattern`
/// (`s3:Get*`, `S3:getobject`, `*`).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    matches(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_including_slashes_and_colons_and_none() {
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/images/x.jpg"));
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
        assert!(!matches("arn:aws:s3:::b/*", "arn:aws:s3:::b"));
        assert!(matches("*", ""));
        assert!(matches(
            "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:*",
            "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:log-stream:s"
        ));
        assert!(matches("a*b*c", "a-b-b-c"));
        assert!(!matches("a*b*c", "a-b-b-d"));
    }

    #[test]
    fn question_mark_is_exactly_one_character() {
        assert!(matches("secret:db-??????", "secret:db-AbCdEf"));
        assert!(!matches("secret:db-??????", "secret:db-AbCdE"));
        assert!(!matches("secret:db-??????", "secret:db-AbCdEfG"));
    }

    #[test]
    fn resources_are_case_sensitive_and_actions_are_not() {
        assert!(!matches("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/k"));
        assert!(action_matches("S3:getobject", "s3:GetObject"));
        assert!(action_matches("dynamodb:Get*", "dynamodb:GetItem"));
        assert!(!action_matches("dynamodb:Get*", "dynamodb:PutItem"));
        assert!(action_matches("dynamodb:?etItem", "dynamodb:GetItem"));
    }
}
