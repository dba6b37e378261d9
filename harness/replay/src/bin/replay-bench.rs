//! Replay benchmarks (see ci/bench-replay.sh).
//!
//! ```text
//! replay-bench wall    --rate 4000 --seconds 60 [--sink null|collect|socketcan:IFACE] [--spin-us 200] [--record]
//!                      [--realtime [PRIO]]   (SCHED_FIFO + mlockall for the replay thread; needs root)
//! replay-bench virtual [--log PATH] [--loops N] [--sink null|channel]
//! replay-bench gen-candump --rate 4000 --seconds 10 --out FILE      (a log for canplayer)
//! replay-bench record  --iface vcan0 --frames N --rate 4000         (kernel-timestamp lateness of any player)
//! ```
//! Every result is one line starting with `BENCH`, `key=value` separated.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ovms_canlog::{Frame, ReadOptions};
use ovms_replay::{
    channel_sink, Clock, CollectingSink, LatenessHistogram, LogFileSource, Loops, NullSink, Replay,
    ReplayOptions, ReplayStats, SystemWallClock, VecSource,
};

type Res<T> = Result<T, String>;

/// `--key value` pairs and bare `--flag`s.
struct Args(HashMap<String, String>);

impl Args {
    fn parse(args: &[String]) -> Res<Self> {
        let mut map = HashMap::new();
        let mut it = args.iter().peekable();
        while let Some(a) = it.next() {
            let key = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().cloned().unwrap_or_default(),
                _ => String::from("true"),
            };
            map.insert(key.to_string(), value);
        }
        Ok(Args(map))
    }

    fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> Res<T> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key}: bad value {v:?}")),
        }
    }

    #[cfg_attr(not(feature = "socketcan"), allow(dead_code))]
    fn flag(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// `n` classic frames at exactly `rate` frames/s (ids cycle over 0x100..0x140, 8 data bytes).
fn synthetic(rate: f64, n: u64) -> Vec<Frame> {
    (0..n)
        .map(|i| {
            let ts = (i as f64 * 1e9 / rate).round() as i64;
            let id = 0x100 + (i % 64) as u32;
            Frame::new(ts, 0, id, &i.to_le_bytes())
        })
        .collect()
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_nanos() as f64 / 1e3)
}

fn report(name: &str, h: &LatenessHistogram, extra: &str) {
    println!(
        "BENCH {name} samples={} p50_us={} p99_us={} max_us={} mean_us={}{extra}",
        h.count(),
        us(h.p50()),
        us(h.p99()),
        us(h.max()),
        us(h.mean())
    );
}

fn wall(a: &Args) -> Res<()> {
    let rate: f64 = a.get("rate", 4000.0)?;
    let seconds: f64 = a.get("seconds", 60.0)?;
    let spin = Duration::from_micros(a.get("spin-us", 200u64)?);
    let sink_name = a.text("sink").unwrap_or("null").to_string();
    let n = (rate * seconds).round() as u64;
    let realtime = match a.text("realtime") {
        None => String::new(),
        Some(p) => {
            let prio = if p == "true" {
                ovms_replay::priority::DEFAULT_PRIORITY
            } else {
                p.parse()
                    .map_err(|_| format!("--realtime: bad priority {p:?}"))?
            };
            let rt = ovms_replay::priority::enter_realtime(prio)?;
            if let Some(e) = &rt.memory_lock_error {
                eprintln!("replay-bench: memory not locked: {e}");
            }
            format!(" realtime=fifo:{}", rt.priority)
        }
    };
    let opts = ReplayOptions {
        clock: Clock::Wall { speed: 1.0 },
        ..Default::default()
    };
    let replay =
        Replay::new(VecSource::new(synthetic(rate, n)), opts).map_err(|e| e.to_string())?;
    let mut clock = SystemWallClock::new(spin);
    let stats: ReplayStats = match sink_name.as_str() {
        "null" => replay
            .run_with_clock(&mut NullSink::default(), &mut clock)
            .map_err(|e| e.to_string())?,
        "collect" => replay
            .run_with_clock(&mut CollectingSink::default(), &mut clock)
            .map_err(|e| e.to_string())?,
        s if s.starts_with("socketcan:") => {
            return wall_socketcan(replay, &mut clock, &s["socketcan:".len()..], a, rate, n)
        }
        other => return Err(format!("unknown sink {other:?}")),
    };
    report(
        &format!("wall sink={sink_name}"),
        &stats.lateness,
        &format!(
            " rate={rate} seconds={seconds} frames={} elapsed_s={:.3}{realtime}",
            stats.frames_sent,
            stats.elapsed.as_secs_f64()
        ),
    );
    Ok(())
}

#[cfg(feature = "socketcan")]
fn wall_socketcan(
    replay: Replay<VecSource>,
    clock: &mut SystemWallClock,
    iface: &str,
    a: &Args,
    rate: f64,
    n: u64,
) -> Res<()> {
    use ovms_replay::socketcan::{create_vcan, SocketCanSink, SocketCanSource};
    if a.flag("create-vcan") {
        create_vcan(iface).map_err(|e| e.to_string())?;
    }
    let recorder = if a.flag("record") {
        let src = SocketCanSource::open(iface, 0).map_err(|e| e.to_string())?;
        src.set_receive_buffer(64 << 20)
            .map_err(|e| e.to_string())?;
        src.set_idle_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        Some(std::thread::spawn(move || {
            src.take(n as usize)
                .map_while(Result::ok)
                .collect::<Vec<Frame>>()
        }))
    } else {
        None
    };
    let mut sink = SocketCanSink::open(iface).map_err(|e| e.to_string())?;
    let stats = replay
        .run_with_clock(&mut sink, clock)
        .map_err(|e| e.to_string())?;
    report(
        &format!("wall sink=socketcan:{iface} measured=dispatch"),
        &stats.lateness,
        &format!(
            " rate={rate} frames={} enobufs_retries={}",
            stats.frames_sent,
            sink.enobufs_retries()
        ),
    );
    if let Some(rec) = recorder {
        let got = rec.join().map_err(|_| "recorder panicked".to_string())?;
        let h = kernel_lateness(&got, rate);
        report(
            &format!("wall sink=socketcan:{iface} measured=kernel-rx player=ovms-replay"),
            &h,
            &format!(" rate={rate} frames_recorded={} of={n}", got.len()),
        );
    }
    Ok(())
}

#[cfg(not(feature = "socketcan"))]
fn wall_socketcan(
    _: Replay<VecSource>,
    _: &mut SystemWallClock,
    _: &str,
    _: &Args,
    _: f64,
    _: u64,
) -> Res<()> {
    Err("built without the socketcan feature".into())
}

/// |(ts_i − ts_0) − i/rate| over recorded frames (kernel receive timestamps).
#[cfg_attr(not(feature = "socketcan"), allow(dead_code))]
fn kernel_lateness(frames: &[Frame], rate: f64) -> LatenessHistogram {
    let mut h = LatenessHistogram::new();
    if let Some(first) = frames.first() {
        for (i, f) in frames.iter().enumerate() {
            let actual = (f.ts_ns - first.ts_ns) as f64;
            let ideal = i as f64 * 1e9 / rate;
            h.record(Duration::from_nanos((actual - ideal).abs() as u64));
        }
    }
    h
}

fn virtual_throughput(a: &Args) -> Res<()> {
    let loops: u32 = a.get("loops", 20)?;
    let sink_name = a.text("sink").unwrap_or("null");
    let opts = ReplayOptions {
        loops: Loops::Times(loops),
        ..Default::default()
    };
    let started = Instant::now();
    let (what, stats) = match a.text("log") {
        Some(path) => {
            let r = Replay::new(LogFileSource::new(path, ReadOptions::default()), opts)
                .map_err(|e| e.to_string())?;
            (format!("log={path}"), run_virtual(r, sink_name)?)
        }
        None => {
            let n: u64 = a.get("frames", 1_000_000)?;
            let r = Replay::new(VecSource::new(synthetic(4000.0, n)), opts)
                .map_err(|e| e.to_string())?;
            (format!("synthetic={n}"), run_virtual(r, sink_name)?)
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "BENCH virtual {what} sink={sink_name} loops={loops} frames={} seconds={secs:.3} frames_per_s={:.0}",
        stats.frames_sent,
        stats.frames_sent as f64 / secs
    );
    Ok(())
}

fn run_virtual<S: ovms_replay::FrameSource>(r: Replay<S>, sink: &str) -> Res<ReplayStats> {
    match sink {
        "null" => r.run(&mut NullSink::default()).map_err(|e| e.to_string()),
        "channel" => {
            let (mut tx, mut rx) = channel_sink(1024);
            let consumer = std::thread::spawn(move || {
                let mut n = 0u64;
                while rx.blocking_recv().is_some() {
                    n += 1;
                }
                n
            });
            let stats = r.run(&mut tx).map_err(|e| e.to_string());
            drop(tx);
            let got = consumer
                .join()
                .map_err(|_| "consumer panicked".to_string())?;
            let stats = stats?;
            if got != stats.frames_sent {
                return Err(format!("consumer got {got} of {}", stats.frames_sent));
            }
            Ok(stats)
        }
        other => Err(format!("unknown sink {other:?}")),
    }
}

fn gen_candump(a: &Args) -> Res<()> {
    use std::io::Write;
    let rate: f64 = a.get("rate", 4000.0)?;
    let seconds: f64 = a.get("seconds", 10.0)?;
    let out = a.text("out").ok_or("--out FILE is required")?;
    let iface = a.text("iface").unwrap_or("vcan0");
    let file = std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?;
    let mut w = std::io::BufWriter::new(file);
    for f in synthetic(rate, (rate * seconds).round() as u64) {
        let data: String = f.data.iter().map(|b| format!("{b:02X}")).collect();
        let (s, ns) = (f.ts_ns / 1_000_000_000, f.ts_ns % 1_000_000_000);
        writeln!(w, "({s}.{:06}) {iface} {:03X}#{data}", ns / 1000, f.id)
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

#[cfg(feature = "socketcan")]
fn record(a: &Args) -> Res<()> {
    use ovms_replay::socketcan::{create_vcan, SocketCanSource};
    let iface = a.text("iface").unwrap_or("vcan0");
    let rate: f64 = a.get("rate", 4000.0)?;
    let frames: usize = a.get("frames", 40_000)?;
    let player = a.text("player").unwrap_or("external");
    if a.flag("create-vcan") {
        create_vcan(iface).map_err(|e| e.to_string())?;
    }
    let src = SocketCanSource::open(iface, 0).map_err(|e| e.to_string())?;
    src.set_receive_buffer(64 << 20)
        .map_err(|e| e.to_string())?;
    src.set_idle_timeout(Some(Duration::from_secs(a.get("timeout", 5u64)?)))
        .map_err(|e| e.to_string())?;
    println!("BENCH-RECORDER ready iface={iface}");
    let got: Vec<Frame> = src.take(frames).map_while(Result::ok).collect();
    let h = kernel_lateness(&got, rate);
    report(
        &format!("record iface={iface} measured=kernel-rx player={player}"),
        &h,
        &format!(" rate={rate} frames_recorded={} of={frames}", got.len()),
    );
    Ok(())
}

#[cfg(not(feature = "socketcan"))]
fn record(_: &Args) -> Res<()> {
    Err("built without the socketcan feature".into())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("usage: replay-bench wall|virtual|gen-candump|record [--options]");
        return ExitCode::from(2);
    };
    let result = Args::parse(rest).and_then(|a| match cmd.as_str() {
        "wall" => wall(&a),
        "virtual" => virtual_throughput(&a),
        "gen-candump" => gen_candump(&a),
        "record" => record(&a),
        other => Err(format!("unknown command {other:?}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replay-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
