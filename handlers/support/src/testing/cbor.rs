//! Just enough CBOR (RFC 8949) for fixtures of services that speak Smithy
//! RPC v2 CBOR (CloudWatch): requests decoded to JSON to be compared,
//! scripted answers encoded from JSON. A timestamp (tag 1) is written in
//! fixtures as `{"$timestamp": epoch-seconds}`, both ways.

use serde_json::{json, Map, Value};

/// The JSON form of one CBOR item, or `None` when `bytes` is not CBOR this
/// reader knows (tags other than 1, non-text keys, trailing bytes).
pub fn decode(bytes: &[u8]) -> Option<Value> {
    let mut at = 0;
    let value = item(bytes, &mut at)?;
    (at == bytes.len()).then_some(value)
}

fn item(bytes: &[u8], at: &mut usize) -> Option<Value> {
    let first = *bytes.get(*at)?;
    *at += 1;
    let (major, info) = (first >> 5, first & 0x1f);
    if major == 7 {
        return simple(bytes, at, info);
    }
    if info == 31 {
        return indefinite(bytes, at, major);
    }
    let n = argument(bytes, at, info)?;
    let len = usize::try_from(n).ok()?;
    Some(match major {
        0 => json!(n),
        1 => json!(-1 - i128::from(n) as i64),
        2 | 3 => {
            let chunk = bytes.get(*at..at.checked_add(len)?)?;
            *at += len;
            if major == 3 {
                Value::String(String::from_utf8(chunk.to_vec()).ok()?)
            } else {
                Value::Array(chunk.iter().map(|b| json!(b)).collect())
            }
        }
        4 => Value::Array((0..len).map(|_| item(bytes, at)).collect::<Option<_>>()?),
        5 => {
            let mut map = Map::new();
            for _ in 0..len {
                let Value::String(key) = item(bytes, at)? else {
                    return None;
                };
                map.insert(key, item(bytes, at)?);
            }
            Value::Object(map)
        }
        6 if n == 1 => json!({"$timestamp": whole_if_integral(item(bytes, at)?)}),
        _ => return None,
    })
}

/// An indefinite-length item (what the AWS SDK for Rust writes for every
/// structure and list): items, or key and value pairs, or string chunks,
/// up to the break byte (0xff).
fn indefinite(bytes: &[u8], at: &mut usize, major: u8) -> Option<Value> {
    const BREAK: u8 = 0xff;
    let mut items = Vec::new();
    while *bytes.get(*at)? != BREAK {
        items.push(item(bytes, at)?);
    }
    *at += 1;
    Some(match major {
        3 => {
            let mut text = String::new();
            for chunk in items {
                text.push_str(chunk.as_str()?);
            }
            Value::String(text)
        }
        2 => {
            let mut octets = Vec::new();
            for chunk in items {
                let Value::Array(chunk) = chunk else {
                    return None;
                };
                octets.extend(chunk);
            }
            Value::Array(octets)
        }
        4 => Value::Array(items),
        5 if items.len() % 2 == 0 => {
            let mut map = Map::new();
            let mut pairs = items.into_iter();
            while let (Some(key), Some(value)) = (pairs.next(), pairs.next()) {
                let Value::String(key) = key else { return None };
                map.insert(key, value);
            }
            Value::Object(map)
        }
        _ => return None,
    })
}

/// `1795403945.0` as `1795403945`: a timestamp written as a double (as the
/// SDK does) compares equal to the whole seconds a fixture names.
fn whole_if_integral(value: Value) -> Value {
    match value.as_f64() {
        Some(f) if value.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
        _ => value,
    }
}

fn argument(bytes: &[u8], at: &mut usize, info: u8) -> Option<u64> {
    let width = match info {
        0..=23 => return Some(u64::from(info)),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        _ => return None,
    };
    let chunk = bytes.get(*at..*at + width)?;
    *at += width;
    Some(chunk.iter().fold(0, |n, b| (n << 8) | u64::from(*b)))
}

fn simple(bytes: &[u8], at: &mut usize, info: u8) -> Option<Value> {
    Some(match info {
        20 => json!(false),
        21 => json!(true),
        22 | 23 => Value::Null,
        25 => {
            let half = argument(bytes, at, 25)? as u16;
            json!(half_to_f64(half))
        }
        26 => json!(f64::from(f32::from_bits(argument(bytes, at, 26)? as u32))),
        27 => json!(f64::from_bits(argument(bytes, at, 27)?)),
        _ => return None,
    })
}

fn half_to_f64(half: u16) -> f64 {
    let exponent = i32::from((half >> 10) & 0x1f);
    let mantissa = f64::from(half & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (mantissa + 1024.0) * 2f64.powi(e - 25),
    };
    if half & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// CBOR for a JSON value (integers as integers, other numbers as doubles).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => head(0, u, out),
            (None, Some(i)) => head(1, (-1 - i) as u64, out),
            _ => {
                out.push(0xfb);
                out.extend_from_slice(&n.as_f64().unwrap_or(f64::NAN).to_be_bytes());
            }
        },
        Value::String(s) => {
            head(3, s.len() as u64, out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|i| write(i, out));
        }
        Value::Object(map) => match map.get("$timestamp") {
            Some(t) if map.len() == 1 => {
                out.push(0xc1);
                write(t, out);
            }
            _ => {
                head(5, map.len() as u64, out);
                for (k, v) in map {
                    write(&Value::String(k.clone()), out);
                    write(v, out);
                }
            }
        },
    }
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips() {
        let value = json!({
            "MetricDataResults": [{"Id": "cpu", "Values": [1.5, 2.0, -3.25], "Timestamps": [{"$timestamp": 1_795_403_945}]}],
            "count": 300, "big": 4_294_967_296u64, "neg": -7, "ok": true, "none": null, "text": "é",
        });
        assert_eq!(decode(&encode(&value)).unwrap(), value);
    }

    #[test]
    fn reads_what_other_encoders_write() {
        // {"a": 1.5 as a half float, "b": [true]} and a tag-1 float timestamp.
        assert_eq!(
            decode(&[0xa2, 0x61, b'a', 0xf9, 0x3e, 0x00, 0x61, b'b', 0x81, 0xf5]).unwrap(),
            json!({"a": 1.5, "b": [true]})
        );
        let ts = [0xc1, 0xfb, 0x41, 0xda, 0xc0, 0xec, 0x2a, 0x40, 0x00, 0x00];
        assert_eq!(decode(&ts).unwrap(), json!({"$timestamp": 1_795_403_945}));
        // What the SDK writes: indefinite maps and lists, chunked strings.
        let sdk = [
            0xbf, 0x61, b'a', 0x9f, 0x01, 0xff, 0x7f, 0x61, b'b', 0x61, b'c', 0xff, 0xf5, 0xff,
        ];
        assert_eq!(decode(&sdk).unwrap(), json!({"a": [1], "bc": true}));
        assert_eq!(
            decode(&[0xbf, 0x01, 0x02, 0xff]),
            None,
            "a key that is not text"
        );
        assert_eq!(decode(&[0x9f, 0x01]), None, "no break");
        assert_eq!(decode(&[0x01, 0x02]), None, "trailing bytes");
    }
}
