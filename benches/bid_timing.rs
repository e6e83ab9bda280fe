//! How close to the moment it was asked for the eBay sniper's bid executor
//! places a bid (issue 12): `ebay-sniper` deployed to the emulator with its
//! real packages, eBay and Postmark played by the local stand-in, as the
//! contract test sets it up (`tests/support/sniper.rs`). Each run is a fresh
//! bid made through the API (`stackctl local`) on an item whose end is then
//! moved a few seconds ahead; the executor is run with the bid schedule's
//! input (`stackctl local invoke`) as Scheduler would, waits on its own clock
//! and sends the proxy bid straight to the stand-in. The delay of a run is
//! the stand-in's arrival time of the bid request (`receivedAtMs`, taken as
//! soon as its headers are read) less the bid moment (end − lead).
//!
//! Run with
//! `cargo bench --features stackctl/tier-emulator --bench bid_timing --profile dev`
//! (`STACKCTL_BID_RUNS=N` for another number of runs than 50). The figure is
//! the executor's: it is the `lambda`-profile package `deploy` ships, whatever
//! cargo's profile; stackctl only starts it before the moment and answers its
//! AWS calls (none between the wait and the bid). The `dev` profile reuses the
//! contract test's build, where the `bench` profile would first build stackctl
//! and every dev-dependency with fat LTO (most of an hour on 2 cores) for the
//! same figures.
//!
//! Prints p50, p90, worst and mean, the least time the executor had left
//! before the moment (its look at the item, the last call before its wait),
//! and the load average before and after. Fails (non-zero exit) when a run
//! does not end PLACED with exactly one proxy bid, or when the executor
//! started after the moment it was to bid at (then the run measures
//! stackctl's start-up, not the executor's aim).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::Instant;
use support::sniper::{iam_denials, now_ms, World};
use support::standin::item_path;

const DEFAULT_RUNS: usize = 50;
const LEAD_SECONDS: u32 = 5;
/// The item is moved to end this long after now plus the lead: the time
/// `stackctl local invoke` and the executor's reads before the wait take
/// (well under a second), with room to spare on a loaded machine.
const MARGIN_MS: u64 = 4_000;
const REFRESH: &str = "v^1.1#i^1#f^0#p^3#r^1#I^3#t^bench-refresh";

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(bench()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nbid timing benchmark FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The value at `fraction` of the sorted values (nearest rank).
fn percentile(sorted: &[i64], fraction: f64) -> i64 {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn bench() -> Result<(), String> {
    let runs: usize = std::env::var("STACKCTL_BID_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load_before = load();
    eprintln!("{cores} cores, load average {load_before} (1, 5, 15 min) before the deploy");
    let started = Instant::now();
    let world = World::deploy().await;
    eprintln!("deployed in {:?}", started.elapsed());
    let user = world.user("bencher", "bencher@example.com").await;
    world.standin.post(
        "refresh_tokens",
        json!({"refreshToken": REFRESH, "userId": "bench-ebay", "clientId": support::sniper::APP_ID}),
    );
    let local = world.local("bench");
    let token = Some(user.id_token.as_str());
    let linked = local.call(
        "PUT",
        "/ebay-account",
        token,
        Some(json!({"refreshToken": REFRESH})),
    );
    if linked.status != 200 {
        return Err(format!("linking the eBay account: {linked:?}"));
    }

    let load_start = load();
    let mut delays = Vec::new();
    let mut slack = Vec::new();
    let mut warm = 0;
    let mut problems = Vec::new();
    let runs_started = Instant::now();
    for run in 0..runs {
        let item_id = format!("v1|2205519{run:05}|0");
        let item = json!({"itemId": item_id, "title": format!("Bench item {run}"),
                          "currency": "USD", "currentPrice": "10.00"});
        let mut registered = item.clone();
        registered["endTime"] = json!(now_ms() + 240_000);
        world.standin.item(registered);
        let made = local.call(
            "POST",
            "/bids",
            token,
            Some(
                json!({"itemId": item_id, "maxAmount": {"value": "50.00", "currency": "USD"},
                        "leadSeconds": LEAD_SECONDS}),
            ),
        );
        let Some(bid_id) = made.data()["bidId"].as_str().map(String::from) else {
            return Err(format!("run {run}: POST /bids: {made:?}"));
        };
        let input = json!({"userId": user.sub, "bidId": bid_id});

        let end_ms = now_ms() + u64::from(LEAD_SECONDS) * 1000 + MARGIN_MS;
        let moment_ms = end_ms - u64::from(LEAD_SECONDS) * 1000;
        let mut moved = item.clone();
        moved["endTime"] = json!(end_ms);
        world.standin.item(moved);
        let fired = world.invoke(&input);

        let path = item_path(&item_id);
        let on_item = |operation: &str| -> Vec<Value> {
            world
                .standin
                .requests(Some(operation))
                .into_iter()
                .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(&path)))
                .collect()
        };
        let bids = on_item("bid");
        let accepted = world
            .standin
            .bids()
            .iter()
            .filter(|b| b["itemId"] == json!(item_id))
            .count();
        let denials = iam_denials(&fired.stderr);
        if fired.result() != "PLACED" || accepted != 1 || !denials.is_empty() {
            problems.push(format!(
                "run {run}: {} with {accepted} proxy bid(s), denials {denials:?}\n{}",
                fired.stdout, fired.stderr
            ));
            continue;
        }
        let arrived = bids[0]["receivedAtMs"].as_i64().unwrap_or_default();
        delays.push(arrived - moment_ms as i64);
        // The executor's look at the item is its last call before the wait.
        let look = on_item("item").last().cloned().unwrap_or_default();
        let looked = look["receivedAtMs"].as_i64().unwrap_or_default();
        // The bid on the connection that look opened: no handshake to pay.
        warm += usize::from(look["connection"] == bids[0]["connection"]);
        let left = moment_ms as i64 - looked;
        slack.push(left);
        if left <= 0 {
            problems.push(format!(
                "run {run}: the executor looked at the item {} ms after the moment: it started \
                 too late for the run to measure its aim (raise MARGIN_MS)",
                -left
            ));
        }
        eprintln!(
            "run {run:>2}: delay {:>4} ms, {left:>5} ms to spare, {:.1} s",
            arrived - moment_ms as i64,
            fired.took.as_secs_f64()
        );
    }
    let runs_took = runs_started.elapsed();
    let load_after = load();
    let session = local.stop();
    let denied = iam_denials(&session);
    if !denied.is_empty() {
        problems.push(format!("the API's calls denied by IAM: {denied:?}"));
    }
    if delays.is_empty() {
        return Err(problems.join("\n"));
    }

    let mut sorted = delays.clone();
    sorted.sort_unstable();
    let mean = delays.iter().sum::<i64>() as f64 / delays.len() as f64;
    slack.sort_unstable();
    eprintln!();
    eprintln!(
        "bid executor, delay of the bid's arrival at eBay (stand-in) after the bid moment, \
         {} runs in {runs_took:.0?}:",
        delays.len()
    );
    eprintln!(
        "  p50 {} ms, p90 {} ms, worst {} ms, mean {mean:.1} ms (best {} ms)",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.9),
        sorted[sorted.len() - 1],
        sorted[0]
    );
    eprintln!(
        "  time the executor had to spare before the moment: least {} ms, median {} ms; \
         {warm} of {} bids sent on the connection of the executor's look at the item",
        slack[0],
        percentile(&slack, 0.5),
        delays.len()
    );
    eprintln!(
        "  load average (1, 5, 15 min): {load_start} at the first run, {load_after} after the \
         last; {cores} cores"
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
