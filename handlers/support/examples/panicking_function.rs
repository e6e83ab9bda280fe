//! A function that panics when its input says `{"panic": "why"}` and echoes
//! any other input. The cross-build test (`tests/lambda_packages.rs`) runs
//! it built with the `lambda` profile, to show that a panic becomes the
//! invocation's error and the process goes on to the next event.

use handler_support::log::Logger;
use handler_support::{Failure, Function, InvocationHandler};
use serde_json::Value;

struct EchoOrPanic;

impl InvocationHandler for EchoOrPanic {
    async fn on_invocation(&self, input: Value, _log: &Logger) -> Result<Value, Failure> {
        if let Some(why) = input["panic"].as_str() {
            panic!("asked to panic: {why}");
        }
        Ok(input)
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    handler_support::serve(Function::new(EchoOrPanic).serves_invocations()).await
}
