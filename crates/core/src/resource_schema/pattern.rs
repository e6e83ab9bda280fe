//! The schemas' `pattern`s (ECMA-262 regular expressions), matched cheaply.
//!
//! Building a regex automaton for a pattern with large Unicode classes
//! (`\p{L}`, a Unicode `\w`) costs hundreds of microseconds, and one
//! `validate` meets dozens of such patterns once each. Most schema patterns
//! are plain regular expressions (classes, literals, repetitions, anchors),
//! which this module matches straight from the parsed expression by
//! tracking the set of text positions each part can reach: parsing costs
//! tens of microseconds and matching stays linear in the text per part, so
//! no input can make it backtrack exponentially. Patterns that need more
//! (look-around such as `(?!aws:)`, word boundaries) go to `fancy-regex`.
//!
//! JSON Schema patterns search: `pattern: "\\S"` accepts any text holding a
//! non-space character unless the pattern anchors itself.

use fancy_regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// A schema pattern, compiled on first use.
#[derive(Debug)]
pub struct Pattern {
    source: Cow<'static, str>,
    compiled: OnceLock<Result<Matcher, String>>,
}

#[derive(Debug)]
enum Matcher {
    /// Matches every text: it can match the empty string and anchors nothing.
    Always,
    /// `^[class]{min,max}$` and its `*`/`+` forms, the schemas' most common shape.
    ClassRun {
        class: Class,
        min: u32,
        max: Option<u32>,
    },
    /// A plain regular expression, matched by position sets.
    Plain(Hir),
    /// Look-around and the like.
    Fancy(Regex),
}

impl Pattern {
    pub fn new(source: &str) -> Pattern {
        Pattern {
            source: Cow::Owned(source.to_string()),
            compiled: OnceLock::new(),
        }
    }

    /// For the schemas `build.rs` writes as statics.
    pub const fn from_static(source: &'static str) -> Pattern {
        Pattern {
            source: Cow::Borrowed(source),
            compiled: OnceLock::new(),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `text` holds a match; `Err` when the pattern is not a regular
    /// expression this dialect knows (a defect in the embedded schemas).
    pub fn is_match(&self, text: &str) -> Result<bool, String> {
        match self.compiled.get_or_init(|| compile(&self.source)) {
            Ok(Matcher::Always) => Ok(true),
            Ok(Matcher::ClassRun { class, min, max }) => Ok(class_run(class, *min, *max, text)),
            Ok(Matcher::Plain(hir)) => Ok(search(hir, text)),
            Ok(Matcher::Fancy(regex)) => regex.is_match(text).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Matches `pattern` against `text`, compiling each distinct pattern once
/// per process (for callers without a schema at hand, such as tag checks).
pub fn matches_pattern(pattern: &str, text: &str) -> Result<bool, String> {
    static COMPILED: OnceLock<RwLock<HashMap<String, Arc<Pattern>>>> = OnceLock::new();
    let cache = COMPILED.get_or_init(Default::default);
    let known = cache
        .read()
        .expect("pattern cache lock")
        .get(pattern)
        .cloned();
    let compiled = match known {
        Some(compiled) => compiled,
        None => cache
            .write()
            .expect("pattern cache lock")
            .entry(pattern.to_string())
            .or_insert_with(|| Arc::new(Pattern::new(pattern)))
            .clone(),
    };
    compiled.is_match(text)
}

fn compile(source: &str) -> Result<Matcher, String> {
    let translated = translate(source);
    if let Ok(hir) = regex_syntax::Parser::new().parse(&translated) {
        if plain(&hir) {
            return Ok(shape(hir));
        }
    }
    Regex::new(&translated)
        .map(Matcher::Fancy)
        .map_err(|e| e.to_string())
}

/// The cheapest matcher for a plain expression.
fn shape(hir: Hir) -> Matcher {
    let props = hir.properties();
    if props.minimum_len() == Some(0) && props.look_set().is_empty() {
        return Matcher::Always;
    }
    if let HirKind::Concat(parts) = hir.kind() {
        if let [start, middle, end] = parts.as_slice() {
            let anchored = matches!(start.kind(), HirKind::Look(Look::Start))
                && matches!(end.kind(), HirKind::Look(Look::End));
            let middle = match middle.kind() {
                HirKind::Capture(capture) => &capture.sub,
                _ => middle,
            };
            if let (true, HirKind::Repetition(r)) = (anchored, middle.kind()) {
                if let HirKind::Class(class) = r.sub.kind() {
                    return Matcher::ClassRun {
                        class: class.clone(),
                        min: r.min,
                        max: r.max,
                    };
                }
            }
        }
    }
    Matcher::Plain(hir)
}

/// Whether all of `text` is characters of `class`, between `min` and `max` of them.
fn class_run(class: &Class, min: u32, max: Option<u32>, text: &str) -> bool {
    let mut count: u32 = 0;
    let mut p = 0;
    while p < text.len() {
        match class_step(class, text, p) {
            Some(next) => p = next,
            None => return false,
        }
        count = count.saturating_add(1);
    }
    count >= min && max.is_none_or(|max| count <= max)
}

/// Whether the position-set matcher covers every part of `hir`: the only
/// assertions it knows are start and end of text.
fn plain(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(look) => matches!(look, Look::Start | Look::End),
        HirKind::Repetition(r) => plain(&r.sub),
        HirKind::Capture(c) => plain(&c.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => parts.iter().all(plain),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => true,
    }
}

/// The few places the schemas' regex dialect differs from Rust's: `\Z`
/// (end of text) and `\uXXXX` escapes.
pub(super) fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => out.push_str("\\z"),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push_str(&format!("\\x{{{hex}}}"));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A set of byte offsets into the text, `0..=len`. Schema values are
/// mostly short, so sets for up to 255 bytes live inline, without a heap
/// allocation per step.
#[derive(Clone)]
struct Positions {
    inline: [u64; INLINE_WORDS],
    heap: Vec<u64>,
    words: usize,
}

const INLINE_WORDS: usize = 4;

impl Positions {
    fn empty(len: usize) -> Positions {
        let words = len / 64 + 1;
        Positions {
            inline: [0; INLINE_WORDS],
            heap: if words > INLINE_WORDS {
                vec![0; words]
            } else {
                Vec::new()
            },
            words,
        }
    }

    fn words(&self) -> &[u64] {
        if self.words > INLINE_WORDS {
            &self.heap
        } else {
            &self.inline[..self.words]
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        if self.words > INLINE_WORDS {
            &mut self.heap
        } else {
            &mut self.inline[..self.words]
        }
    }

    fn insert(&mut self, p: usize) {
        self.words_mut()[p / 64] |= 1 << (p % 64);
    }

    fn is_empty(&self) -> bool {
        self.words().iter().all(|w| *w == 0)
    }

    fn union_with(&mut self, other: &Positions) {
        let other = other.words();
        self.words_mut()
            .iter_mut()
            .zip(other)
            .for_each(|(a, b)| *a |= b);
    }

    fn without(mut self, other: &Positions) -> Positions {
        let other = other.words();
        self.words_mut()
            .iter_mut()
            .zip(other)
            .for_each(|(a, b)| *a &= !b);
        self
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words().iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                let bit = (rest != 0).then(|| rest.trailing_zeros() as usize)?;
                rest &= rest - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

/// Whether `hir` matches anywhere in `text`.
fn search(hir: &Hir, text: &str) -> bool {
    let hir = essential(hir);
    if let HirKind::Class(class) = hir.kind() {
        // One character anywhere: scan, and stop at the first.
        return text
            .char_indices()
            .any(|(p, _)| class_step(class, text, p).is_some());
    }
    let mut starts = Positions::empty(text.len());
    if hir.properties().look_set_prefix().contains(Look::Start) {
        starts.insert(0);
    } else {
        (0..=text.len())
            .filter(|p| text.is_char_boundary(*p))
            .for_each(|p| starts.insert(p));
    }
    !advance(hir, text, &starts).is_empty()
}

/// What decides whether an unanchored search matches: leading and trailing
/// parts that can match the empty string change nothing (`.*\S.*` matches
/// exactly where `\S` does), and they cost a pass over the text each.
fn essential(hir: &Hir) -> &Hir {
    let HirKind::Concat(parts) = hir.kind() else {
        return hir;
    };
    // An anchor also matches the empty string, but it is anything but optional.
    let optional = |part: &Hir| {
        part.properties().minimum_len() == Some(0) && part.properties().look_set().is_empty()
    };
    let start = parts.iter().position(|p| !optional(p));
    let end = parts.iter().rposition(|p| !optional(p));
    match (start, end) {
        (Some(start), Some(end)) if start == end => &parts[start],
        _ => hir,
    }
}

/// Every position where a match of `hir` that starts at one of `from` can end.
fn advance(hir: &Hir, text: &str, from: &Positions) -> Positions {
    let mut to = Positions::empty(text.len());
    match hir.kind() {
        HirKind::Empty => return from.clone(),
        HirKind::Literal(literal) => {
            for p in from.iter() {
                if text.as_bytes()[p..].starts_with(&literal.0) {
                    to.insert(p + literal.0.len());
                }
            }
        }
        HirKind::Class(class) => {
            for p in from.iter() {
                if let Some(next) = class_step(class, text, p) {
                    to.insert(next);
                }
            }
        }
        HirKind::Look(look) => {
            let keep = |p: usize| match look {
                Look::Start => p == 0,
                Look::End => p == text.len(),
                // `plain` admits no other assertion.
                _ => false,
            };
            from.iter().filter(|p| keep(*p)).for_each(|p| to.insert(p));
        }
        HirKind::Capture(capture) => return advance(&capture.sub, text, from),
        HirKind::Concat(parts) => {
            return parts
                .iter()
                .fold(from.clone(), |at, part| advance(part, text, &at))
        }
        HirKind::Alternation(choices) => {
            choices
                .iter()
                .for_each(|choice| to.union_with(&advance(choice, text, from)));
        }
        HirKind::Repetition(repetition) => {
            let mut reached = from.clone();
            for _ in 0..repetition.min {
                reached = advance(&repetition.sub, text, &reached);
            }
            // Further rounds until the maximum, or until nothing new is reached.
            let mut frontier = reached.clone();
            let extra = repetition.max.map(|max| max - repetition.min);
            let mut round = 0;
            while !frontier.is_empty() && extra.is_none_or(|extra| round < extra) {
                frontier = advance(&repetition.sub, text, &frontier).without(&reached);
                reached.union_with(&frontier);
                round += 1;
            }
            return reached;
        }
    }
    to
}

/// The position after the character at `p`, when `class` holds it.
fn class_step(class: &Class, text: &str, p: usize) -> Option<usize> {
    match class {
        Class::Unicode(class) => {
            let c = text[p..].chars().next()?;
            let ranges = class.ranges();
            let i = ranges.partition_point(|r| r.end() < c);
            (i < ranges.len() && ranges[i].start() <= c).then(|| p + c.len_utf8())
        }
        Class::Bytes(class) => {
            let b = *text.as_bytes().get(p)?;
            let ranges = class.ranges();
            let i = ranges.partition_point(|r| r.end() < b);
            // Byte classes in a UTF-8 pattern hold ASCII only, so `p + 1` stays on a boundary.
            (i < ranges.len() && ranges[i].start() <= b).then_some(p + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(pattern: &str, text: &str) -> bool {
        let ours = Pattern::new(pattern).is_match(text).expect("compiles");
        let theirs = Regex::new(&translate(pattern))
            .expect("compiles")
            .is_match(text)
            .expect("matches");
        assert_eq!(ours, theirs, "{pattern} on {text:?}");
        ours
    }

    #[test]
    fn plain_patterns_agree_with_a_regex_engine() {
        let patterns = [
            r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$",
            r"^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$",
            r".*\S.*",
            r"\S",
            r"(?s).+",
            r"^(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()$",
            r"^[0-9A-Za-z_:-]{1,1024}$",
            r"^[\/]+([^~]*(~[01])*){1,512}$",
            r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$",
            r"^[\u0009\u000A\u000D\u0020-\u00FF]+\Z",
            r"d[a-z0-9]+",
            r"(?i)^abc$",
        ];
        let texts = [
            "",
            " ",
            "team",
            "Équipe 1",
            "arn:aws:iam::123456789012:role/app-role",
            "arn:aws:lambda:us-east-1:123456789012:function:f:live",
            "x\ny",
            "/a/b~1c",
            "/a~2",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "ABC",
            "d1",
            "tab\there",
            "snow ☃",
            &"a".repeat(1025),
        ];
        for pattern in patterns {
            assert!(
                !matches!(compile(pattern), Ok(Matcher::Fancy(_)) | Err(_)),
                "{pattern} is plain"
            );
            for text in texts {
                both(pattern, text);
            }
        }
    }

    #[test]
    fn common_shapes_get_their_own_matchers() {
        assert!(matches!(compile(r"(?s).*"), Ok(Matcher::Always)));
        assert!(matches!(compile(r"^.*$"), Ok(Matcher::ClassRun { .. })));
        assert!(matches!(
            compile(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"),
            Ok(Matcher::ClassRun {
                min: 0,
                max: None,
                ..
            })
        ));
        assert!(matches!(
            compile(r"^[0-9A-Za-z_-]{1,128}$"),
            Ok(Matcher::ClassRun {
                min: 1,
                max: Some(128),
                ..
            })
        ));
        assert!(matches!(compile(r".*\S.*"), Ok(Matcher::Plain(_))));
        for text in ["", "a", " a", "a\nb", " \n ", &"x".repeat(129)] {
            both(r"^.*$", text);
            both(r"^[0-9A-Za-z_-]{1,128}$", text);
            both(r".*\S.*", text);
            both(r"^\S", text);
            both(r"\S.*$", text);
        }
    }

    #[test]
    fn look_around_goes_to_the_fancy_engine() {
        let pattern = r"^(?!aws:)[a-zA-Z+-=._:/]+$";
        assert!(matches!(compile(pattern), Ok(Matcher::Fancy(_))));
        assert!(both(pattern, "team"));
        assert!(!both(pattern, "aws:x"));
    }

    #[test]
    fn nested_repetition_stays_fast_on_long_text() {
        // A backtracking engine takes exponential time here; position sets do not.
        let pattern = Pattern::new(r"^(a*)*b$");
        assert!(!pattern.is_match(&"a".repeat(5000)).expect("compiles"));
        assert!(pattern
            .is_match(&format!("{}b", "a".repeat(5000)))
            .expect("compiles"));
    }

    #[test]
    fn a_broken_pattern_is_an_error_not_a_mismatch() {
        assert!(Pattern::new("[unclosed").is_match("x").is_err());
    }
}
