//! S3 event notifications: the objects they name, with their keys decoded.

use aws_lambda_events::s3::S3Event;

/// One object an S3 notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// Such as `ObjectCreated:Put`.
    pub event: String,
    pub bucket: String,
    /// The key as stored (S3 sends it URL-encoded, spaces as `+`).
    pub key: String,
    pub size: Option<i64>,
}

/// Every object the notification names, in order.
pub fn objects(event: &S3Event) -> Vec<S3Object> {
    event
        .records
        .iter()
        .map(|r| S3Object {
            event: r.event_name.clone().unwrap_or_default(),
            bucket: r.s3.bucket.name.clone().unwrap_or_default(),
            key: decode_key(r.s3.object.key.as_deref().unwrap_or_default()),
            size: r.s3.object.size,
        })
        .collect()
}

/// `my+photo%281%29.jpg` → `my photo(1).jpg`; an invalid escape stays as it is.
fn decode_key(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::decode_key;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(
            decode_key("uploads/u-1/my+photo%281%29.jpg"),
            "uploads/u-1/my photo(1).jpg"
        );
        assert_eq!(decode_key("caf%C3%A9.png"), "café.png");
        assert_eq!(decode_key("100%25"), "100%");
        assert_eq!(decode_key("odd%2"), "odd%2");
        assert_eq!(decode_key("odd%zz"), "odd%zz");
    }
}
