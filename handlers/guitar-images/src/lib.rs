//! Image uploads: the browser puts the file straight into S3 with a
//! pre-signed URL (5 minutes, under the caller's own `uploads/` prefix, at
//! most 10 MB), then reports completion; we check it, make a 400x400
//! thumbnail, move it under `images/`, and record it on the guitar.

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
        f.finish()?;
        if let Some(g) = &guitar_id {
            self.guitar(caller, g).await?;
        }
        let key = format!(
            "{}{}-{}",
            Self::uploads_prefix(caller),
            uuid::Uuid::new_v4(),
            safe_name(&file_name.unwrap())
        );
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
        let guitar_id = f.text("guitarId", true, 1, 64);
        let caption = f.text("caption", false, 1, 500);
        f.finish()?;
        let (key, guitar_id) = (key.unwrap(), guitar_id.unwrap());
        // Only the caller's own uploads, never another user's or a moved image.
        let prefix = Self::uploads_prefix(caller);
        let Some(file) = key
            .strip_prefix(&prefix)
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        else {
            return Err(invalid("imageKey is not one of your uploads"));
        };
        let guitar = self.guitar(caller, &guitar_id).await?;
        let existing = guitar
            .get("images")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if existing >= MAX_IMAGES {
            return Err(invalid(format!("a guitar has at most {MAX_IMAGES} images")));
        }
        let head = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(&key)
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
            self.discard(&key, log).await;
            return Err(invalid("the upload is larger than 10 MB"));
        }
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(ApiError::internal)?
            .into_bytes();
        let thumb = match thumbnail::make(&bytes) {
            Ok(t) => t,
            Err(why) => {
                self.discard(&key, log).await;
                return Err(invalid(format!("the upload is not a usable image: {why}")));
            }
        };
        let image_id = file.split('-').take(5).collect::<Vec<_>>().join("-");
        let base = format!("images/{}/{}/{}", caller.user_id, guitar_id, image_id);
        let (original_key, thumb_key) = (
            format!("{base}.{}", thumb.extension),
            format!("{base}-thumb.jpg"),
        );
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&original_key)
            .content_type(thumb.content_type)
            .cache_control("public, max-age=31536000, immutable")
            .body(bytes.to_vec().into())
            .send()
            .await
            .map_err(|e| {
                ApiError::new(Code::ImageUploadFailed, "Storing the image failed")
                    .with_details(json!({"cause": e.into_service_error().to_string()}))
            })?;
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&thumb_key)
            .content_type("image/jpeg")
            .cache_control("public, max-age=31536000, immutable")
            .body(thumb.jpeg.into())
            .send()
            .await
            .map_err(|e| {
                ApiError::new(Code::ImageUploadFailed, "Storing the thumbnail failed")
                    .with_details(json!({"cause": e.into_service_error().to_string()}))
            })?;
        let record = json!({
            "id": image_id,
            "url": format!("https://{}/{original_key}", self.cdn_domain),
            "thumbnailUrl": format!("https://{}/{thumb_key}", self.cdn_domain),
            "caption": caption,
            "isPrimary": existing == 0,
            "order": existing,
            "width": thumb.width,
            "height": thumb.height,
        });
        let now = self.clock.timestamp();
        let recorded = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("userId", s(&caller.user_id))
            .key("guitarId", s(&guitar_id))
            .update_expression(
                "SET images = list_append(if_not_exists(images, :none), :new), updatedAt = :now",
            )
            .condition_expression("attribute_exists(guitarId)")
            .expression_attribute_values(":none", AttributeValue::L(vec![]))
            .expression_attribute_values(":new", AttributeValue::L(vec![to_attribute(&record)]))
            .expression_attribute_values(":now", s(&now))
            .send()
            .await;
        if let Err(e) = recorded {
            // The guitar went away meanwhile: do not leave orphaned images.
            self.discard(&original_key, log).await;
            self.discard(&thumb_key, log).await;
            let e = e.into_service_error();
            return Err(if e.is_conditional_check_failed_exception() {
                guitar_not_found()
            } else {
                ApiError::internal(e)
            });
        }
        self.discard(&key, log).await;
        Ok(Reply::created(
            json!({"imageUrl": record["url"], "thumbnailUrl": record["thumbnailUrl"], "image": record}),
        ))
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
    use super::safe_name;

    #[test]
    fn file_names_cannot_escape_the_prefix() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("my guitar (1).jpg"), "my_guitar__1_.jpg");
        assert_eq!(safe_name("..."), "image");
        assert_eq!(safe_name("C:\\photos\\strat.png"), "strat.png");
    }
}
