//! S3's REST API, path style (`/{bucket}/{key}`), as the S3 authorization
//! reference maps operations to actions: HeadObject is `s3:GetObject`,
//! listing is `s3:ListBucket` on the bucket with `s3:prefix`, a copy needs
//! `s3:PutObject` on the target and `s3:GetObject` on the source, the steps
//! of a multipart upload are `s3:PutObject`, and a DeleteObjects request
//! needs `s3:DeleteObject` on every key it lists.

use super::{decode, has, header, pairs, param, Check, Classified, Request, Scope};

const SERVICE: &str = "s3";

pub(super) fn classify(request: &Request<'_>, scope: &Scope<'_>) -> Classified {
    let path = request.path.trim_start_matches('/');
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) if !key.is_empty() => (decode(bucket), Some(decode(key))),
        _ => (decode(path.trim_end_matches('/')), None),
    };
    let params = pairs(request.query);
    let arn = |resource: &str| format!("arn:{}:s3:::{resource}", scope.partition);
    match (bucket.is_empty(), key) {
        (true, _) if request.method == "GET" => Classified::checked(
            SERVICE,
            "ListBuckets",
            vec![Check::new("s3:ListAllMyBuckets", "*")],
        ),
        (true, _) => Classified::not_checked(SERVICE, request.method, "no bucket in the path"),
        (false, None) => bucket_call(request, &params, &bucket, &arn(&bucket)),
        (false, Some(key)) => {
            object_call(request, &params, &arn(&format!("{bucket}/{key}")), scope)
        }
    }
}

fn bucket_call(
    request: &Request<'_>,
    params: &[(String, String)],
    bucket: &str,
    arn: &str,
) -> Classified {
    let listing = |operation: &str| {
        let check = Check::new("s3:ListBucket", arn)
            .with("s3:prefix", param(params, "prefix"))
            .with("s3:delimiter", param(params, "delimiter"))
            .with("s3:max-keys", param(params, "max-keys"));
        Classified::checked(SERVICE, operation, vec![check])
    };
    let one = |operation: &str, action: &str| {
        Classified::checked(SERVICE, operation, vec![Check::new(action, arn)])
    };
    match request.method {
        "GET" if param(params, "list-type") == Some("2") => listing("ListObjectsV2"),
        "GET" if has(params, "versions") => one("ListObjectVersions", "s3:ListBucketVersions"),
        "GET" if has(params, "uploads") => {
            one("ListMultipartUploads", "s3:ListBucketMultipartUploads")
        }
        "GET" if has(params, "location") => one("GetBucketLocation", "s3:GetBucketLocation"),
        "GET" if !params.iter().any(|(k, _)| is_subresource(k)) => listing("ListObjects"),
        "HEAD" => one("HeadBucket", "s3:ListBucket"),
        "POST" if has(params, "delete") => delete_objects(request.body, bucket, arn),
        _ => Classified::not_checked(
            SERVICE,
            request.method,
            format!("a bucket configuration call on {bucket}"),
        ),
    }
}

fn object_call(
    request: &Request<'_>,
    params: &[(String, String)],
    arn: &str,
    scope: &Scope<'_>,
) -> Classified {
    let versioned = has(params, "versionId");
    let copy = header(request.headers, "x-amz-copy-source");
    let (operation, action) = match (request.method, versioned) {
        ("GET" | "HEAD", _) if has(params, "uploadId") => {
            ("ListParts", "s3:ListMultipartUploadParts")
        }
        ("GET" | "HEAD", _) if has(params, "tagging") => {
            ("GetObjectTagging", "s3:GetObjectTagging")
        }
        ("GET" | "HEAD", _) if has(params, "acl") => ("GetObjectAcl", "s3:GetObjectAcl"),
        ("GET", true) => ("GetObject", "s3:GetObjectVersion"),
        ("GET", false) => ("GetObject", "s3:GetObject"),
        ("HEAD", true) => ("HeadObject", "s3:GetObjectVersion"),
        ("HEAD", false) => ("HeadObject", "s3:GetObject"),
        ("PUT", _) if has(params, "tagging") => ("PutObjectTagging", "s3:PutObjectTagging"),
        ("PUT", _) if has(params, "acl") => ("PutObjectAcl", "s3:PutObjectAcl"),
        ("PUT", _) if has(params, "uploadId") => (
            if copy.is_some() {
                "UploadPartCopy"
            } else {
                "UploadPart"
            },
            "s3:PutObject",
        ),
        ("PUT", _) => (
            if copy.is_some() {
                "CopyObject"
            } else {
                "PutObject"
            },
            "s3:PutObject",
        ),
        ("POST", _) if has(params, "uploads") => ("CreateMultipartUpload", "s3:PutObject"),
        ("POST", _) if has(params, "uploadId") => ("CompleteMultipartUpload", "s3:PutObject"),
        ("DELETE", _) if has(params, "uploadId") => {
            ("AbortMultipartUpload", "s3:AbortMultipartUpload")
        }
        ("DELETE", _) if has(params, "tagging") => {
            ("DeleteObjectTagging", "s3:DeleteObjectTagging")
        }
        ("DELETE", true) => ("DeleteObject", "s3:DeleteObjectVersion"),
        ("DELETE", false) => ("DeleteObject", "s3:DeleteObject"),
        _ => {
            return Classified::not_checked(
                SERVICE,
                request.method,
                "an object call `local` does not classify",
            )
        }
    };
    let mut checks = vec![Check::new(action, arn)];
    if let Some(source) = copy.filter(|_| request.method == "PUT" && action == "s3:PutObject") {
        checks.push(copy_source(source, scope));
    }
    Classified::checked(SERVICE, operation, checks)
}

/// `x-amz-copy-source: bucket/key?versionId=v` (URL-encoded, maybe with a
/// leading slash) → reading that object.
fn copy_source(source: &str, scope: &Scope<'_>) -> Check {
    let (path, query) = source.split_once('?').unwrap_or((source, ""));
    let action = if has(&pairs(query), "versionId") {
        "s3:GetObjectVersion"
    } else {
        "s3:GetObject"
    };
    let object = decode(path.trim_start_matches('/'));
    Check::new(action, format!("arn:{}:s3:::{object}", scope.partition))
}

/// POST `?delete`: `<Delete><Object><Key>k</Key>[<VersionId>v</VersionId>]</Object>…</Delete>`.
fn delete_objects(body: &[u8], bucket: &str, bucket_arn: &str) -> Classified {
    let text = String::from_utf8_lossy(body);
    let checks: Vec<Check> = elements(&text, "Object")
        .filter_map(|object| {
            let key = elements(object, "Key").next()?;
            let action = match elements(object, "VersionId").next() {
                Some(_) => "s3:DeleteObjectVersion",
                None => "s3:DeleteObject",
            };
            Some(Check::new(
                action,
                format!("{bucket_arn}/{}", unescape_xml(key)),
            ))
        })
        .collect();
    if checks.is_empty() {
        return Classified::not_checked(
            SERVICE,
            "DeleteObjects",
            format!("no keys found in the request for {bucket}"),
        );
    }
    Classified::checked(SERVICE, "DeleteObjects", checks)
}

/// The contents of each `<name>…</name>` in `xml` (no nesting of the same name).
fn elements<'x>(xml: &'x str, name: &str) -> impl Iterator<Item = &'x str> + 'x {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let inner: Vec<&str> = xml
        .split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once(close.as_str()).map(|(inner, _)| inner))
        .collect();
    inner.into_iter()
}

fn unescape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find(';') else {
            out.push_str(&rest[at..]);
            return out;
        };
        match entity(&after[..end]) {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..at + end + 2]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Query parameters that name a bucket sub-resource (configuration) rather
/// than listing options.
fn is_subresource(name: &str) -> bool {
    !matches!(
        name,
        "prefix"
            | "delimiter"
            | "marker"
            | "max-keys"
            | "encoding-type"
            | "list-type"
            | "continuation-token"
            | "fetch-owner"
            | "start-after"
    ) && !name.starts_with("X-Amz-")
        && !name.starts_with("x-id")
}
