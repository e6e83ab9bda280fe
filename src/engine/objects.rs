//! Listing a bucket's objects: how `local` sees objects land in (or leave)
//! a bucket that notifies a function.

use super::error::AwsError;

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub etag: String,
    pub size: i64,
}

/// The most keys one poll reads; a bucket with more is watched only in its
/// first keys in listing order, which the caller reports.
pub const LISTING_LIMIT: usize = 10_000;

/// Every object of `bucket` (up to [`LISTING_LIMIT`]), and whether there were more.
pub async fn list_objects(
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<(Vec<ListedObject>, bool), AwsError> {
    let operation = format!("list the objects of bucket {bucket} (S3 ListObjectsV2)");
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(operation.clone(), e))?;
        out.extend(page.contents().iter().map(|o| ListedObject {
            key: o.key().unwrap_or_default().to_string(),
            etag: o.e_tag().unwrap_or_default().to_string(),
            size: o.size().unwrap_or_default(),
        }));
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok((out, false));
        }
        if out.len() >= LISTING_LIMIT {
            return Ok((out, true));
        }
    }
}
