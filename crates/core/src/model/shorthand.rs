//! Fields that may be written as one word or as a full mapping.
//!
//! `"GET /guitars": guitars` is short for `{function: guitars}`; the schema
//! offers both forms. The long form is an ordinary serde struct, so unknown
//! fields and type errors are reported the usual way.

/// Implements `Deserialize` and `JsonSchema` for `$ty`, which is written
/// either as a scalar that `$short` turns into `$ty`, or as `$full`.
macro_rules! scalar_or_struct {
    ($ty:ident, full = $full:ty, short = $short:ty, from_short = $from:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ShortOrFull;
                impl<'de> serde::de::Visitor<'de> for ShortOrFull {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        write!(f, "a word or a mapping of fields")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        use serde::de::IntoDeserializer;
                        let short: $short = serde::Deserialize::deserialize(v.into_deserializer())?;
                        Ok(($from)(short))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        let full: $full = serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                        Ok(full.into())
                    }
                }
                deserializer.deserialize_any(ShortOrFull)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "anyOf": [generator.subschema_for::<$short>(), generator.subschema_for::<$full>()]
                })
            }
        }
    };
}

pub(crate) use scalar_or_struct;
