//! References inside stack-file strings: `${tables.users.name}` and friends.
//!
//! Environment variables, CORS origins and frontend settings may refer to the
//! stack's own resources. This module only parses the text; validation checks
//! that the named thing exists, and planning turns a reference into
//! CloudFormation (`Fn::Sub`). `$${` writes a literal `${`. The sections
//! and attributes of registry kinds come from their entries
//! ([`crate::kinds`]).

use crate::kinds::{self, Kind};
use std::fmt;

/// A parsed string: literal text and references, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(Reference),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub section: Section,
    /// The resource's name in the stack file; empty for singletons such as `user_pool`.
    pub name: String,
    pub attr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// A kind on the registry, which says its word and attributes.
    Kind(&'static Kind),
    UserPool,
    UserPoolClients,
    Frontend,
    Stack,
    Aws,
    Encryption,
    /// A resource of `external:`.
    External,
}

impl Section {
    /// The first word of a reference, as written.
    pub fn word(self) -> &'static str {
        match self {
            Section::Kind(kind) => kind.section,
            Section::UserPool | Section::UserPoolClients => "user_pool",
            Section::Frontend => "frontend",
            Section::Stack => "stack",
            Section::Aws => "aws",
            Section::Encryption => "encryption",
            Section::External => "external",
        }
    }

    /// Attributes a reference into this section may ask for.
    pub fn attributes(self) -> Vec<&'static str> {
        let listed: &[&str] = match self {
            Section::Kind(kind) => return kind.attribute_names().collect(),
            Section::UserPool => &["id", "arn", "issuer", "provider_name"],
            Section::UserPoolClients => &["id"],
            Section::Frontend => &["url", "app_id", "default_domain"],
            Section::Stack => &["name", "env", "app"],
            Section::Aws => &["region", "account_id", "partition", "url_suffix"],
            Section::Encryption => &["key_arn", "key_id"],
            Section::External => &["arn", "name"],
        };
        listed.to_vec()
    }

    fn named(self) -> bool {
        !matches!(
            self,
            Section::UserPool
                | Section::Frontend
                | Section::Stack
                | Section::Aws
                | Section::Encryption
        )
    }

    /// Every first word a reference may have: registry kinds' sections, then the others.
    fn words() -> impl Iterator<Item = &'static str> + Clone {
        kinds::KINDS
            .into_iter()
            .map(|kind| kind.section)
            .chain(Self::OTHER_WORDS)
    }

    const OTHER_WORDS: [&'static str; 6] = [
        "user_pool",
        "frontend",
        "stack",
        "aws",
        "encryption",
        "external",
    ];

    fn from_word(word: &str) -> Option<Section> {
        if let Some(kind) = kinds::by_section(word) {
            return Some(Section::Kind(kind));
        }
        Some(match word {
            "user_pool" => Section::UserPool,
            "frontend" => Section::Frontend,
            "stack" => Section::Stack,
            "aws" => Section::Aws,
            "encryption" => Section::Encryption,
            "external" => Section::External,
            _ => return None,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.section {
            Section::UserPoolClients => {
                write!(f, "${{user_pool.clients.{}.{}}}", self.name, self.attr)
            }
            s if s.named() => write!(f, "${{{}.{}.{}}}", s.word(), self.name, self.attr),
            s => write!(f, "${{{}.{}}}", s.word(), self.attr),
        }
    }
}

/// Why a string's references could not be read, with a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceError {
    pub message: String,
    pub hint: String,
}

/// Splits a string into literal text and references.
pub fn parse(text: &str) -> Result<Vec<Piece>, ReferenceError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        literal.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            literal.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                return Err(ReferenceError {
                    message: format!("`{after}` opens a reference that is never closed"),
                    hint: "close it with `}`, or write `$${` for a literal `${`".into(),
                });
            };
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Ref(parse_one(&tail[..end])?));
            rest = &tail[end + 1..];
        } else {
            literal.push('$');
            rest = &after[1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

fn parse_one(inner: &str) -> Result<Reference, ReferenceError> {
    let parts: Vec<&str> = inner.split('.').collect();
    let bad = |message: String, hint: String| Err(ReferenceError { message, hint });
    let Some(section) = Section::from_word(parts[0]) else {
        let hint = crate::diagnostic::suggestion(parts[0], Section::words()).unwrap_or_default();
        return bad(
            format!("`${{{inner}}}` does not name a part of the stack"),
            format!("{hint} (references look like `${{tables.NAME.name}}`)"),
        );
    };
    let (section, name, attr) = match (section, parts.as_slice()) {
        (Section::UserPool, [_, "clients", client, attr]) => {
            (Section::UserPoolClients, client.to_string(), *attr)
        }
        (s, [_, name, attr]) if s.named() => (s, name.to_string(), *attr),
        (s, [_, attr]) if !s.named() => (s, String::new(), *attr),
        (s, _) => {
            let attributes = s.attributes();
            let first = attributes.first().copied().unwrap_or("ATTRIBUTE");
            let shape = if s.named() {
                format!("${{{}.NAME.{first}}}", s.word())
            } else {
                format!("${{{}.{first}}}", s.word())
            };
            return bad(
                format!("`${{{inner}}}` is not a reference stackctl understands"),
                format!("write it as `{shape}`"),
            );
        }
    };
    if !section.attributes().contains(&attr) {
        let hint = crate::diagnostic::suggestion(attr, section.attributes().iter().copied())
            .unwrap_or_default();
        return bad(
            format!(
                "`{attr}` is not something `{}` references can give",
                section.word()
            ),
            hint,
        );
    }
    Ok(Reference {
        section,
        name,
        attr: attr.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_references() {
        let pieces = parse("https://${frontend.default_domain}/x?$${literal}").unwrap();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[0], Piece::Text("https://".into()));
        assert_eq!(pieces[2], Piece::Text("/x?${literal}".into()));
    }

    #[test]
    fn client_references() {
        let pieces = parse("${user_pool.clients.web.id}").unwrap();
        assert_eq!(
            pieces,
            vec![Piece::Ref(Reference {
                section: Section::UserPoolClients,
                name: "web".into(),
                attr: "id".into()
            })]
        );
        assert_eq!(
            pieces[0].to_string_for_test(),
            "${user_pool.clients.web.id}"
        );
    }

    #[test]
    fn errors_say_what_to_write() {
        let e = parse("${table.users.name}").unwrap_err();
        assert!(e.hint.contains("did you mean `tables`"), "{e:?}");
        let e = parse("${tables.users.nmae}").unwrap_err();
        assert!(e.hint.contains("`name`"), "{e:?}");
        assert!(parse("${tables.users").is_err());
        assert!(parse("a $ b").is_ok());
    }

    impl Piece {
        fn to_string_for_test(&self) -> String {
            match self {
                Piece::Text(t) => t.clone(),
                Piece::Ref(r) => r.to_string(),
            }
        }
    }
}
