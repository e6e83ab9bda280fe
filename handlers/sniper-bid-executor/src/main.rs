//! Lambda entry point: build the clients once, serve the schedules' invocations.

use handler_support::outbound::HttpsClient;
use handler_support::{aws, config, Function, SystemClock};
use sniper_bid_executor::postmark::Postmark;
use sniper_bid_executor::record::Store;
use sniper_bid_executor::{Executor, Settings};
use sniper_shared::ebay::{self, Ebay};
use sniper_shared::secrets::Secrets;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let sdk = aws::config().await;
    let [bids_table, history_table, users_table, environment] = config::required_all([
        "BIDS_TABLE",
        "BID_HISTORY_TABLE",
        "USERS_TABLE",
        "ENVIRONMENT",
    ])?;
    let http = Arc::new(HttpsClient::new()?);
    let state = Executor {
        store: Store {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            bids_table,
            history_table,
            users_table,
        },
        kms: aws_sdk_kms::Client::new(&sdk),
        secrets: Secrets::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        ebay: Ebay::new(
            http.clone(),
            ebay::base_url(&environment, config::optional("EBAY_API_BASE_URL")),
        ),
        postmark: Postmark::new(http, config::optional("POSTMARK_API_BASE_URL")),
        clock: Box::new(SystemClock),
        settings: Settings::from_environment()?,
    };
    handler_support::serve(Function::new(state).serves_invocations()).await
}
