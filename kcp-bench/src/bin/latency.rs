//! The reference echo-latency scenario (see `kcp_bench::echo_scenario`), over
//! 20 seeds per mode, for ikcp's classic loss recovery and ours. Prints JSON.
//!
//! Usage: `latency [SEEDS]`

use kcp_bench::echo_scenario::{self, Breakdown, Mode, FAST, NORMAL};
use kcp_bench::json::{array, Object};
use kcp_core::Recovery;

/// Redundancy budgets (percent) shown beside the plain improved recovery.
const REDUNDANCY_ROWS: [u32; 3] = [50, 100, 200];

fn summarize(mode: &Mode, recovery: Recovery, seeds: u64) -> String {
    let runs: Vec<_> = (0..seeds)
        .map(|s| echo_scenario::run(mode, recovery, s))
        .collect();
    let n = runs.len() as f64;
    let mean = |f: &dyn Fn(&echo_scenario::RunResult) -> f64| runs.iter().map(f).sum::<f64>() / n;
    let b = |f: &dyn Fn(&Breakdown) -> f64| mean(&|r| f(&r.breakdown));
    Object::new()
        .str("mode", mode.name)
        .num("redundancy_percent", f64::from(mode.redundancy))
        .str(
            "recovery",
            if recovery == Recovery::Classic {
                "classic"
            } else {
                "improved"
            },
        )
        .num("seeds", n)
        .num("avg_rtt_ms", mean(&|r| r.avg_rtt))
        .num("mean_max_rtt_ms", mean(&|r| f64::from(r.max_rtt)))
        .num(
            "worst_max_rtt_ms",
            runs.iter().map(|r| r.max_rtt).max().unwrap_or(0) as f64,
        )
        .num("datagrams_first_endpoint", mean(&|r| r.datagrams_a as f64))
        .num("datagrams_second_endpoint", mean(&|r| r.datagrams_b as f64))
        .num("bytes", mean(&|r| r.bytes as f64))
        .num(
            "redundant_segments",
            mean(&|r| r.stats.iter().map(|s| s.redundant_segments).sum::<u64>() as f64),
        )
        .num("retransmits", mean(&|r| r.retransmits as f64))
        .num(
            "timeout_retransmits",
            mean(&|r| r.stats.iter().map(|s| s.timeout_retransmits).sum::<u64>() as f64),
        )
        .num(
            "fast_retransmits",
            mean(&|r| r.stats.iter().map(|s| s.fast_retransmits).sum::<u64>() as f64),
        )
        .num(
            "rack_retransmits",
            mean(&|r| r.stats.iter().map(|s| s.early_retransmits).sum::<u64>() as f64),
        )
        .raw(
            "avg_ms_by_cause",
            &Object::new()
                .num("network", b(&|x| x.network))
                .num("flush_wait", b(&|x| x.flush_wait))
                .num("recovery", b(&|x| x.recovery))
                .num("head_of_line", b(&|x| x.head_of_line))
                .finish(),
        )
        .finish()
}

fn main() {
    let seeds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rows = Vec::new();
    for mode in [FAST, NORMAL] {
        for recovery in [Recovery::Classic, Recovery::Improved] {
            rows.push(summarize(&mode, recovery, seeds));
        }
        // The improved recovery again with budgeted redundancy (issue 8).
        for redundancy in REDUNDANCY_ROWS {
            rows.push(summarize(
                &Mode { redundancy, ..mode },
                Recovery::Improved,
                seeds,
            ));
        }
    }
    println!(
        "{}",
        Object::new()
            .str("benchmark", "echo_latency")
            .raw("results", &array(&rows))
            .finish()
    );
}
