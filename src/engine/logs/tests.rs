use super::*;
use std::sync::Mutex;

fn event(group: &str, timestamp_ms: i64, id: &str) -> LogEvent {
    LogEvent {
        group: group.into(),
        stream: "s".into(),
        timestamp_ms,
        event_id: id.into(),
        message: format!("{group} {id}"),
    }
}

/// A scripted answer: a page, or the kind of error CloudWatch answers with.
type Answer = Result<Page, ErrorKind>;

/// Pages scripted per group, in order; records each call.
struct Scripted {
    pages: Mutex<HashMap<String, VecDeque<Answer>>>,
    calls: Mutex<Vec<(String, i64, Option<String>)>>,
}

impl Scripted {
    fn new(script: Vec<(&str, Vec<Answer>)>) -> Self {
        Scripted {
            pages: Mutex::new(
                script
                    .into_iter()
                    .map(|(g, p)| (g.to_string(), p.into_iter().collect()))
                    .collect(),
            ),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl LogReader for Scripted {
    async fn page(
        &self,
        group: &str,
        window: Window<'_>,
        token: Option<&str>,
    ) -> Result<Page, AwsError> {
        self.calls
            .lock()
            .unwrap()
            .push((group.into(), window.start_ms, token.map(String::from)));
        self.pages
            .lock()
            .unwrap()
            .get_mut(group)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| Ok(Page::default()))
            .map_err(|kind| AwsError::new(kind, "read", "scripted"))
    }
}

fn page(events: Vec<LogEvent>, next: Option<&str>) -> Answer {
    Ok(Page {
        events,
        next_token: next.map(String::from),
    })
}

async fn merge(reader: &Scripted, groups: &[(&str, i64)]) -> Vec<Found> {
    let mut found = Vec::new();
    merged_events(reader, groups, None, None, &mut |f| found.push(f))
        .await
        .unwrap();
    found
}

fn ids(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .map(|f| match f {
            Found::Event(e) => e.event_id.clone(),
            Found::MissingGroup(g) => format!("missing {g}"),
        })
        .collect()
}

#[tokio::test]
async fn groups_merge_in_time_order_across_pages_with_ties_by_group_order() {
    let reader = Scripted::new(vec![
        (
            "a",
            vec![
                page(vec![event("a", 1, "a1"), event("a", 5, "a5")], Some("t1")),
                page(vec![event("a", 7, "a7")], None),
            ],
        ),
        (
            "b",
            vec![page(
                vec![
                    event("b", 2, "b2"),
                    event("b", 5, "b5"),
                    event("b", 6, "b6"),
                ],
                None,
            )],
        ),
    ]);
    let found = merge(&reader, &[("a", 0), ("b", 0)]).await;
    assert_eq!(ids(&found), ["a1", "b2", "a5", "b5", "b6", "a7"]);
    // a's second page was asked for only after its first was printed.
    let calls = reader.calls.lock().unwrap();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2], ("a".to_string(), 0, Some("t1".to_string())));
}

#[tokio::test]
async fn empty_pages_with_a_token_are_read_through_and_a_missing_group_reported_once() {
    let reader = Scripted::new(vec![
        (
            "a",
            vec![
                page(vec![], Some("t1")),
                page(vec![], Some("t2")),
                page(vec![event("a", 3, "a3")], None),
            ],
        ),
        ("gone", vec![Err(ErrorKind::NotFound)]),
    ]);
    let found = merge(&reader, &[("a", 0), ("gone", 0)]).await;
    assert_eq!(ids(&found), ["missing gone", "a3"]);
}

#[tokio::test]
async fn other_errors_end_the_merge() {
    let reader = Scripted::new(vec![("a", vec![Err(ErrorKind::AccessDenied)])]);
    let result = merged_events(&reader, &[("a", 0)], None, None, &mut |_| {}).await;
    assert_eq!(result.unwrap_err().kind, ErrorKind::AccessDenied);
}

#[test]
fn earliest_prefers_the_first_group_on_equal_timestamps() {
    let (a, b) = (event("a", 5, "x"), event("b", 5, "y"));
    assert_eq!(earliest(&[None, Some(&b), Some(&a)]), Some(1));
    assert_eq!(earliest(&[None, None]), None);
    let c = event("c", 4, "z");
    assert_eq!(earliest(&[Some(&a), Some(&c)]), Some(1));
}

#[test]
fn following_neither_repeats_nor_drops_lines_of_one_millisecond() {
    let mut cursor = FollowCursor::new(1_000);
    // First poll: two lines in the same millisecond.
    assert!(cursor.admit(&event("a", 20_000, "e1")));
    assert!(cursor.admit(&event("a", 20_000, "e2")));
    cursor.prune();
    assert_eq!(cursor.next_start_ms(), 20_000 - FollowCursor::LOOKBACK_MS);
    // Next poll finds them again, plus a third of that millisecond.
    assert!(!cursor.admit(&event("a", 20_000, "e1")));
    assert!(!cursor.admit(&event("a", 20_000, "e2")));
    assert!(cursor.admit(&event("a", 20_000, "e3")));
    // A line that reached CloudWatch late, within the lookback, is printed once.
    assert!(cursor.admit(&event("a", 12_000, "late")));
    assert!(!cursor.admit(&event("a", 12_000, "late")));
    cursor.prune();
    assert_eq!(cursor.remembered(), 4);
    // Far later: what is behind the next start is forgotten, and not admitted.
    assert!(cursor.admit(&event("a", 60_000, "e9")));
    cursor.prune();
    assert_eq!(cursor.remembered(), 1);
    assert!(!cursor.admit(&event("a", 20_000, "e4")), "before the start");
}

#[test]
fn a_follow_never_starts_before_its_first_start() {
    let cursor = FollowCursor::new(1_000);
    assert_eq!(cursor.next_start_ms(), 1_000);
}

#[test]
fn polls_slow_down_with_many_groups() {
    assert_eq!(poll_interval(1), Duration::from_secs(2));
    assert_eq!(poll_interval(10), Duration::from_secs(4));
}

#[test]
fn live_tail_is_unavailable_by_kind_and_code_not_by_message() {
    let with = |kind, code: Option<&str>, status| {
        let mut e = AwsError::new(kind, "tail", "text that is never read");
        e.code = code.map(String::from);
        e.status = status;
        live_tail_unavailable(&e)
    };
    assert!(with(ErrorKind::Transport, None, None));
    assert!(with(ErrorKind::UnexpectedAnswer, None, Some(200)));
    assert!(with(
        ErrorKind::AccessDenied,
        Some("AccessDeniedException"),
        Some(400)
    ));
    assert!(with(
        ErrorKind::Service,
        Some("UnknownOperationException"),
        Some(400)
    ));
    assert!(with(
        ErrorKind::Service,
        Some("LimitExceededException"),
        Some(400)
    ));
    assert!(with(ErrorKind::NotFound, None, Some(404)));
    assert!(!with(
        ErrorKind::NotFound,
        Some("ResourceNotFoundException"),
        Some(400)
    ));
    assert!(!with(
        ErrorKind::ExpiredCredentials,
        Some("ExpiredToken"),
        Some(403)
    ));
    assert!(!with(
        ErrorKind::Throttled,
        Some("ThrottlingException"),
        Some(400)
    ));
}

#[test]
fn group_arns_both_ways() {
    let arn = log_group_arn("cn-north-1", "123456789012", "/aws/lambda/x");
    assert_eq!(
        arn,
        "arn:aws-cn:logs:cn-north-1:123456789012:log-group:/aws/lambda/x"
    );
    assert_eq!(group_of_arn(&arn), "/aws/lambda/x");
    assert_eq!(group_of_arn(&format!("{arn}:*")), "/aws/lambda/x");
    assert_eq!(group_of_arn("plain"), "plain");
}
