//! The platform end to end: real-shaped events of every kind (REST API 1.0,
//! HTTP API 2.0, S3, EventBridge Scheduler) through `Function::invoke`, the
//! entry point the Lambda runtime uses, against a small shop application
//! that serves them all; and the same events against a function that serves
//! only API requests, where every other kind must fail the invocation.

use handler_support::function::decode_input;
use handler_support::input::{json_object, Fields};
use handler_support::log::Logger;
use handler_support::testing::check_fixtures;
use handler_support::{
    s3, ApiError, Clock, ErrorCode, Failure, FixedClock, Function, HttpHandler, InvocationHandler,
    Reply, Request, S3Event, S3Handler,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The shop's own error codes.
#[derive(Clone, Copy)]
enum ShopCode {
    Unauthenticated,
    InvalidOrder,
}

impl ErrorCode for ShopCode {
    fn code(self) -> &'static str {
        match self {
            ShopCode::Unauthenticated => "SHOP_SIGN_IN_REQUIRED",
            ShopCode::InvalidOrder => "SHOP_INVALID_ORDER",
        }
    }
    fn status(self) -> u16 {
        match self {
            ShopCode::Unauthenticated => 401,
            ShopCode::InvalidOrder => 400,
        }
    }
}

struct Shop {
    clock: FixedClock,
}

impl HttpHandler for Shop {
    async fn respond(&self, request: Request, _log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(ShopCode::Unauthenticated)?;
        match request.route.as_str() {
            "GET /orders/{id}" => Ok(Reply::ok(json!({
                "orderId": request.path_param("id"),
                "owner": caller.user_id,
                "email": caller.email,
                "groups": caller.groups,
                "expand": request.query("expand"),
                "payload": format!("{:?}", request.format),
                "readAt": self.clock.timestamp(),
            }))),
            "POST /orders" => {
                let body = json_object(&request, ShopCode::InvalidOrder)?;
                let mut fields = Fields::new(&body, ShopCode::InvalidOrder);
                let item = fields.text("item", true, 1, 50);
                let quantity = fields.integer("quantity", true, 1, 10);
                fields.finish()?;
                Ok(Reply::created(json!({
                    "item": item, "quantity": quantity, "owner": caller.user_id,
                    "createdAt": self.clock.timestamp(),
                })))
            }
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl S3Handler for Shop {
    async fn on_s3_event(&self, event: S3Event, log: &Logger) -> Result<(), Failure> {
        for object in s3::objects(&event) {
            if object.key.ends_with(".exe") {
                return Err(Failure::handler(format!("refusing {}", object.key)));
            }
            log.info(
                "receipt stored",
                &[
                    ("event", object.event.into()),
                    ("bucket", object.bucket.into()),
                    ("key", object.key.into()),
                ],
            );
        }
        Ok(())
    }
}

/// What the shop's reminder schedules send: their `Input`, with the
/// Scheduler's context attributes filled in.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reminder {
    order_id: String,
    scheduled_time: String,
    attempt: String,
}

impl InvocationHandler for Shop {
    async fn on_invocation(&self, input: Value, _log: &Logger) -> Result<Value, Failure> {
        let reminder: Reminder = decode_input(input)?;
        Ok(json!({
            "reminded": reminder.order_id,
            "scheduledFor": reminder.scheduled_time,
            "attempt": reminder.attempt,
            "sentAt": self.clock.timestamp(),
        }))
    }
}

const NOW: u64 = 1_795_403_945; // 2026-11-23T03:19:05Z

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

#[tokio::test]
async fn every_event_kind_is_decoded_and_dispatched() {
    check_fixtures(&fixtures("all-kinds"), |_| {
        Function::new(Shop {
            clock: FixedClock(NOW),
        })
        .serves_http()
        .serves_s3()
        .serves_invocations()
    })
    .await;
}

#[tokio::test]
async fn events_a_function_does_not_serve_fail_the_invocation() {
    check_fixtures(&fixtures("http-only"), |_| {
        Function::new(Shop {
            clock: FixedClock(NOW),
        })
        .serves_http()
    })
    .await;
}
