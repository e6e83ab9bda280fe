//! Image uploads: the browser puts the file straight into S3 with a
//! pre-signed URL (5 minutes, under the caller's own `uploads/` prefix, at
//! most 10 MB), then reports completion with the seed's `{imageKey}`; we
//! check it, make a 400x400 thumbnail, move it under `images/` and answer
//! with both URLs. When the upload URL was asked for a guitar, the key names
//! that guitar and the image is recorded on it too.

mod thumbnail;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::presigning::PresigningConfig;
use guitar_errors::Code;
use handler_support::input::{json_object, Fields};
use handler_support::item::{from_item, s, to_attribute};
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Clock, HttpHandler, Reply, Request};
use serde_json::{json, Value};
use std::time::Duration;

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: i64 = 10 * 1024 * 1024;
/// How long a pre-signed upload URL is valid.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(300);
/// Images kept per guitar.
pub const MAX_IMAGES: usize = 50;

/// Where an image and its thumbnail were put.
struct Stored {
    original_key: String,
    thumbnail_key: String,
    width: u32,
    height: u32,
}

pub struct Images {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    pub bucket: String,
    pub cdn_domain: String,
    pub clock: Box<dyn Clock>,
}

impl HttpHandler for Images {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::AuthUnauthorized)?;
        match request.route.as_str() {
            "POST /images/upload-url" => self.upload_url(caller, &request).await,
            "POST /images/upload-complete" => self.upload_complete(caller, &request, log).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::ImageValidationError, message)
}

/// A key the caller may complete: `uploads/{userId}/{uuid}-{fileName}`, the
/// seed's layout, or `uploads/{userId}/{guitarId}/{uuid}-{fileName}` when the
/// upload URL was asked for a guitar, so that completion needs only the key.
struct Upload<'a> {
    guitar_id: Option<&'a str>,
    /// `{uuid}-{fileName}`.
    file: &'a str,
}

impl<'a> Upload<'a> {
    /// The key's parts; `None` for anything but the caller's own uploads
    /// (another user's, an image already moved, a deeper path).
    fn parse(key: &'a str, caller: &Caller) -> Option<Upload<'a>> {
        let rest = key.strip_prefix(&Images::uploads_prefix(caller))?;
        let (guitar_id, file) = match rest.split_once('/') {
            Some((guitar, file)) => (Some(guitar), file),
            None => (None, rest),
        };
        let well_formed =
            !file.is_empty() && !file.contains('/') && guitar_id.is_none_or(|g| !g.is_empty());
        well_formed.then_some(Upload { guitar_id, file })
    }

    /// The upload's UUID, which becomes the image's id.
    fn image_id(&self) -> String {
        self.file.split('-').take(5).collect::<Vec<_>>().join("-")
    }
}

fn guitar_not_found() -> ApiError {
    ApiError::new(Code::GuitarNotFound, "Guitar not found or unauthorized")
}

/// The file name reduced to characters safe in a key.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if cleaned.trim_matches(['.', '_']).is_empty() {
        "image".into()
    } else {
        cleaned
    }
}

impl Images {
    fn uploads_prefix(caller: &Caller) -> String {
        format!("uploads/{}/", caller.user_id)
    }

    async fn guitar(&self, caller: &Caller, guitar_id: &str) -> Result<Value, ApiError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("userId", s(&caller.user_id))
            .key("guitarId", s(guitar_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        out.item().map(from_item).ok_or_else(guitar_not_found)
    }

    async fn upload_url(&self, caller: &Caller, request: &Request) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::ImageValidationError)?;
        let mut f = Fields::new(&body, Code::ImageValidationError);
        let file_name = f.text("fileName", true, 1, 255);
        let file_type = f.text("fileType", true, 1, 100);
        let size = f.integer("fileSize", false, 1, MAX_UPLOAD_BYTES);
        let guitar_id = f.text("guitarId", false, 1, 64);
        if let Some(t) = &file_type {
            if !thumbnail::ACCEPTED_TYPES.contains(&t.as_str()) {
                f.problem(
                    "fileType",
                    format!("must be one of {}", thumbnail::ACCEPTED_TYPES.join(", ")),
                );
            }
        }
        // It becomes a segment of the key.
        if guitar_id.as_deref().is_some_and(|g| g.contains('/')) {
            f.problem("guitarId", "is not a guitar id");
        }
        f.finish()?;
        let mut key = Self::uploads_prefix(caller);
        if let Some(g) = &guitar_id {
            self.guitar(caller, g).await?;
            key.push_str(&format!("{g}/"));
        }
        key.push_str(&format!(
            "{}-{}",
            uuid::Uuid::new_v4(),
            safe_name(&file_name.unwrap())
        ));
        let mut put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(file_type.clone().unwrap());
        if let Some(n) = size {
            put = put.content_length(n);
        }
        let presigned = put
            .presigned(
                PresigningConfig::expires_in(UPLOAD_URL_LIFETIME).map_err(ApiError::internal)?,
            )
            .await
            .map_err(ApiError::internal)?;
        Ok(Reply::ok(json!({
            "uploadUrl": presigned.uri(),
            "imageKey": key,
            "method": "PUT",
            "headers": {"Content-Type": file_type},
            "expiresIn": UPLOAD_URL_LIFETIME.as_secs(),
            "maxBytes": MAX_UPLOAD_BYTES,
        })))
    }

    async fn upload_complete(
        &self,
        caller: &Caller,
        request: &Request,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let body = json_object(request, Code::ImageValidationError)?;
        let mut f = Fields::new(&body, Code::ImageValidationError);
        let key = f.text("imageKey", true, 1, 1024);
        // The seed's body is `{imageKey}` alone; a guitar named as well must
        // be the one the key names (if it names one).
        let named = f.text("guitarId", false, 1, 64);
        let caption = f.text("caption", false, 1, 500);
        f.finish()?;
        let key = key.expect("validated");
        let upload = Upload::parse(&key, caller)
            .ok_or_else(|| invalid("imageKey is not one of your uploads"))?;
        let guitar_id = match (upload.guitar_id, named.as_deref()) {
            (Some(from_key), Some(named)) if from_key != named => {
                return Err(invalid(
                    "guitarId is not the guitar this upload was made for",
                ))
            }
            (from_key, named) => from_key.or(named),
        };
        let order = match guitar_id {
            Some(g) => Some(self.next_image_position(caller, g).await?),
            None => None,
        };
        let bytes = self.read_upload(&key, log).await?;
        let thumb = match thumbnail::make(&bytes) {
            Ok(t) => t,
            Err(why) => {
                self.discard(&key, log).await;
                return Err(invalid(format!("the upload is not a usable image: {why}")));
            }
        };
        let image_id = upload.image_id();
        let base = match guitar_id {
            Some(g) => format!("images/{}/{g}/{image_id}", caller.user_id),
            None => format!("images/{}/{image_id}", caller.user_id),
        };
        let stored = self.store(&base, bytes, thumb).await?;
        let mut image = json!({
            "id": image_id,
            "url": format!("https://{}/{}", self.cdn_domain, stored.original_key),
            "thumbnailUrl": format!("https://{}/{}", self.cdn_domain, stored.thumbnail_key),
            "caption": caption,
            "width": stored.width,
            "height": stored.height,
        });
        if let (Some(g), Some(order)) = (guitar_id, order) {
            image["isPrimary"] = json!(order == 0);
            image["order"] = json!(order);
            self.record(caller, g, &image, &stored, log).await?;
        }
        self.discard(&key, log).await;
        Ok(Reply::created(
            json!({"imageUrl": image["url"], "thumbnailUrl": image["thumbnailUrl"], "image": image}),
        ))
    }

    /// The position a new image of the guitar takes (0 makes it the primary
    /// one), or an error when the guitar is not the caller's or is full.
    async fn next_image_position(
        &self,
        caller: &Caller,
        guitar_id: &str,
    ) -> Result<usize, ApiError> {
        let guitar = self.guitar(caller, guitar_id).await?;
        let existing = guitar
            .get("images")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if existing >= MAX_IMAGES {
            return Err(invalid(format!("a guitar has at most {MAX_IMAGES} images")));
        }
        Ok(existing)
    }

    /// The uploaded bytes, refusing (and removing) an upload over the limit.
    async fn read_upload(&self, key: &str, log: &Logger) -> Result<Vec<u8>, ApiError> {
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                if e.is_not_found() {
                    invalid("no upload at imageKey (it may have expired)")
                } else {
                    ApiError::internal(e)
                }
            })?;
        if head.content_length().unwrap_or(0) > MAX_UPLOAD_BYTES {
            self.discard(key, log).await;
            return Err(invalid("the upload is larger than 10 MB"));
        }
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        let bytes = object.body.collect().await.map_err(ApiError::internal)?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Puts the original and its thumbnail at `{base}.{ext}` and `{base}-thumb.jpg`.
    async fn store(
        &self,
        base: &str,
        original: Vec<u8>,
        thumb: thumbnail::Thumbnail,
    ) -> Result<Stored, ApiError> {
        let stored = Stored {
            original_key: format!("{base}.{}", thumb.extension),
            thumbnail_key: format!("{base}-thumb.jpg"),
            width: thumb.width,
            height: thumb.height,
        };
        self.put_image(&stored.original_key, thumb.content_type, original, "image")
            .await?;
        self.put_image(&stored.thumbnail_key, "image/jpeg", thumb.jpeg, "thumbnail")
            .await?;
        Ok(stored)
    }

    async fn put_image(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
        what: &str,
    ) -> Result<(), ApiError> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            // Keys are never reused, so the CDN may keep them for a year.
            .cache_control("public, max-age=31536000, immutable")
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| {
                ApiError::new(
                    Code::ImageUploadFailed,
                    format!("Storing the {what} failed"),
                )
                .with_details(json!({"cause": e.into_service_error().to_string()}))
            })?;
        Ok(())
    }

    /// Appends `image` to the guitar's images.
    async fn record(
        &self,
        caller: &Caller,
        guitar_id: &str,
        image: &Value,
        stored: &Stored,
        log: &Logger,
    ) -> Result<(), ApiError> {
        let recorded = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("userId", s(&caller.user_id))
            .key("guitarId", s(guitar_id))
            .update_expression(
                "SET images = list_append(if_not_exists(images, :none), :new), updatedAt = :now",
            )
            .condition_expression("attribute_exists(guitarId)")
            .expression_attribute_values(":none", AttributeValue::L(vec![]))
            .expression_attribute_values(":new", AttributeValue::L(vec![to_attribute(image)]))
            .expression_attribute_values(":now", s(&self.clock.timestamp()))
            .send()
            .await;
        let Err(e) = recorded else { return Ok(()) };
        // The guitar went away meanwhile: do not leave orphaned images.
        self.discard(&stored.original_key, log).await;
        self.discard(&stored.thumbnail_key, log).await;
        let e = e.into_service_error();
        Err(if e.is_conditional_check_failed_exception() {
            guitar_not_found()
        } else {
            ApiError::internal(e)
        })
    }

    /// Deletes an object, logging (not failing) when that does not work.
    async fn discard(&self, key: &str, log: &Logger) {
        if let Err(e) = self
            .s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            log.warn(
                "could not delete object",
                &[
                    ("key", key.into()),
                    ("error", e.into_service_error().to_string().into()),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{safe_name, Upload};
    use handler_support::Caller;

    #[test]
    fn upload_keys_name_their_guitar_or_none() {
        let alice = Caller {
            user_id: "u-alice".into(),
            email: None,
            role: None,
            username: None,
            groups: Vec::new(),
        };
        let parts = |key: &str| {
            Upload::parse(key, &alice).map(|u| (u.guitar_id.map(String::from), u.image_id()))
        };
        let id = "0a1b2c3d-1111-4222-8333-444455556666";
        assert_eq!(
            parts(&format!("uploads/u-alice/{id}-strat.png")),
            Some((None, id.to_string()))
        );
        assert_eq!(
            parts(&format!("uploads/u-alice/g-1/{id}-strat.png")),
            Some((Some("g-1".to_string()), id.to_string()))
        );
        for foreign in [
            "uploads/u-bob/x-a.png",
            "uploads/u-alice/",
            "uploads/u-alice//x-a.png",
            "uploads/u-alice/g-1/",
            "uploads/u-alice/g-1/deeper/x-a.png",
            "images/u-alice/x-a.png",
        ] {
            assert!(parts(foreign).is_none(), "{foreign}");
        }
    }

    #[test]
    fn file_names_cannot_escape_the_prefix() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("my guitar (1).jpg"), "my_guitar__1_.jpg");
        assert_eq!(safe_name("..."), "image");
        assert_eq!(safe_name("C:\\photos\\strat.png"), "strat.png");
    }
}
