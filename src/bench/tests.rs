//! The searches against a simulated device (a capacity in frames per second, a queue of
//! frames): no network, only the search logic.

use super::*;
use crate::event::Event;

/// A device forwarding up to `cap` frames per second and holding `queue` frames in bursts.
#[allow(clippy::type_complexity)]
fn device(
    cap: f64,
    queue: u64,
    trials: &mut u32,
) -> impl FnMut(
    usize,
    Option<f64>,
    Option<u64>,
    BenchTest,
    u32,
    &mut dyn FnMut(&Event),
) -> Option<TrialOutcome>
       + '_ {
    move |size, rate, burst, test, n, _| {
        *trials += 1;
        let secs = 10.0;
        let offered = rate.unwrap_or(cap * 3.0);
        let sent = match burst {
            Some(b) => b,
            None => (offered * secs) as u64,
        };
        let lost = match burst {
            Some(b) => b.saturating_sub(queue + (b as f64 * cap / offered) as u64),
            None => ((offered - cap).max(0.0) * secs) as u64,
        };
        Some(TrialOutcome {
            interrupted: false,
            trial: BenchTrial {
                test,
                frame_bytes: size,
                trial: n,
                rate_pps: rate,
                burst,
                achieved_pps: offered,
                sent,
                received: sent - lost,
                lost,
                loss_percent: 100.0 * lost as f64 / sent as f64,
                duplicates: 0,
                late: 0,
                out_of_order: 0,
                rtt_us: None,
                passed: lost == 0,
                error: None,
            },
        })
    }
}

fn req() -> BenchRequest {
    let mut r = BenchRequest::new(BlastRequest::new("203.0.113.2".parse().unwrap()));
    r.sizes = vec![64, 1518];
    r
}

#[test]
fn throughput_search_finds_the_capacity_within_the_precision() {
    let mut r = req();
    r.tests = vec![BenchTest::Throughput];
    let mut n = 0;
    let mut events = Vec::new();
    let (stopped, res) = bench_sizes(&r, &mut device(12_345.0, 0, &mut n), &mut |e| {
        events.push(e.clone())
    });
    assert!(!stopped);
    assert_eq!(res.len(), 2);
    for x in &res {
        assert!(
            x.rate_pps <= 12_345.0 && x.rate_pps >= 12_345.0 * 0.99,
            "{x:?}"
        );
        assert_eq!(x.rate_bps, wire_bps(x.rate_pps, x.frame_bytes));
    }
    // log2(3 / 0.01) ≈ 8.2: about 9 halvings after the first trial, per size.
    assert!(n <= 2 * 11, "{n} trials");
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::BenchStep(s) if s.low.is_some())));
}

#[test]
fn a_device_that_takes_everything_gives_the_sender_limit() {
    let mut r = req();
    r.tests = vec![BenchTest::Throughput];
    r.max_rate = MaxRate::Pps(1000.0);
    let mut n = 0;
    let (_, res) = bench_sizes(&r, &mut device(5000.0, 0, &mut n), &mut |_| {});
    assert_eq!(n, 2, "one trial per size");
    assert_eq!(res[0].rate_pps, 1000.0);
    assert!(
        !res[0].sender_limited,
        "the user's maximum, not the sender's"
    );
}

#[test]
fn a_sender_short_of_the_rate_asked_is_not_credited_with_it() {
    let mut r = req();
    r.sizes = vec![64];
    r.tests = vec![BenchTest::Throughput];
    r.max_rate = MaxRate::Pps(100_000.0);
    // The device takes 50 kpps, but the sender reaches only 30 kpps.
    let mut n = 0;
    let mut dev = device(50_000.0, 0, &mut n);
    let mut slow = |size, rate: Option<f64>, burst, test, n, ev: &mut dyn FnMut(&Event)| {
        let r = rate.map(|r| r.min(30_000.0));
        let mut t = dev(size, r, burst, test, n, ev)?;
        t.trial.rate_pps = rate;
        Some(t)
    };
    let (_, res) = bench_sizes(&r, &mut slow, &mut |_| {});
    assert_eq!(res[0].rate_pps, 30_000.0, "{res:?}");
    assert!(res[0].sender_limited);
}

#[test]
fn a_device_that_passes_nothing_ends_the_search_at_the_resolution() {
    let mut r = req();
    r.sizes = vec![64];
    r.tests = vec![BenchTest::Throughput];
    r.max_rate = MaxRate::Pps(1000.0);
    r.precision = Precision::Percent(25.0);
    let mut n = 0;
    let (_, res) = bench_sizes(&r, &mut device(0.0, 0, &mut n), &mut |_| {});
    assert_eq!(res[0].rate_pps, 0.0);
    // 1000, 500, 250 (= 25 % of the maximum): nothing passes.
    assert_eq!(n, 3);
}

#[test]
fn every_trial_gets_identifiers_no_earlier_trial_used() {
    // One thread: consecutive trials never share an identifier (an answer to an earlier
    // trial is not matched by a later one), across the wrap as well.
    let (mut next, mut seen) = (65530u16, Vec::new());
    for _ in 0..20 {
        let (id, n) = trial_id(next, 1);
        assert_ne!(id, 0);
        assert!(!seen.contains(&id), "{id} reused: {seen:?}");
        seen.push(id);
        next = n;
    }
    // Four threads use id .. id + 4: the ranges of consecutive trials do not overlap.
    let (a, n) = trial_id(100, 4);
    let (b, _) = trial_id(n, 4);
    assert_eq!((a, b), (100, 104));
    let (c, _) = trial_id(65533, 4);
    assert_eq!(c, 1, "65533 + 4 threads would run past 65535");
}

#[test]
fn pdr_is_a_second_search_above_ndr() {
    let mut r = req();
    r.sizes = vec![64];
    r.tests = vec![BenchTest::Throughput];
    r.pdr_percent = Some(10.0);
    let mut n = 0;
    let (_, res) = bench_sizes(&r, &mut device(10_000.0, 0, &mut n), &mut |_| {});
    assert_eq!(res.len(), 2);
    assert!(res[1].rate_pps > res[0].rate_pps * 1.05, "{res:?}");
    // 10 % loss of the offered rate: offered ≤ cap / 0.9.
    assert!(res[1].rate_pps <= 10_000.0 / 0.9 * 1.001, "{res:?}");
}

#[test]
fn frame_loss_steps_down_until_two_clean_trials() {
    let mut r = req();
    r.sizes = vec![64];
    r.tests = vec![BenchTest::FrameLoss];
    r.max_rate = MaxRate::Pps(10_000.0);
    let mut n = 0;
    let (_, res) = bench_sizes(&r, &mut device(7_500.0, 0, &mut n), &mut |_| {});
    let pcts: Vec<f64> = res.iter().map(|x| x.percent_of_max.unwrap()).collect();
    assert_eq!(pcts, [100.0, 90.0, 80.0, 70.0, 60.0]);
    assert!(res[0].loss_percent > 20.0 && res[4].loss_percent == 0.0);
}

#[test]
fn back_to_back_finds_the_queue() {
    let mut r = req();
    r.sizes = vec![64];
    r.tests = vec![BenchTest::BackToBack];
    r.max_rate = MaxRate::Pps(30_000.0);
    r.burst_max = Some(100_000);
    r.precision = Precision::Absolute(1.0);
    let mut n = 0;
    let (_, res) = bench_sizes(&r, &mut device(10_000.0, 500, &mut n), &mut |_| {});
    // A burst of b at 3x capacity: b/3 forwarded while it arrives, 500 queued.
    let b = res[0].burst.unwrap();
    assert!((745..=752).contains(&b), "{res:?}");
}

#[test]
fn bad_input_is_refused_naming_the_limit() {
    let mut r = req();
    r.sizes = vec![63];
    let e = validate(&r).unwrap_err();
    assert_eq!(e.field(), Some(Field::FrameSize));
    assert!(e.to_string().contains("64"), "{e}");
    r.sizes = vec![64];
    validate(&r).unwrap();
    for bad in [-1.0, 100.0, f64::NAN] {
        r.loss_percent = bad;
        assert_eq!(validate(&r).unwrap_err().field(), Some(Field::LossBound));
    }
    r.loss_percent = 1.0;
    r.pdr_percent = Some(0.5);
    assert_eq!(validate(&r).unwrap_err().field(), Some(Field::LossBound));
    r.pdr_percent = None;
    r.trial = Duration::ZERO;
    assert_eq!(validate(&r).unwrap_err().field(), Some(Field::Trial));
    r.trial = Duration::from_secs(1);
    for p in [
        Precision::Percent(0.0),
        Precision::Percent(100.0),
        Precision::Absolute(-1.0),
    ] {
        r.precision = p;
        assert_eq!(validate(&r).unwrap_err().field(), Some(Field::Precision));
    }
}

#[test]
fn merged_rtt_keeps_the_extremes_and_the_mean() {
    let a = RttStats {
        min: 10.0,
        avg: 20.0,
        max: 30.0,
        mdev: 0.0,
        percentiles: None,
    };
    let b = RttStats {
        min: 5.0,
        avg: 40.0,
        max: 90.0,
        mdev: 0.0,
        percentiles: None,
    };
    let m = merge_rtt(&[(1, a), (3, b)]).unwrap();
    assert_eq!((m.min, m.max), (5.0, 90.0));
    assert!((m.avg - 35.0).abs() < 1e-9);
    assert!((m.mdev - (0.25f64 * 15.0 * 15.0 + 0.75 * 5.0 * 5.0).sqrt()).abs() < 1e-9);
}
