//! IAM for what happens around an invocation: the destinations Lambda
//! sends asynchronous invocation records to (with the function's execution
//! role), and a fixed schedule's role (invoking its target, and sending to
//! its dead-letter queue).

use super::super::refs::{get_att, sub};
use super::super::Planner;
use super::{statement, DEAD_LETTER_KEY, DEAD_LETTER_SEND, INVOKE, PUBLISH, PUT_EVENTS};
use crate::kinds::{QUEUE, TOPIC};
use crate::model::{AsyncTarget, Function, Schedule};
use serde_json::{json, Value};

impl Planner<'_> {
    /// What function `f`'s role needs for its `async` destinations.
    ///
    /// Lambda sends an invocation record with the function's execution
    /// role: "Your function's execution role must have permission to
    /// write to the destination" — `sqs:SendMessage`, `sns:Publish`,
    /// `lambda:InvokeFunction`, `events:PutEvents` (AWS Lambda Developer
    /// Guide, "Capturing records of Lambda asynchronous invocations",
    /// invocation-async-retain-records.html); without the grant, creating
    /// the configuration fails ("The destination ARN … is invalid").
    /// Queues and topics are encrypted with the stack key, which the sender
    /// needs through the service that encrypts (`kms:GenerateDataKey`,
    /// `kms:Decrypt`; Amazon SQS Developer Guide, sqs-key-management.html;
    /// Amazon SNS Developer Guide, sns-key-management.html).
    pub(in crate::plan) fn async_destination_statements(&self, f: &Function) -> Vec<Value> {
        let Some(a) = &f.async_invocation else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (outcome, destination) in [("OnSuccess", &a.on_success), ("OnFailure", &a.on_failure)] {
            let Some(target) = destination.as_ref().and_then(|d| d.target()) else {
                continue;
            };
            match target {
                AsyncTarget::Queue(q) => {
                    let qid = QUEUE.logical_id(q);
                    out.push(statement(
                        &format!("Async{outcome}SendTo{qid}"),
                        &DEAD_LETTER_SEND,
                        vec![get_att(&qid, "Arn")],
                    ));
                    out.push(self.key_via(
                        &format!("UseStackKeyForAsync{outcome}Queue"),
                        &DEAD_LETTER_KEY,
                        "sqs",
                    ));
                }
                AsyncTarget::Topic(t) => {
                    let tid = TOPIC.logical_id(t);
                    out.push(statement(
                        &format!("Async{outcome}PublishTo{tid}"),
                        &PUBLISH,
                        vec![json!({ "Ref": tid })],
                    ));
                    out.push(self.key_via(
                        &format!("UseStackKeyForAsync{outcome}Topic"),
                        &DEAD_LETTER_KEY,
                        "sns",
                    ));
                }
                AsyncTarget::Function(target) => {
                    let fid = crate::kinds::FUNCTION.logical_id(target);
                    out.push(statement(
                        &format!("Async{outcome}Invoke{fid}"),
                        &INVOKE,
                        vec![sub(self.invoke_target_arn_sub(target))],
                    ));
                }
                // Custom buses are encrypted with an AWS owned key (the
                // template sets no KmsKeyIdentifier): PutEvents alone.
                AsyncTarget::EventBus(bus) => {
                    let bid = crate::kinds::EVENT_BUS.logical_id(bus);
                    out.push(statement(
                        &format!("Async{outcome}PutEventsOn{bid}"),
                        &PUT_EVENTS,
                        vec![get_att(&bid, "Arn")],
                    ));
                }
                // Granted with the function's other external uses.
                AsyncTarget::External(_) => {}
            }
        }
        out
    }

    /// The statements of the role fixed schedule `s` runs as: invoking its
    /// target and, with a dead-letter queue, sending to it — as a schedule
    /// group's role does for its queue
    /// ([`Self::schedule_group_statements`]).
    pub(in crate::plan) fn schedule_statements(&self, s: &Schedule, target: &Value) -> Vec<Value> {
        let mut out = vec![statement("InvokeTarget", &INVOKE, vec![target.clone()])];
        if let Some(queue) = &s.dead_letter {
            // Scheduler sends the dead-letter event with the schedule's
            // execution role (EventBridge Scheduler User Guide,
            // configuring-schedule-dlq.html), and the queue is encrypted
            // with the stack key (sqs-key-management.html).
            out.push(statement(
                "SendToDeadLetterQueue",
                &DEAD_LETTER_SEND,
                vec![get_att(&QUEUE.logical_id(queue), "Arn")],
            ));
            out.push(self.key_via("UseStackKeyForDeadLetterQueue", &DEAD_LETTER_KEY, "sqs"));
        }
        out
    }
}

#[cfg(test)]
mod tests;
