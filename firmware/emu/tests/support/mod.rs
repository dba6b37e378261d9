//! Test support: a real `mosquitto` process on a free loopback port, the built `ovms-emu`
//! binary as a child process, and rumqttc observers. Everything waits on a condition with a
//! deadline; nothing sleeps for a fixed time to let things happen.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ovms_firmware::profile::{MessageKind, Profile, TopicVars};

/// Lines a child process wrote to stderr, shared with a reader thread.
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Lines {
    /// Collect `stream` line by line on a thread.
    pub fn collect(stream: impl std::io::Read + Send + 'static, echo: &'static str) -> Lines {
        let lines = Lines::default();
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if std::env::var_os("OVMS_TEST_ECHO").is_some() {
                    eprintln!("[{echo}] {line}");
                }
                let (m, c) = &*l.0;
                m.lock().unwrap().push(line);
                c.notify_all();
            }
        });
        lines
    }

    /// Wait until a line satisfies `pred`; returns it.
    pub fn wait(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        let (m, c) = &*self.0;
        let mut g = m.lock().unwrap();
        loop {
            if let Some(l) = g.iter().find(|l| pred(l)) {
                return l.clone();
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; lines so far:\n{}",
                    g.join("\n")
                );
            }
            g = c.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Wait for a line containing `s`.
    pub fn wait_for(&self, s: &str, timeout: Duration) -> String {
        self.wait(&format!("{s:?}"), timeout, |l| l.contains(s))
    }

    /// A copy of every line so far.
    pub fn all(&self) -> Vec<String> {
        self.0 .0.lock().unwrap().clone()
    }
}

/// A free loopback port (bound and released; the caller binds it again at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("ovms-emu-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A mosquitto broker process (`log_type all`, so ingress flags are in its log).
pub struct Mosquitto {
    pub port: u16,
    child: Child,
    pub log: Lines,
    _dir: TempDir,
}

impl Mosquitto {
    /// Start on a free port (retrying with another port if one was taken meanwhile).
    pub fn start() -> Mosquitto {
        let mut last = String::new();
        for _ in 0..5 {
            match Mosquitto::try_start_on(free_port(), "") {
                Ok(m) => return m,
                Err(e) => last = e,
            }
        }
        panic!("mosquitto failed to start: {last}");
    }

    /// Start on `port`, with `extra` config lines appended (e.g. a TLS listener).
    pub fn start_on(port: u16, extra: &str) -> Mosquitto {
        Mosquitto::try_start_on(port, extra)
            .unwrap_or_else(|e| panic!("mosquitto failed to start: {e}"))
    }

    fn try_start_on(port: u16, extra: &str) -> Result<Mosquitto, String> {
        let dir = TempDir::new("mosquitto");
        let conf = dir.0.join("mosquitto.conf");
        let mut text = format!(
            "per_listener_settings true\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\nconnection_messages true\n"
        );
        if is_root() {
            text.push_str("user root\n");
        }
        text.push_str(extra);
        std::fs::write(&conf, text).unwrap();
        let mut child = Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto is installed at /usr/sbin/mosquitto");
        let log = Lines::collect(child.stderr.take().unwrap(), "mosquitto");
        log.wait("mosquitto running", Duration::from_secs(10), |l| {
            (l.contains("mosquitto version") && l.contains("running")) || l.contains("Error")
        });
        if let Some(e) = log.all().iter().find(|l| l.contains("Error")) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.clone());
        }
        Ok(Mosquitto {
            port,
            child,
            log,
            _dir: dir,
        })
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    // SAFETY-free check: root's home or uid via /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The `ovms-emu` binary as a child process.
pub struct Emu {
    pub child: Child,
    pub stderr: Lines,
}

impl Emu {
    /// Start the built binary with `args` (stdin null, stderr collected).
    pub fn start(args: &[&str]) -> Emu {
        Emu::start_env(args, &[])
    }

    /// As [`Emu::start`], with extra environment variables.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Emu {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ovms-emu"));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env_remove("OVMS_PASSWORD");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = Lines::collect(child.stderr.take().unwrap(), "ovms-emu");
        Emu { child, stderr }
    }

    /// Wait for the first CONNACK.
    pub fn wait_connected(&self) {
        self.stderr
            .wait_for("connected to broker", Duration::from_secs(10));
    }

    /// The address the control channel bound (from the log line).
    pub fn control_addr(&self) -> String {
        let l = self
            .stderr
            .wait_for("control channel listening on ", Duration::from_secs(10));
        l.rsplit(' ').next().unwrap().to_string()
    }

    /// SIGKILL: no cleanup at all (a power cut).
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Send `sig` and wait for the exit code.
    pub fn signal_and_wait(&mut self, sig: &str) -> Option<i32> {
        // The shell's built-in kill: no procps needed.
        let st = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{sig} {}", self.child.id()))
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(
                Instant::now() < deadline,
                "ovms-emu did not exit after SIG{sig}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait for the process to exit by itself; its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(Instant::now() < deadline, "ovms-emu did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A synchronous client of the control channel.
pub struct Control {
    reader: BufReader<std::net::TcpStream>,
    writer: std::net::TcpStream,
}

impl Control {
    pub fn connect(addr: &str) -> Control {
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        Control {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    /// Send one command line; the first reply line.
    pub fn cmd(&mut self, line: &str) -> String {
        writeln!(self.writer, "{line}").unwrap();
        self.read_line()
    }

    /// Send a command that must answer `ok...`; the text after `ok`.
    pub fn ok(&mut self, line: &str) -> String {
        let r = self.cmd(line);
        assert!(r.starts_with("ok"), "{line:?} answered {r:?}");
        r[2..].trim().to_string()
    }

    pub fn read_line(&mut self) -> String {
        let mut s = String::new();
        self.reader.read_line(&mut s).unwrap();
        s.trim_end_matches('\n').to_string()
    }

    /// `metrics FILTER` as a map.
    pub fn metrics(&mut self, filter: &str) -> std::collections::BTreeMap<String, String> {
        let n: usize = self.ok(&format!("metrics {filter}")).parse().unwrap();
        (0..n)
            .map(|_| {
                let l = self.read_line();
                let (k, v) = l.split_once(' ').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }
}

/// The profile's topic for `kind` with the default prefix for `user` / `vehicle`.
pub fn topic(
    profile: &str,
    kind: MessageKind,
    user: &str,
    vehicle: &str,
    vars: &TopicVars<'_>,
) -> String {
    let p = Profile::by_name_or_path(profile).unwrap();
    let prefix = p.default_prefix(user, vehicle);
    p.topic(kind, &prefix, vars)
}

/// One message an observer received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
}

/// An MQTT v5 observer (retain-as-published: `retain` is the sender's flag on live messages too).
pub struct Observer {
    pub client: rumqttc::v5::AsyncClient,
    rx: tokio::sync::mpsc::UnboundedReceiver<Seen>,
    pub seen: Vec<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Observer {
    /// Connect to `port` and subscribe to `filters` at QoS 2 with retain-as-published; returns
    /// after the SUBACK.
    pub async fn v5(port: u16, id: &str, filters: &[&str]) -> Observer {
        use rumqttc::v5::mqttbytes::v5::{Filter, Packet};
        use rumqttc::v5::mqttbytes::QoS;
        use rumqttc::v5::{Event, MqttOptions};
        let mut o = MqttOptions::new(id, "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(30));
        let (client, mut el) = rumqttc::v5::AsyncClient::new(o, 100);
        let subs: Vec<Filter> = filters
            .iter()
            .map(|f| {
                let mut f = Filter::new(*f, QoS::ExactlyOnce);
                f.preserve_retain = true;
                f
            })
            .collect();
        client.subscribe_many(subs).await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(Seen {
                            topic: String::from_utf8_lossy(&p.topic).into_owned(),
                            payload: p.payload.to_vec(),
                            qos: p.qos as u8,
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(e) => panic!("observer connection failed: {e}"),
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .expect("SUBACK")
            .unwrap();
        Observer {
            client,
            rx,
            seen: Vec::new(),
            task,
        }
    }

    /// Wait until a message matching `pred` arrives (or already has); returns it.
    pub async fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Seen) -> bool,
    ) -> Seen {
        if let Some(s) = self.seen.iter().find(|s| pred(s)) {
            return s.clone();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(s)) => {
                    self.seen.push(s.clone());
                    if pred(&s) {
                        return s;
                    }
                }
                Ok(None) => panic!("observer stopped"),
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {what}; seen: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Wait for `topic` with `payload`.
    pub async fn wait_for(&mut self, topic: &str, payload: &[u8], timeout: Duration) -> Seen {
        let what = format!("{topic} = {:?}", String::from_utf8_lossy(payload));
        self.wait(&what, timeout, |s| s.topic == topic && s.payload == payload)
            .await
    }

    /// Collect whatever arrives within `d` (for "nothing arrives" assertions).
    pub async fn drain_for(&mut self, d: Duration) -> Vec<Seen> {
        let deadline = tokio::time::Instant::now() + d;
        let mut got = Vec::new();
        while let Ok(Some(s)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(s.clone());
            got.push(s);
        }
        got
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A v4 client that publishes (as an app would); returns after the broker acknowledged.
pub async fn publish(port: u16, id: &str, topic: &str, payload: &[u8], qos: u8, retain: bool) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
    let (client, mut el) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 10);
    let q = match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    };
    client
        .publish(topic, q, retain, payload.to_vec())
        .await
        .unwrap();
    // DISCONNECT only once the broker has the message: after PUBACK (QoS 1) or PUBCOMP (QoS 2;
    // mosquitto forwards a QoS 2 message on PUBREL), right after it is written for QoS 0.
    let fut = async {
        loop {
            match el.poll().await {
                Ok(Event::Outgoing(Outgoing::Publish(_))) if qos == 0 => {
                    client.disconnect().await.unwrap()
                }
                Ok(Event::Incoming(Packet::PubAck(_))) if qos == 1 => {
                    client.disconnect().await.unwrap()
                }
                Ok(Event::Incoming(Packet::PubComp(_))) if qos >= 2 => {
                    client.disconnect().await.unwrap()
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                Ok(_) => {}
                Err(e) => panic!("publisher: {e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("publish done");
}
