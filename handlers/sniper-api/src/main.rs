//! Lambda entry point: read the settings, build the clients once, serve
//! API requests.

use handler_support::outbound::HttpsClient;
use handler_support::{aws, Function, SystemClock};
use sniper_api::{Api, BidIds, Settings};
use sniper_shared::ebay::Ebay;
use sniper_shared::secrets::Secrets;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = Settings::from_environment()?;
    let sdk = aws::config().await;
    let ebay = Ebay::new(
        Arc::new(HttpsClient::new()?),
        settings.ebay_base_url.clone(),
    );
    let api = Api {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        scheduler: aws_sdk_scheduler::Client::new(&sdk),
        kms: aws_sdk_kms::Client::new(&sdk),
        secrets: Secrets::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        ebay,
        clock: Box::new(SystemClock),
        ids: BidIds::Random,
        settings,
    };
    handler_support::serve(Function::new(api).serves_http()).await
}
