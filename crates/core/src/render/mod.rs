//! Handlebars templates to a CloudFormation template.
//!
//! Each fragment of the plan renders one template in strict mode; the text is
//! parsed back at once, so a broken template fails here naming the template,
//! never at deploy time.
//!
//! Values never pass through YAML: the `json` helper writes an opaque
//! placeholder scalar and keeps the value aside, the template's own text is
//! parsed, and placeholders are then replaced by the values. So a string from
//! a stack file cannot change the structure of the output, by construction
//! (and parsing stays cheap). A bare `{{x}}` is escaped as a JSON string.

mod emit;
mod templates;

pub use emit::to_yaml;
pub use templates::{builtin_templates, TemplateSet};

use crate::plan::Plan;
use crate::source::{parse_yaml, Node, NodeValue};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{template}` failed to render: {message}")]
    Template { template: String, message: String },
    #[error("template `{template}` did not produce valid YAML: {message}\n--- rendered text ---\n{text}")]
    Yaml {
        template: String,
        message: String,
        text: String,
    },
    #[error("template `{template}` must render a mapping of logical ids to resources")]
    NotAMapping { template: String },
    #[error("logical id `{id}` is produced twice (by `{first}` and `{second}`)")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
    #[error("there is no built-in template `{name}` to override")]
    UnknownOverride { name: String, hint: String },
    #[error("template `{name}` does not compile: {message}")]
    Compile { name: String, message: String },
}

/// For each logical id, the part of the stack definition it was rendered from.
pub type Origins = std::collections::BTreeMap<String, crate::source::Path>;

/// A compiled set of templates, ready to render plans.
pub struct Renderer {
    registry: Handlebars<'static>,
    /// Parsed structure by rendered text. Values are placeholders, so the
    /// text repeats whenever a template takes the same branches (every
    /// function of a stack, the same stack in each environment).
    parsed: std::sync::Mutex<std::collections::HashMap<String, Value>>,
}

impl Renderer {
    pub fn new(set: &TemplateSet) -> Result<Self, RenderError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(|text| json_scalar(&Value::String(text.to_string())));
        registry.register_helper("json", Box::new(json_helper));
        for (name, template) in compile_all(set)? {
            registry.register_template(&name, template);
        }
        Ok(Renderer {
            registry,
            parsed: Default::default(),
        })
    }

    /// Renders the whole template of a plan.
    pub fn render(&self, plan: &Plan) -> Result<Value, RenderError> {
        self.render_owned(plan.clone())
    }

    /// Renders a plan it may take apart (saves copying every view).
    pub fn render_owned(&self, plan: Plan) -> Result<Value, RenderError> {
        self.render_traced(plan).map(|(template, _)| template)
    }

    /// Renders a plan, and says for each logical id the part of the stack
    /// definition it came from.
    pub fn render_traced(&self, plan: Plan) -> Result<(Value, Origins), RenderError> {
        let mut origins = Origins::new();
        let mut resources = Map::new();
        let mut origin: std::collections::HashMap<String, &'static str> =
            std::collections::HashMap::new();
        for fragment in plan.fragments {
            let mut context = fragment.view;
            context["stack"] = plan.globals.clone();
            // An owned context: `render` would serialize the view into a new value.
            let context = Context::from(context);
            PLACED.with(|placed| placed.borrow_mut().clear());
            let text = self
                .registry
                .render_with_context(fragment.template, &context)
                .map_err(|e| RenderError::Template {
                    template: fragment.template.to_string(),
                    message: e.to_string(),
                })?;
            let mut values: Vec<Option<Value>> =
                PLACED.with(|placed| placed.borrow_mut().drain(..).map(Some).collect());
            let mut cache = self.parsed.lock().expect("cache lock");
            if !cache.contains_key(&text) {
                let node = parse_yaml(&text).map_err(|problems| RenderError::Yaml {
                    template: fragment.template.to_string(),
                    message: problems
                        .iter()
                        .map(|d| {
                            format!(
                                "{} at {}",
                                d.message,
                                d.loc().map(|l| l.to_string()).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    text: text.clone(),
                })?;
                cache.insert(text.clone(), node_to_json(&node));
            }
            let rendered = instantiate(&cache[&text], &mut values);
            drop(cache);
            let Value::Object(entries) = rendered else {
                return Err(RenderError::NotAMapping {
                    template: fragment.template.to_string(),
                });
            };
            for (id, resource) in entries {
                if let Some(first) = origin.insert(id.clone(), fragment.template) {
                    return Err(RenderError::DuplicateId {
                        id,
                        first: first.to_string(),
                        second: fragment.template.to_string(),
                    });
                }
                origins.insert(id.clone(), fragment.source.clone());
                resources.insert(id, resource);
            }
        }
        let outputs: Map<String, Value> = plan
            .outputs
            .iter()
            .map(|o| {
                (
                    o.id.clone(),
                    json!({"Description": o.description, "Value": o.value}),
                )
            })
            .collect();
        let mut template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": plan.description,
            "Metadata": {"stackctl": {"app": plan.globals["app"], "env": plan.globals["env"]}},
            "Resources": resources,
        });
        if !outputs.is_empty() {
            template["Outputs"] = Value::Object(outputs);
        }
        if !plan.parameters.is_empty() {
            template["Parameters"] = Value::Object(plan.parameters.iter().cloned().collect());
        }
        if !plan.imports.is_empty() {
            bind_imports(&mut template, &plan.imports);
        }
        Ok((template, origins))
    }
}

/// Gives every `Fn::Sub` that names an imported variable (`${ExternalOrdersArn}`)
/// its binding to `Fn::ImportValue`: a variable map is the one way to put
/// another intrinsic inside `Fn::Sub` text.
fn bind_imports(node: &mut Value, imports: &[(String, String)]) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get("Fn::Sub") {
                let bound: Map<String, Value> = imports
                    .iter()
                    .filter(|(variable, _)| text.contains(&format!("${{{variable}}}")))
                    .map(|(variable, export)| {
                        (variable.clone(), json!({ "Fn::ImportValue": export }))
                    })
                    .collect();
                if !bound.is_empty() {
                    let text = text.clone();
                    map.insert("Fn::Sub".into(), json!([text, bound]));
                }
                return;
            }
            map.values_mut().for_each(|v| bind_imports(v, imports));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| bind_imports(v, imports)),
        _ => {}
    }
}

/// Compiles every template, on two threads: handlebars' compile time grows
/// with the square of a template's length, and it is most of the fixed cost
/// of a run.
fn compile_all(set: &TemplateSet) -> Result<Vec<(String, handlebars::Template)>, RenderError> {
    let all: Vec<(&str, &str)> = set.iter().collect();
    let compile =
        |part: &[(&str, &str)]| -> Result<Vec<(String, handlebars::Template)>, RenderError> {
            part.iter()
                .map(|(name, text)| {
                    handlebars::Template::compile(text)
                        .map(|t| (name.to_string(), t))
                        .map_err(|e| RenderError::Compile {
                            name: name.to_string(),
                            message: e.to_string(),
                        })
                })
                .collect()
        };
    // Alternate templates between the halves so both get large ones.
    let (even, odd): (Vec<_>, Vec<_>) = all.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let even: Vec<(&str, &str)> = even.into_iter().map(|(_, t)| *t).collect();
    let odd: Vec<(&str, &str)> = odd.into_iter().map(|(_, t)| *t).collect();
    std::thread::scope(|scope| {
        let other = scope.spawn(|| compile(&odd));
        let mut compiled = compile(&even)?;
        compiled.extend(other.join().expect("template compiler thread panicked")?);
        Ok(compiled)
    })
}

/// Writes a value as JSON that is also a valid YAML flow scalar or
/// collection. Control and line-separator characters are escaped, so the
/// value always stays on one line and inside its quotes.
pub fn json_scalar(value: &Value) -> String {
    let mut out = String::new();
    write_json_scalar(&mut out, value);
    out
}

/// Appends `value` as [`json_scalar`] does, without allocating for scalars.
pub fn write_json_scalar(out: &mut String, value: &Value) {
    use std::fmt::Write as _;
    match value {
        Value::String(s) => {
            out.push('"');
            for ch in s.chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control()
                        || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}') =>
                    {
                        let _ = write!(out, "\\u{:04x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_scalar(out, v);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json_scalar(out, &Value::String(k.clone()));
                out.push_str(": ");
                write_json_scalar(out, v);
            }
            out.push('}');
        }
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
    }
}

thread_local! {
    /// Values the `json` helper placed during the current render on this thread.
    static PLACED: std::cell::RefCell<Vec<Value>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks a placeholder; a control character no template text contains.
const PLACEHOLDER_MARK: char = '\u{1}';

/// The placed value a placeholder text stands for, if it is one.
fn placed<'v>(text: &str, values: &'v mut [Option<Value>]) -> Option<&'v mut Option<Value>> {
    text.strip_prefix(PLACEHOLDER_MARK)
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| values.get_mut(i))
}

/// A copy of the parsed structure with each placeholder replaced by its value.
fn instantiate(structure: &Value, values: &mut [Option<Value>]) -> Value {
    match structure {
        Value::String(s) if s.starts_with(PLACEHOLDER_MARK) => placed(s, values)
            .and_then(Option::take)
            .unwrap_or(Value::Null),
        Value::Array(items) => Value::Array(items.iter().map(|v| instantiate(v, values)).collect()),
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (key, v) in map {
                let key = match placed(key, values).and_then(Option::take) {
                    Some(Value::String(name)) => name,
                    Some(other) => other.to_string(),
                    None => key.clone(),
                };
                let v = instantiate(v, values);
                out.insert(key, v);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn json_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let param = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("json", 0))?;
    // Strict mode does not cover helper parameters; a name the view lacks
    // must fail here rather than render as `null`.
    if param.is_value_missing() {
        return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
    }
    let index = PLACED.with(|placed| {
        let mut placed = placed.borrow_mut();
        placed.push(param.value().clone());
        placed.len() - 1
    });
    // A scalar on its own: `"\u0001N"` (or a bare key when used as one).
    out.write(&format!("\"\\u0001{index}\""))?;
    Ok(())
}

/// A rendered node as JSON: plain scalars by the YAML core schema, quoted
/// ones as strings.
pub fn node_to_json(node: &Node) -> Value {
    match &node.value {
        _ if node.is_null() => Value::Null,
        NodeValue::Scalar { text, plain: false } => Value::String(text.clone()),
        NodeValue::Scalar { text, plain: true } => match text.as_str() {
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            t => {
                if let Ok(i) = t.parse::<i64>() {
                    json!(i)
                } else if let Some(f) = t
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && t.chars().any(|c| c.is_ascii_digit()))
                {
                    json!(f)
                } else {
                    Value::String(t.to_string())
                }
            }
        },
        NodeValue::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.name.clone(), node_to_json(v)))
                .collect(),
        ),
    }
}
