//! `UpdateItem` expressions built clause by clause. Every attribute goes
//! through a `#name` placeholder (`name`, `status` and `timestamp` are
//! DynamoDB reserved words), every value through a `:name` one.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Update {
    sets: Vec<String>,
    removes: Vec<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Update {
    /// `#attr = :attr`.
    pub fn set(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        let (name, placeholder) = (self.name(attr), self.value(attr, value));
        self.sets.push(format!("{name} = {placeholder}"));
        self
    }

    /// `#attr = if_not_exists(#attr, :attr)`: only on the item's first write.
    pub fn set_if_absent(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        let (name, placeholder) = (self.name(attr), self.value(attr, value));
        self.sets
            .push(format!("{name} = if_not_exists({name}, {placeholder})"));
        self
    }

    pub fn remove(&mut self, attr: &str) -> &mut Self {
        let name = self.name(attr);
        self.removes.push(name);
        self
    }

    /// Whether the update already names `attr`.
    pub fn names_attribute(&self, attr: &str) -> bool {
        self.names.values().any(|name| name == attr)
    }

    /// The placeholder of an attribute name, for conditions too.
    pub fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#{attr}");
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    /// The placeholder of a value, for conditions too.
    pub fn value(&mut self, key: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{key}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub fn expression(&self) -> String {
        let mut clauses = Vec::new();
        if !self.sets.is_empty() {
            clauses.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.removes.is_empty() {
            clauses.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        clauses.join(" ")
    }

    /// The values, or `None` when there are none (DynamoDB refuses an
    /// empty map).
    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handler_support::item::s;

    #[test]
    fn clauses_name_everything_through_placeholders() {
        let mut update = Update::default();
        update
            .set("name", s("Ada"))
            .set_if_absent("createdAt", s("t"))
            .remove("ebayToken");
        assert_eq!(
            update.expression(),
            "SET #name = :name, #createdAt = if_not_exists(#createdAt, :createdAt) REMOVE #ebayToken"
        );
        assert_eq!(update.names.len(), 3);
        assert_eq!(update.values().map(|v| v.len()), Some(2));
        let mut removal = Update::default();
        removal.remove("ebayToken");
        assert_eq!(removal.values(), None);
    }
}
