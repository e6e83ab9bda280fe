//! Guitars of the calling user, in DynamoDB (`userId` + `guitarId`).
//!
//! Every read and write is keyed by the caller's user id from the verified
//! token, and writes carry condition expressions, so nobody can read or
//! change another user's guitars: a foreign or unknown id is simply "not
//! found". Images are added by the images handler, not through this API.

mod fields;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use guitar_errors::Code;
use handler_support::item::{from_item, s, set_changes, to_item, Item};
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Clock, HttpHandler, Reply, Request};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub struct Guitars {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    pub clock: Box<dyn Clock>,
}

impl HttpHandler for Guitars {
    async fn respond(&self, request: Request, _log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::AuthUnauthorized)?;
        match request.route.as_str() {
            "GET /guitars" => self.list(caller, &request).await,
            "POST /guitars" => self.create(caller, &request).await,
            "GET /guitars/brands" => self.brands(caller).await,
            "GET /guitars/{id}" => self.get(caller, guitar_id(&request)?).await,
            "PUT /guitars/{id}" => self.update(caller, guitar_id(&request)?, &request).await,
            "DELETE /guitars/{id}" => self.delete(caller, guitar_id(&request)?).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

fn guitar_id(request: &Request) -> Result<&str, ApiError> {
    request
        .path_param("id")
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or_else(|| ApiError::new(Code::GuitarValidationError, "id path parameter is required"))
}

fn not_found() -> ApiError {
    ApiError::new(Code::GuitarNotFound, "Guitar not found or unauthorized")
}

/// Every item a query returns, page after page.
async fn all_pages(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<Item>, ApiError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// A failed `attribute_exists` condition means the caller has no such
/// guitar (or it is someone else's): "not found". Anything else is ours.
fn missing_or_internal<E: ProvideErrorMetadata + std::error::Error>(e: E) -> ApiError {
    if e.code() == Some("ConditionalCheckFailedException") {
        not_found()
    } else {
        ApiError::internal(e)
    }
}

impl Guitars {
    fn key(&self, caller: &Caller, id: &str) -> std::collections::HashMap<String, AttributeValue> {
        [
            ("userId".to_string(), s(&caller.user_id)),
            ("guitarId".to_string(), s(id)),
        ]
        .into_iter()
        .collect()
    }

    /// Every guitar of the caller, page by page, filtered by brand, type and year range.
    async fn list(&self, caller: &Caller, request: &Request) -> Result<Reply, ApiError> {
        let mut filters = Vec::new();
        let mut names = std::collections::HashMap::new();
        let mut values = std::collections::HashMap::from([(":u".to_string(), s(&caller.user_id))]);
        if let Some(brand) = request.query("brand") {
            filters.push("brand = :brand");
            values.insert(":brand".into(), s(brand));
        }
        if let Some(kind) = request.query("type") {
            filters.push("#type = :type");
            names.insert("#type".to_string(), "type".to_string());
            values.insert(":type".into(), s(kind));
        }
        let year = |name: &str| -> Result<Option<i64>, ApiError> {
            request
                .query(name)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        ApiError::new(
                            Code::GuitarValidationError,
                            format!("{name} must be a year"),
                        )
                    })
                })
                .transpose()
        };
        let (from, to) = (year("yearFrom")?, year("yearTo")?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(ApiError::new(
                    Code::GuitarValidationError,
                    "yearFrom must not be after yearTo",
                ));
            }
        }
        if from.is_some() || to.is_some() {
            names.insert("#year".to_string(), "year".to_string());
            filters.push("#year BETWEEN :from AND :to");
            values.insert(
                ":from".into(),
                AttributeValue::N(from.unwrap_or(0).to_string()),
            );
            values.insert(
                ":to".into(),
                AttributeValue::N(to.unwrap_or(9999).to_string()),
            );
        }
        let mut query = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("userId = :u")
            .set_expression_attribute_values(Some(values));
        if !filters.is_empty() {
            query = query.filter_expression(filters.join(" AND "));
        }
        if !names.is_empty() {
            query = query.set_expression_attribute_names(Some(names));
        }
        let guitars: Vec<Value> = all_pages(query).await?.iter().map(from_item).collect();
        Ok(Reply::ok(
            json!({"guitars": guitars, "count": guitars.len()}),
        ))
    }

    async fn create(&self, caller: &Caller, request: &Request) -> Result<Reply, ApiError> {
        let now = self.clock.timestamp();
        let mut guitar = fields::validated(request, fields::Mode::Create, &now)?;
        let id = uuid::Uuid::new_v4().to_string();
        guitar.insert("userId".into(), json!(caller.user_id));
        guitar.insert("guitarId".into(), json!(id));
        guitar.insert("images".into(), json!([]));
        guitar.insert("createdAt".into(), json!(now));
        guitar.insert("updatedAt".into(), json!(now));
        self.dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&guitar)))
            .condition_expression("attribute_not_exists(guitarId)")
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        Ok(Reply::created(Value::Object(guitar)))
    }

    async fn get(&self, caller: &Caller, id: &str) -> Result<Reply, ApiError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(caller, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::internal(e.into_service_error()))?;
        out.item()
            .map(|item| Reply::ok(from_item(item)))
            .ok_or_else(not_found)
    }

    async fn update(
        &self,
        caller: &Caller,
        id: &str,
        request: &Request,
    ) -> Result<Reply, ApiError> {
        let now = self.clock.timestamp();
        let changes = fields::validated(request, fields::Mode::Update, &now)?;
        let set = set_changes(&changes, &now);
        let out = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(caller, id)))
            .update_expression(set.expression)
            .condition_expression("attribute_exists(guitarId)")
            .set_expression_attribute_names(Some(set.names))
            .set_expression_attribute_values(Some(set.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| missing_or_internal(e.into_service_error()))?;
        Ok(Reply::ok(
            out.attributes().map(from_item).unwrap_or(Value::Null),
        ))
    }

    async fn delete(&self, caller: &Caller, id: &str) -> Result<Reply, ApiError> {
        self.dynamodb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key(caller, id)))
            .condition_expression("attribute_exists(guitarId)")
            .send()
            .await
            .map_err(|e| missing_or_internal(e.into_service_error()))?;
        Ok(Reply::ok(json!({"guitarId": id, "deleted": true})))
    }

    /// The caller's distinct brands, sorted.
    async fn brands(&self, caller: &Caller) -> Result<Reply, ApiError> {
        let query = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("userId = :u")
            .expression_attribute_values(":u", s(&caller.user_id))
            .projection_expression("brand");
        let brands: BTreeSet<String> = all_pages(query)
            .await?
            .iter()
            .filter_map(|i| i.get("brand").and_then(|b| b.as_s().ok()).cloned())
            .collect();
        Ok(Reply::ok(json!({"brands": brands})))
    }
}
