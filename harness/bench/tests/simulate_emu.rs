//! End to end: frames → the simulate client → `ovms-emu --can-simulate` → the Tesla Roadster
//! decoder → server v3 → a real mosquitto broker. And the bench "halt" of the CI rig: the
//! `ovms-emu` process frozen through the relay commands, the broker firing the will after
//! 1.5 × keepalive, checked with the wall-clock tolerance helpers. And the interval shortening
//! over server v3 commands (MQTT), with the resulting wall-clock cadence checked and the
//! module's values restored.
//!
//! `ovms-emu` is built once with `cargo build -p ovms-emu` (into this test's target directory, or
//! a nested one when the outer cargo still holds the build lock); `OVMS_EMU` overrides the path.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ovms_canlog::Frame;
use ovms_hil_bench::probe::{Probe, ShellPower};
use ovms_hil_bench::rig::PowerCommands;
use ovms_hil_bench::simulate::SimulateClient;
use ovms_hil_bench::tolerance;
use ovms_replay::ScheduledFrame;

// ------------------------------------------------------------------------------------------
// support
// ------------------------------------------------------------------------------------------

/// Lines of a child's stream with the wall-clock instant each arrived, collected on a thread.
#[derive(Clone, Default)]
struct Lines(Arc<(Mutex<Vec<Stamped>>, Condvar)>);

/// A line and when it arrived.
type Stamped = (Instant, String);

impl Lines {
    fn collect(stream: impl std::io::Read + Send + 'static) -> Lines {
        let lines = Lines::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let (m, c) = &*l.0;
                m.lock().unwrap().push((Instant::now(), line));
                c.notify_all();
            }
        });
        lines
    }

    fn wait_for(&self, what: &str, timeout: Duration) -> Result<String, String> {
        self.wait_for_at(what, timeout).map(|(_, l)| l)
    }

    /// The first line containing `what` and when it arrived.
    fn wait_for_at(&self, what: &str, timeout: Duration) -> Result<(Instant, String), String> {
        let deadline = Instant::now() + timeout;
        let (m, c) = &*self.0;
        let mut g = m.lock().unwrap();
        loop {
            if let Some(l) = g.iter().find(|(_, l)| l.contains(what)) {
                return Ok(l.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                let all: Vec<&str> = g.iter().map(|(_, l)| l.as_str()).collect();
                return Err(format!(
                    "timed out after {timeout:?} waiting for {what:?}; lines:\n{}",
                    all.join("\n")
                ));
            }
            g = c.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// When the last line containing `what` arrived, among lines that arrived before `before`.
    fn last_before(&self, what: &str, before: Instant) -> Option<Instant> {
        let g = self.0 .0.lock().unwrap();
        g.iter()
            .filter(|(t, l)| *t <= before && l.contains(what))
            .map(|(t, _)| *t)
            .next_back()
    }

    fn all(&self) -> String {
        let g = self.0 .0.lock().unwrap();
        g.iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A child process killed (by its own pid) on drop.
struct Proc {
    child: Child,
    stderr: Lines,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real mosquitto on a free loopback port.
struct Mosquitto {
    port: u16,
    _dir: tempfile::TempDir,
    _proc: Proc,
}

impl Mosquitto {
    fn start() -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).unwrap();
        writeln!(
            f,
            "per_listener_settings true\npersistence false\nlog_dest stderr\nlog_type all\n\
             connection_messages true\nlistener {port} 127.0.0.1\nallow_anonymous true"
        )
        .unwrap();
        drop(f);
        let mut child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto must be installed (ci installs it)");
        let stderr = Lines::collect(child.stderr.take().unwrap());
        let p = Proc { child, stderr };
        p.stderr
            .wait_for(" running", Duration::from_secs(10))
            .expect("mosquitto did not start");
        Mosquitto {
            port,
            _dir: dir,
            _proc: p,
        }
    }

    fn log(&self) -> &Lines {
        &self._proc.stderr
    }
}

/// The `ovms-emu` binary, located (or built) once.
fn emu_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        ovms_hil_bench::emu_binary::ovms_emu_binary(&root).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The emu's control channel (one command, one reply line; `metrics` adds N lines).
struct Control {
    r: BufReader<std::net::TcpStream>,
    w: std::net::TcpStream,
}

impl Control {
    fn connect(port: u16, timeout: Duration) -> Control {
        let deadline = Instant::now() + timeout;
        loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    return Control {
                        r: BufReader::new(s.try_clone().unwrap()),
                        w: s,
                    };
                }
                Err(e) if Instant::now() > deadline => panic!("control channel: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn cmd(&mut self, c: &str) -> String {
        writeln!(self.w, "{c}").unwrap();
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        let l = l.trim_end().to_string();
        assert!(l.starts_with("ok"), "control `{c}`: {l}");
        l
    }

    fn metric(&mut self, name: &str) -> Option<String> {
        let head = self.cmd(&format!("metrics {name}"));
        let n: usize = head.trim_start_matches("ok").trim().parse().unwrap();
        let mut found = None;
        for _ in 0..n {
            let mut l = String::new();
            self.r.read_line(&mut l).unwrap();
            if let Some(v) = l.trim_end().strip_prefix(&format!("{name} ")) {
                found = Some(v.to_string());
            }
        }
        found
    }
}

fn sub_retained(port: u16, topics: &[&str], timeout_s: u32) -> String {
    let mut cmd = Command::new("mosquitto_sub");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-C", "1", "-v"])
        .args(["-W", &timeout_s.to_string()]);
    for t in topics {
        cmd.args(["-t", t]);
    }
    let out = cmd.output().expect("mosquitto_sub");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Roadster 0x100 sub-type 0x80: SOC = d1 %, ideal range d2 + 256·d3 mi, est d6 + 256·d7 mi.
fn soc_frame(soc: u8) -> Frame {
    Frame::new(
        0,
        0,
        0x100,
        &[0x80, soc, 0xBB, 0x00, 0x64, 0x00, 0xAA, 0x00],
    )
}

fn at(ms: u64, frame: Frame) -> Result<ScheduledFrame, String> {
    Ok(ScheduledFrame {
        offset: Duration::from_millis(ms),
        pass: 0,
        frame,
    })
}

// ------------------------------------------------------------------------------------------
// tests
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roadster_soc_frames_reach_mqtt_through_the_simulate_server() {
    let emu = emu_binary();
    let broker = Mosquitto::start();
    let (ctl_port, sim_port) = (free_port(), free_port());
    let mut child = Command::new(emu)
        .args([
            "--broker",
            &format!("mqtt://127.0.0.1:{}", broker.port),
            "--vehicle-id",
            "SIMT",
            "--username",
            "hil",
            "--profile",
            "fw-3.3.006",
            "--vehicle",
            "tesla-roadster",
            "--clock",
            "virtual",
            "--control",
            &format!("127.0.0.1:{ctl_port}"),
            "--can-simulate",
            &format!("127.0.0.1:{sim_port}"),
            "--config",
            "updatetime.idle=1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Lines::collect(child.stderr.take().unwrap());
    let _emu = Proc {
        child,
        stderr: stderr.clone(),
    };
    let mut ctl =
        tokio::task::block_in_place(|| Control::connect(ctl_port, Duration::from_secs(20)));
    // Connected to the broker (the connect runs on the wall; module time moves only on advance).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ctl.cmd("status").contains("connected=yes") {
        assert!(
            Instant::now() < deadline,
            "module never connected:\n{}",
            stderr.all()
        );
        ctl.cmd("advance 1");
    }
    assert_eq!(ctl.metric("v.b.soc"), None, "no SOC before any frame");

    // Stream: an ignored ID, SOC 40, then SOC 57 (the last one wins), over the simulate server.
    let mut sim = SimulateClient::connect(&format!("127.0.0.1:{sim_port}"), Duration::from_secs(5))
        .await
        .unwrap();
    let schedule = vec![
        at(0, Frame::new(0, 0, 0x7E8, &[1, 2, 3])),
        at(0, soc_frame(40)),
        at(30, soc_frame(40)),
        at(60, soc_frame(57)),
    ];
    let stats = sim.play(schedule, 1.0).await.unwrap();
    assert_eq!(stats.frames, 4);
    assert!(stats.elapsed >= Duration::from_millis(60), "{stats:?}");
    sim.close().await.unwrap();

    // The decoder saw them (fed asynchronously by the emu's simulate server).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if ctl.metric("v.b.soc").as_deref() == Some("57") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "v.b.soc never became 57:\n{}",
            stderr.all()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stderr
        .wait_for("4 frames fed", Duration::from_secs(5))
        .expect("the simulate server reports the frames it fed");

    // A modified pass (updatetime.idle=1) publishes it; metrics are retained.
    ctl.cmd("advance 3");
    let got = tokio::task::block_in_place(|| {
        sub_retained(
            broker.port,
            &[
                "ovms/hil/SIMT/metric/v/b/soc",
                "ovms/hil/SIMT/metric/v.b.soc",
            ],
            10,
        )
    });
    assert!(
        got.ends_with(" 57"),
        "expected v.b.soc 57 on the broker, got {got:?}\nbroker log:\n{}",
        broker.log().all()
    );
    // The ideal range came from the same frame: 0xBB = 187 mi = 300.948 km.
    assert_eq!(ctl.metric("v.b.range.ideal").as_deref(), Some("300.948"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halting_the_module_through_the_relay_fires_the_will_after_the_keepalive() {
    // The CI rig's own power commands (rigs/bench-emu-process.yaml), with this test's broker
    // port, scratch files, binary and a 2 s keepalive: power on starts the wall-clock ovms-emu,
    // power off freezes it (SIGSTOP) like a halted core, reset kills and restarts it.
    let emu = emu_binary();
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("emu.pid");
    let log = dir.path().join("emu.log");
    let rig_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rigs/bench-emu-process.yaml");
    let rig = ovms_hil_bench::load_bench_rig(&rig_file).unwrap();
    assert_eq!(rig.module.keepalive_secs, Some(10));
    let adapt = |cmd: &str| {
        let out = cmd
            .replace("/tmp/ovms-hil-bench-emu.pid", &pid.display().to_string())
            .replace("/tmp/ovms-hil-bench-emu.log", &log.display().to_string())
            .replace("\"${OVMS_EMU:-ovms-emu}\"", &emu.display().to_string())
            .replace("127.0.0.1:18830", &format!("127.0.0.1:{}", broker.port))
            .replace("127.0.0.1:13000", &format!("127.0.0.1:{}", free_port()))
            .replace("--vehicle-id EMUBENCH", "--vehicle-id HALT")
            .replace("--keepalive 10", "--keepalive 2");
        assert_ne!(out, cmd);
        out
    };
    let cmds = rig.power.clone().expect("the CI rig has power commands");
    let mut power = ShellPower::new(PowerCommands {
        on: cmds.on.as_deref().map(adapt),
        off: cmds.off.as_deref().map(adapt),
        reset: cmds.reset.as_deref().map(adapt),
        timeout: cmds.timeout,
    });
    struct KillPid(PathBuf);
    impl Drop for KillPid {
        fn drop(&mut self) {
            if let Ok(p) = std::fs::read_to_string(&self.0) {
                let p = p.trim();
                let _ = Command::new("kill").args(["-CONT", p]).status();
                let _ = Command::new("kill").args(["-KILL", p]).status();
            }
        }
    }
    let _cleanup = KillPid(pid.clone());

    tokio::task::block_in_place(|| power.resume()).unwrap();
    broker
        .log()
        .wait_for(
            "New client connected from 127.0.0.1",
            Duration::from_secs(20),
        )
        .expect("the emu connects");
    // The module is alive: its connected flag is retained as yes.
    let yes = tokio::task::block_in_place(|| {
        sub_retained(broker.port, &["ovms/hil/HALT/metric/s/v3/connected"], 10)
    });
    assert!(yes.ends_with(" yes"), "{yes:?}");

    tokio::task::block_in_place(|| power.halt()).unwrap();
    let halted = Instant::now();
    // The broker cannot see the frozen process: the will comes when 1.5 × keepalive (3 s) passed
    // without a packet. Mosquitto checks in whole seconds (`now - last_in > 3`, once a second),
    // so it disconnects some 3 to 6 s after the last packet it received: the expected will delay
    // (1.5 × keepalive + 2 s) ± 2 s (slack for a loaded host).
    let (will_at, _) = tokio::task::block_in_place(|| {
        broker
            .log()
            .wait_for_at("exceeded timeout, disconnecting", Duration::from_secs(15))
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let last_in = broker
        .log()
        .last_before("from HALT", halted)
        .expect("the broker logged packets from the module before the halt");
    let silent = will_at.duration_since(last_in);
    eprintln!(
        "will {:?} after the last packet, {:?} after the halt",
        silent,
        will_at.duration_since(halted)
    );
    tolerance::check_expiry(
        "HALT will",
        silent,
        tolerance::expected_will_delay(2),
        Duration::from_secs(2),
    )
    .unwrap_or_else(|e| panic!("{e}\nbroker log:\n{}", broker.log().all()));
    assert!(
        will_at.duration_since(halted) >= Duration::from_millis(900),
        "the will came {:?} after the halt: the broker must not see a halted module go",
        will_at.duration_since(halted)
    );
    let no = tokio::task::block_in_place(|| {
        sub_retained(broker.port, &["ovms/hil/HALT/metric/s/v3/connected"], 10)
    });
    assert!(
        no.ends_with(" no"),
        "the will (retained `no`) is published: {no:?}"
    );

    // Reset (the rig's kill-and-restart): a new process connects and says yes again.
    tokio::task::block_in_place(|| power.reset()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = tokio::task::block_in_place(|| {
            sub_retained(broker.port, &["ovms/hil/HALT/metric/s/v3/connected"], 5)
        });
        if v.ends_with(" yes") {
            break;
        }
        assert!(Instant::now() < deadline, "no reconnect after reset: {v:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Server v3 commands over MQTT as app client `ovms-hil` (what the harness does on a bench).
struct MqttCommands {
    client: rumqttc::AsyncClient,
    prefix: String,
    next_id: u32,
    responses: tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
}

impl ovms_hil_bench::session::CommandSender for MqttCommands {
    fn send(
        &mut self,
        command: &str,
    ) -> impl std::future::Future<Output = Result<String, String>> + Send {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let topic = format!("{}client/ovms-hil/command/{id}", self.prefix);
        let command = command.to_string();
        async move {
            self.client
                .publish(
                    topic,
                    rumqttc::QoS::AtLeastOnce,
                    false,
                    command.into_bytes(),
                )
                .await
                .map_err(|e| e.to_string())?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::time::timeout_at(deadline, self.responses.recv()).await {
                    Ok(Some((rid, text))) if rid == id => return Ok(text),
                    Ok(Some(_)) => continue,
                    Ok(None) => return Err("observer gone".into()),
                    Err(_) => return Err(format!("no response to command {id}")),
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intervals_are_shortened_over_mqtt_commands_and_restored() {
    use ovms_hil_bench::session::{restore_intervals, shorten_intervals, CommandSender};
    let rig_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rigs/bench-emu-process.yaml");
    let rig = ovms_hil_bench::load_bench_rig(&rig_file).unwrap();
    let emu = emu_binary();
    let broker = Mosquitto::start();
    let sim_port = free_port();
    let mut child = Command::new(emu)
        .args([
            "--broker",
            &format!("mqtt://127.0.0.1:{}", broker.port),
            "--vehicle-id",
            "IVAL",
            "--username",
            "hil",
            "--profile",
            &rig.module.profile,
            "--vehicle",
            "tesla-roadster",
            "--can-simulate",
            &format!("127.0.0.1:{sim_port}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Lines::collect(child.stderr.take().unwrap());
    let _emu = Proc { child, stderr };
    let prefix = "ovms/hil/IVAL/".to_string();

    // The observer: command responses and v.b.soc publishes with their arrival instants.
    let mut opts = rumqttc::MqttOptions::new("bench-test-observer", "127.0.0.1", broker.port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 64);
    let (resp_tx, responses) = tokio::sync::mpsc::unbounded_channel();
    let (soc_tx, mut socs) = tokio::sync::mpsc::unbounded_channel::<(Instant, String)>();
    let (sub_tx, mut subacks) = tokio::sync::mpsc::unbounded_channel::<()>();
    let resp_prefix = format!("{prefix}client/ovms-hil/response/");
    let soc_topic = format!("{prefix}metric/v/b/soc");
    let observer = tokio::spawn(async move {
        while let Ok(ev) = events.poll().await {
            match ev {
                rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) => {
                    let text = String::from_utf8_lossy(&p.payload).to_string();
                    if let Some(id) = p.topic.strip_prefix(&resp_prefix) {
                        let _ = resp_tx.send((id.to_string(), text));
                    } else if p.topic == soc_topic {
                        let _ = soc_tx.send((Instant::now(), text));
                    }
                }
                rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) => {
                    let _ = sub_tx.send(());
                }
                _ => {}
            }
        }
    });
    for t in [
        format!("{prefix}client/ovms-hil/response/+"),
        format!("{prefix}metric/v/b/soc"),
    ] {
        client
            .subscribe(t, rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), subacks.recv())
            .await
            .expect("SUBACK")
            .unwrap();
    }
    // Past the connect: the SUBSCRIBE and the full pass run on the first tick after CONNACK
    // (a second chunk on the next); a SOC defined before that would go out with the full pass.
    broker
        .log()
        .wait_for("Received SUBSCRIBE from IVAL", Duration::from_secs(20))
        .expect("the module connects and subscribes");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    while socs.try_recv().is_ok() {}

    let mut sim = SimulateClient::connect(&format!("127.0.0.1:{sim_port}"), Duration::from_secs(5))
        .await
        .unwrap();
    // Default intervals (fw-3.3.006 idle 600 s): a new SOC is not published within 3.5 s.
    sim.send_frame(&soc_frame(40)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(
        socs.try_recv().is_err(),
        "v.b.soc published on default intervals"
    );

    let mut cmds = MqttCommands {
        client: client.clone(),
        prefix: prefix.clone(),
        next_id: 0,
        responses,
    };
    let plan = shorten_intervals(&rig, &mut cmds).await.unwrap();
    assert_eq!(plan.apply.len(), 5, "{plan:?}");
    assert_eq!(
        cmds.send("config get server.v3 updatetime.idle")
            .await
            .unwrap()
            .trim(),
        "2"
    );
    // Drain anything the commands themselves triggered (app-connected passes).
    tokio::time::sleep(Duration::from_millis(200)).await;
    while socs.try_recv().is_ok() {}

    // Now the SOC changes every 0.5 s and is published once per interval: 2 s, due when
    // `now > last + 2` on the 1-s ticker, so every 3 s on the wall clock.
    let t0 = Instant::now();
    let frames: Vec<_> = (0..18u64)
        .map(|i| at(i * 500, soc_frame(50 + i as u8)))
        .collect();
    sim.play(frames, 1.0).await.unwrap();
    // The last change (at 8.5 s) goes out with the pass after it.
    tokio::time::sleep_until((t0 + Duration::from_millis(10_500)).into()).await;
    let mut times = Vec::new();
    while let Ok((t, v)) = socs.try_recv() {
        assert!(v.parse::<u8>().is_ok_and(|s| (50..68).contains(&s)), "{v}");
        times.push(t);
    }
    assert!(times.len() >= 3, "publishes in 10.5 s: {}", times.len());
    tolerance::check_within(
        "first v.b.soc publish",
        times[0].duration_since(t0),
        Duration::from_secs(3),
        rig.tolerance.cadence,
    )
    .unwrap();
    let cadence = tolerance::check_cadence_instants(
        "v.b.soc",
        &times,
        Duration::from_secs(3),
        rig.tolerance.cadence,
    )
    .unwrap();
    eprintln!(
        "v.b.soc intervals on the wall clock: {:?}",
        cadence.intervals
    );

    restore_intervals(&plan, &mut cmds).await.unwrap();
    for (key, default) in [("idle", "600"), ("connected", "10"), ("on", "5")] {
        let v = cmds
            .send(&format!("config get server.v3 updatetime.{key}"))
            .await
            .unwrap();
        assert_eq!(v.trim(), default, "updatetime.{key} restored");
    }
    sim.close().await.unwrap();
    observer.abort();
}
