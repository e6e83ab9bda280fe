//! The registry of resource kinds: one entry per kind of thing a stack file
//! declares by name (`tables.orders`), saying everything the rest of the
//! pipeline needs to know about the kind that is not about one entry.
//!
//! An entry names the stack-file section, the template that renders one
//! entry and the CloudFormation types it emits, the attributes `${…}`
//! references may ask for and the CloudFormation value each becomes, the
//! physical-name field with its default pattern and AWS's rule for it, and
//! whether the kind holds data. Validation (names, references), the
//! reference grammar, planning (logical ids, names, references) and the
//! built-in template set read it from here, so a kind is described once.
//! `CONTRIBUTING.md` says how to add one.

mod alarm;
mod api;
mod bucket;
mod distribution;
mod event_bus;
mod function;
mod other_names;
mod queue;
mod rule;
mod schedule;
mod schedule_group;
mod secret;
mod stream;
mod table;
mod topic;
mod web_acl;

pub use alarm::ALARM;
pub use api::{rest_stage_name, API};
pub use bucket::{BUCKET, BUCKET_NAME};
pub use distribution::DISTRIBUTION;
pub use event_bus::EVENT_BUS;
pub use function::FUNCTION;
pub use other_names::{
    FRONTEND_APP_NAME, GROUP_DEAD_LETTER_QUEUE_NAME, KEY_ALIAS, ORIGIN_ACCESS_CONTROL_NAME,
    USER_POOL_CLIENT_NAME, USER_POOL_NAME,
};
pub use queue::{QUEUE, QUEUE_DEAD_LETTER_NAME, QUEUE_NAME_RULE};
pub use rule::RULE;
pub use schedule::SCHEDULE;
pub use schedule_group::SCHEDULE_GROUP;
pub use secret::SECRET;
pub use stream::STREAM;
pub use table::TABLE;
pub use topic::TOPIC;
pub use web_acl::WEB_ACL;

use crate::model::StackDef;
use std::borrow::Cow;

/// Every kind on the registry: every section of named entries but the user
/// pool's clients, which belong to the pool. The singletons (`user_pool`,
/// `frontend`, `dashboard`, the stack key) are not declared by name and are
/// planned on their own.
pub const KINDS: [&Kind; 15] = [
    &TABLE,
    &BUCKET,
    &SECRET,
    &QUEUE,
    &STREAM,
    &FUNCTION,
    &TOPIC,
    &EVENT_BUS,
    &RULE,
    &SCHEDULE_GROUP,
    &API,
    &DISTRIBUTION,
    &WEB_ACL,
    &SCHEDULE,
    &ALARM,
];

/// One kind of named resource.
#[derive(Debug)]
pub struct Kind {
    /// The stack-file section (`tables`), also the first word of its references.
    pub section: &'static str,
    /// What one is called in messages (`table`).
    pub noun: &'static str,
    /// Appended to the PascalCase name for the main resource's logical id
    /// (`orders` → `OrdersTable`).
    pub logical_suffix: &'static str,
    /// The built-in template that renders one entry: its name (the file
    /// name without `.yaml`, which `--templates` overrides) and text.
    pub template: (&'static str, &'static str),
    /// More templates for parts of an entry that planning renders on their
    /// own (an API's routes), or for another shape of the entry (a REST API).
    pub part_templates: &'static [(&'static str, &'static str)],
    /// CloudFormation types the template emits, the main resource's first.
    pub emits: &'static [&'static str],
    /// Whether the main resource holds data that replacing or removing it
    /// would lose (`resource_schema::STATEFUL_TYPES` must agree).
    pub stateful: bool,
    /// What `${section.NAME.attribute}` may ask for, and what each becomes.
    pub attributes: &'static [(&'static str, Attribute)],
    /// The physical name: the field that sets it, its default and AWS's
    /// rule; `None` for a kind AWS does not name (a distribution).
    pub physical_name: Option<PhysicalName>,
    /// The names of this kind's entries in a definition.
    pub names: fn(&StackDef) -> Vec<&String>,
}

/// The CloudFormation value a reference attribute becomes.
#[derive(Debug, Clone, Copy)]
pub enum Attribute {
    /// `Ref` of the main resource.
    Ref,
    /// `Fn::GetAtt` of the main resource.
    GetAtt(&'static str),
    /// `Fn::GetAtt` of another resource of the entry, whose logical id is
    /// the main one's with this suffix (a group's `…Role`).
    GetAttOf(&'static str, &'static str),
    /// `Ref` of another resource of the entry, named by that suffix (a
    /// group's `…DeadLetterQueue`, whose `Ref` is its URL).
    RefOf(&'static str),
    /// The physical name, built from its pattern. Naming the resource by its
    /// pattern rather than by `Ref` keeps references from forming cycles.
    Name,
    /// `Fn::Sub` text in which `{id}` stands for the main resource's logical
    /// id and `{name}` for the physical name.
    Sub(&'static str),
    /// `Fn::Sub` text that depends on the entry's settings (an API's URL
    /// depends on its type and stage), from the definition, the environment
    /// and the entry's name.
    FromEntry(fn(&StackDef, &str, &str) -> String),
}

/// A physical name: the field that sets it, its default pattern and AWS's rule.
#[derive(Debug)]
pub struct PhysicalName {
    /// The field of an entry that sets it (`table_name`); `None` when the
    /// stack file cannot set it and the default always applies.
    pub field: Option<&'static str>,
    /// The pattern used when the field is not set.
    pub default: &'static str,
    /// The pattern an entry sets, if it sets one (`None` also when the entry
    /// does not exist: planning never needs to panic on a name).
    pub given: for<'d> fn(&'d StackDef, &str) -> Option<&'d str>,
    pub rule: NameRule,
}

impl PhysicalName {
    /// The pattern that names entry `name`: the one it sets, else the default.
    pub fn pattern<'d>(&self, def: &'d StackDef, name: &str) -> &'d str {
        (self.given)(def, name).unwrap_or(self.default)
    }

    /// The pattern that names entry `name` in environment `env`: the one it
    /// sets, as set; else the default, shortened with a stable hash where it
    /// could exceed the rule's length ([`crate::naming::fit_default`]).
    /// Validation and planning both name things through this.
    pub fn fitted<'d>(&self, def: &'d StackDef, env: &str, name: &str) -> Cow<'d, str> {
        let pattern = self.pattern(def, name);
        if !self.is_default(pattern) {
            return Cow::Borrowed(pattern);
        }
        let ctx = crate::naming::NameContext {
            app: &def.name,
            env,
            name,
        };
        crate::naming::fit_default(pattern, &ctx, self.rule.max)
    }

    /// Whether `pattern` is this name's default rather than the author's:
    /// the default itself, or its FIFO form (SQS requires a FIFO queue's
    /// name to end with `.fifo`, so a FIFO queue's default appends it).
    pub fn is_default(&self, pattern: &str) -> bool {
        pattern == self.default || pattern.strip_suffix(".fifo") == Some(self.default)
    }

    /// The default `pattern` is measured against: itself when it is a
    /// default ([`Self::is_default`]), else the plain default.
    pub fn default_for<'p>(&self, pattern: &'p str) -> &'p str {
        if self.is_default(pattern) {
            pattern
        } else {
            self.default
        }
    }
}

/// What AWS accepts as one kind of physical name.
#[derive(Debug)]
pub struct NameRule {
    /// What the name is called in messages (`table name`).
    pub what: &'static str,
    pub min: usize,
    pub max: usize,
    pub allowed: fn(char) -> bool,
    pub allowed_text: &'static str,
    /// Two resources of this kind in one account and region may not share the name.
    pub unique: bool,
}

impl Kind {
    /// The logical id of entry `name`'s main resource.
    pub fn logical_id(&self, name: &str) -> String {
        crate::naming::logical_id(name, self.logical_suffix)
    }

    /// The main template and the part templates, by name and text.
    pub fn templates(&self) -> impl Iterator<Item = (&'static str, &'static str)> + Clone {
        std::iter::once(self.template).chain(self.part_templates.iter().copied())
    }

    /// The attribute `${section.NAME.attribute}` asks for, if the kind has it.
    pub fn attribute(&self, name: &str) -> Option<Attribute> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
    }

    /// The names references may use, in the order the registry lists them.
    pub fn attribute_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attributes.iter().map(|(n, _)| *n)
    }
}

/// Kinds are one of a kind: they compare by their section.
impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.section == other.section
    }
}

impl Eq for Kind {}

impl std::hash::Hash for Kind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.section.hash(state);
    }
}

/// The kind whose stack-file section is `section`.
pub fn by_section(section: &str) -> Option<&'static Kind> {
    KINDS.into_iter().find(|k| k.section == section)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource_schema::{self, STATEFUL_TYPES};

    #[test]
    fn a_kind_is_stateful_exactly_when_its_main_type_holds_data() {
        for kind in KINDS {
            let main = kind.emits[0];
            assert_eq!(
                kind.stateful,
                STATEFUL_TYPES.contains(&main),
                "`{}`: stateful says {}, STATEFUL_TYPES says otherwise for {main}",
                kind.section,
                kind.stateful
            );
        }
    }

    /// The `Type: AWS::…` lines of a kind's template and of the partials it includes.
    fn types_in_template(text: &str) -> Vec<String> {
        let partials = text.split("{{> ").skip(1).filter_map(|rest| {
            let name = rest.split_whitespace().next()?;
            crate::render::builtin_templates().find(|(n, _)| *n == name)
        });
        std::iter::once(text)
            .chain(partials.map(|(_, partial)| partial))
            .flat_map(str::lines)
            .filter_map(|line| line.trim().strip_prefix("Type: "))
            .map(|t| t.trim_matches('"').to_string())
            // `Type:` is also a property of some resources (`Type: MOCK`).
            .filter(|t| t.starts_with("AWS::"))
            .collect()
    }

    #[test]
    fn each_kind_declares_exactly_the_types_its_template_emits_and_each_has_a_schema() {
        for kind in KINDS {
            let mut declared: Vec<String> = kind.emits.iter().map(|t| t.to_string()).collect();
            let mut emitted: Vec<String> = kind
                .templates()
                .flat_map(|(_, text)| types_in_template(text))
                .collect();
            declared.sort();
            emitted.sort();
            emitted.dedup();
            assert_eq!(declared, emitted, "`{}`", kind.section);
            for t in kind.emits {
                assert!(
                    resource_schema::schema(t).is_some(),
                    "{t} has no pinned schema"
                );
            }
        }
    }

    #[test]
    fn a_kind_whose_attributes_use_the_physical_name_has_one() {
        for kind in KINDS {
            for (attribute, value) in kind.attributes {
                let uses_name = match value {
                    Attribute::Name => true,
                    Attribute::Sub(text) => text.contains("{name}"),
                    _ => false,
                };
                assert!(
                    !uses_name || kind.physical_name.is_some(),
                    "`{}.{attribute}` uses a physical name the kind does not have",
                    kind.section
                );
            }
        }
    }

    #[test]
    fn sections_and_templates_are_unique_and_defaults_follow_the_rule() {
        for (i, kind) in KINDS.iter().enumerate() {
            for other in &KINDS[..i] {
                assert_ne!(kind.section, other.section);
                for (name, _) in kind.templates() {
                    assert!(other.templates().all(|(n, _)| n != name));
                }
            }
            assert!(
                !kind.attributes.is_empty(),
                "`{}` has no attributes",
                kind.section
            );
            if let Some(physical) = &kind.physical_name {
                let unknown = crate::naming::unknown_placeholders(physical.default);
                assert!(unknown.is_empty(), "`{}`: {unknown:?}", kind.section);
            }
        }
    }
}
