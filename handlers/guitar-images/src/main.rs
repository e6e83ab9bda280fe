//! Lambda entry point: build the S3 and DynamoDB clients once, serve API requests.

use handler_support::{aws, config, Function, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let [table, bucket, cdn_domain] = config::required_all([
        "DYNAMODB_TABLE_GUITARS",
        "S3_BUCKET_IMAGES",
        "CLOUDFRONT_DOMAIN",
    ])?;
    let sdk = aws::config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(aws::local_endpoint())
            .build(),
    );
    let state = guitar_images::Images {
        s3,
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        table,
        bucket,
        cdn_domain,
        clock: Box::new(SystemClock),
    };
    handler_support::serve(Function::new(state).serves_http()).await
}
