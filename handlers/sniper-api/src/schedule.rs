//! A bid's one-time EventBridge Scheduler schedule: `at()` its fire time
//! in UTC, no flexible window, deleted once it has fired, invoking the
//! executor with the bid's key; retried briefly, then dead-lettered.

use crate::aws_errors::{aws_failure, error_text};
use crate::Api;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, ScheduleState, Target,
};
use handler_support::clock::rfc3339;
use handler_support::ApiError;
use sniper_shared::bids::{fire_at_ms, schedule_input, Bid};
use sniper_shared::Code;

/// Retries of a failed invocation of the executor.
const RETRY_ATTEMPTS: i32 = 3;
/// After the bid moment a delivery is useless, and the schedule fires two
/// minutes ahead of it: retries stop after that. 60 s is Scheduler's
/// minimum.
const EVENT_AGE_LIMIT_S: i32 = 120;

/// What a schedule is made of: `CreateSchedule` and `UpdateSchedule`
/// (which replaces the whole definition) send the same.
struct Definition {
    expression: String,
    description: String,
    window: FlexibleTimeWindow,
    target: Target,
}

impl Api {
    fn definition(&self, bid: &Bid) -> Result<Definition, ApiError> {
        let built = |e: aws_sdk_scheduler::error::BuildError| {
            ApiError::internal(format!("a schedule's definition is incomplete: {e}"))
        };
        let target = Target::builder()
            .arn(&self.settings.bid_executor_arn)
            .role_arn(&self.settings.scheduler_role_arn)
            .input(schedule_input(&bid.user_id, &bid.bid_id).to_string())
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(RETRY_ATTEMPTS)
                    .maximum_event_age_in_seconds(EVENT_AGE_LIMIT_S)
                    .build(),
            )
            .dead_letter_config(
                DeadLetterConfig::builder()
                    .arn(&self.settings.schedule_dead_letter_arn)
                    .build(),
            )
            .build()
            .map_err(built)?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(built)?;
        Ok(Definition {
            expression: at_expression(fire_at_ms(bid.bid_at_ms())),
            description: format!(
                "Sniper bid {}: at most {} {} on eBay item {}, {} s before the auction ends",
                bid.bid_id,
                bid.max_amount.value,
                bid.max_amount.currency,
                bid.item_id,
                bid.lead_seconds
            ),
            window,
            target,
        })
    }

    /// Creates the bid's schedule. The bid id is the client token, so a
    /// repeated request creates it once.
    pub(crate) async fn create_schedule(&self, bid: &Bid) -> Result<(), ApiError> {
        let definition = self.definition(bid)?;
        self.scheduler
            .create_schedule()
            .name(&bid.schedule_name)
            .group_name(&self.settings.schedule_group)
            .schedule_expression(definition.expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(definition.window)
            .target(definition.target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .state(ScheduleState::Enabled)
            .description(definition.description)
            .client_token(&bid.bid_id)
            .send()
            .await
            .map_err(|e| aws_failure("creating the bid's schedule", &e))?;
        Ok(())
    }

    /// Moves the schedule to the bid's (new) fire time. A schedule that is
    /// gone has fired (and deleted itself): the bid is being executed.
    pub(crate) async fn move_schedule(&self, bid: &Bid) -> Result<(), ApiError> {
        let definition = self.definition(bid)?;
        let result = self
            .scheduler
            .update_schedule()
            .name(&bid.schedule_name)
            .group_name(&self.settings.schedule_group)
            .schedule_expression(definition.expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(definition.window)
            .target(definition.target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .state(ScheduleState::Enabled)
            .description(definition.description)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Err(ApiError::new(
                    Code::BidNotEditable,
                    "The bid's schedule has fired: the bid is being placed and can no longer change",
                )
                .with_details(serde_json::json!({"status": bid.status})))
            }
            Err(e) => Err(aws_failure("moving the bid's schedule", &e)),
        }
    }

    /// Deletes the bid's schedule; one already gone (fired, or deleted by
    /// an earlier attempt) is fine. The error, if any, is for the log.
    pub(crate) async fn delete_schedule(&self, bid: &Bid) -> Result<(), String> {
        let result = self
            .scheduler
            .delete_schedule()
            .name(&bid.schedule_name)
            .group_name(&self.settings.schedule_group)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(error_text(&e)),
        }
    }
}

/// `at(2026-11-25T17:57:55)`: Scheduler's one-time expression, in the
/// schedule's time zone (UTC), whole seconds.
pub fn at_expression(fire_at_ms: u64) -> String {
    let time = rfc3339(fire_at_ms / 1000);
    format!("at({})", time.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_expressions_are_utc_without_zone() {
        assert_eq!(at_expression(1_795_403_945_999), "at(2026-11-23T03:19:05)");
    }
}
