//! The inline SVG timeline.

use std::fmt::Write as _;

use super::escape::{esc, truncate};
use super::model::{Model, Tick};
use super::ReportOptions;

const LABEL_W: f64 = 250.0;
const RIGHT_PAD: f64 = 24.0;
const AXIS_H: f64 = 34.0;
const ROW_H: f64 = 15.0;
const BAND_H: f64 = 20.0;
const PEERS_H: f64 = 56.0;
const GAP: f64 = 10.0;
const PAYLOAD_MAX: usize = 300;

/// Horizontal scale.
struct Scale {
    t0: f64,
    t1: f64,
    x0: f64,
    x1: f64,
}

impl Scale {
    fn x(&self, t: f64) -> f64 {
        self.x0 + (t - self.t0) / (self.t1 - self.t0) * (self.x1 - self.x0)
    }
}

/// A "nice" axis step (1, 2 or 5 × 10^k) giving about `n` ticks over `span`.
pub fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn fmt_t(t: f64) -> String {
    if (t - t.round()).abs() < 1e-6 {
        format!("{}", t.round() as i64)
    } else {
        format!("{t:.3}")
    }
}

fn tick_title(t: &Tick, topic: &str) -> String {
    format!(
        "t={} s\n{}\npayload: {}\nQoS {} · retain {}{}",
        fmt_t(t.t),
        topic,
        truncate(&t.payload, PAYLOAD_MAX),
        t.qos.map(|q| q.to_string()).unwrap_or_else(|| "?".into()),
        match t.retain {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        },
        if t.from_module {
            ""
        } else {
            "\n(sent to the module)"
        }
    )
}

/// Draws the whole timeline.
pub fn draw(m: &Model, opts: &ReportOptions) -> String {
    let width = f64::from(opts.width.max(600));
    let s = Scale {
        t0: m.t0,
        t1: m.t1,
        x0: LABEL_W + 10.0,
        x1: width - RIGHT_PAD,
    };
    let mut body = String::new();
    let mut y = AXIS_H;

    // Connected band.
    section(&mut body, y, "connected", m.connected_topic.as_deref());
    draw_connected(&mut body, m, &s, y);
    y += BAND_H + GAP;

    // Peers.
    section(&mut body, y, "peers", m.peers_topic.as_deref());
    draw_peers(&mut body, m, &s, y);
    y += PEERS_H + GAP;

    // Heartbeats.
    let hb_top = y;
    if m.clients.is_empty() {
        label(&mut body, y, "client heartbeats: none", "muted");
        y += ROW_H;
    }
    for (client, ticks) in &m.clients {
        lane_bg(&mut body, y, &s, "hb");
        label(&mut body, y, &format!("heartbeat {client}"), "hb");
        for t in ticks {
            tick_mark(
                &mut body,
                &s,
                y,
                t,
                &format!("heartbeat from {client}"),
                "tk hbk",
            );
        }
        y += ROW_H;
    }
    let _ = hb_top;
    y += GAP;

    // One row per failing assertion for its label (shown to the right of its line, or to the
    // left when it would run off the plot).
    let fail_top = y;
    if !m.failures.is_empty() {
        label(
            &mut body,
            y,
            &format!("failing assertions ({})", m.failures.len()),
            "failt",
        );
        y += ROW_H * m.failures.len() as f64 + 2.0;
    }

    // Cadence row.
    let cad_y = y;
    label(
        &mut body,
        y,
        &format!("cadence passes ({})", m.cadence.len()),
        "cad",
    );
    for (sec, n) in &m.cadence {
        let x = s.x(*sec);
        let _ = write!(
            body,
            r#"<path class="cadm" d="M{:.1} {:.1}l4 6h-8z"><title>pass at t={} s: {} publishes</title></path>"#,
            x,
            y + 3.0,
            fmt_t(*sec),
            n
        );
    }
    y += ROW_H + 4.0;

    // Topic lanes.
    for (i, lane) in m.lanes.iter().enumerate() {
        let _ = write!(
            body,
            r#"<g class="lane" data-topic="{}">"#,
            esc(&lane.topic)
        );
        if i % 2 == 0 {
            lane_bg(&mut body, y, &s, "even");
        }
        let _ = write!(
            body,
            r#"<text class="lbl" x="{:.1}" y="{:.1}"><title>{} ({} publishes)</title>{}</text>"#,
            LABEL_W,
            y + ROW_H - 4.0,
            esc(&lane.topic),
            lane.ticks.len(),
            esc(&truncate(&lane.label, 40))
        );
        for t in &lane.ticks {
            let cls = if t.from_module { "tk" } else { "tk in" };
            tick_mark(&mut body, &s, y, t, &lane.topic, cls);
        }
        for f in m
            .failures
            .iter()
            .filter(|f| f.topic.as_deref() == Some(lane.topic.as_str()))
        {
            let _ = write!(
                body,
                r#"<circle class="failc" cx="{:.1}" cy="{:.1}" r="5"><title>{}</title></circle>"#,
                s.x(f.t),
                y + ROW_H / 2.0,
                esc(&f.message)
            );
        }
        body.push_str("</g>");
        y += ROW_H;
    }
    let bottom = y + GAP;

    // Cadence lines over everything below the cadence row.
    let mut overlay = String::new();
    for (sec, _) in &m.cadence {
        let x = s.x(*sec);
        let _ = write!(
            overlay,
            r#"<line class="cadl" x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}"/>"#,
            cad_y + ROW_H,
            bottom
        );
    }
    // Failures over everything.
    for (i, f) in m.failures.iter().enumerate() {
        let x = s.x(f.t);
        let text = truncate(&f.message, 110);
        // About 6.5 px per character at 11 px.
        let right = x + 6.0 + text.chars().count() as f64 * 6.5 <= s.x1;
        let (tx, anchor) = if right {
            (x + 5.0, "start")
        } else {
            (x - 5.0, "end")
        };
        let _ = write!(
            overlay,
            r#"<g class="fail"><line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}"/><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}">✗ {}</text><title>t={} s{}: {}</title></g>"#,
            AXIS_H - 6.0,
            bottom,
            fail_top + ROW_H * (i as f64 + 1.0) - 4.0,
            esc(&text),
            fmt_t(f.t),
            f.topic
                .as_deref()
                .map(|t| format!(" on {}", esc(t)))
                .unwrap_or_default(),
            esc(&f.message)
        );
    }

    // Axis with grid.
    let mut axis = String::new();
    let step = nice_step(m.t1 - m.t0, 12.0);
    let mut t = (m.t0 / step).ceil() * step;
    while t <= m.t1 + 1e-9 {
        let x = s.x(t);
        let _ = write!(
            axis,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}"/><text class="axl" x="{x:.1}" y="{:.1}">{} s</text>"#,
            AXIS_H - 8.0,
            bottom,
            AXIS_H - 12.0,
            fmt_t(t)
        );
        t += step;
    }
    let _ = write!(
        axis,
        r#"<text class="axt" x="{:.1}" y="{:.1}">{}</text>"#,
        LABEL_W,
        AXIS_H - 12.0,
        if m.virtual_time {
            "virtual time →"
        } else {
            "wall time since first record →"
        }
    );

    format!(
        r#"<svg id="tl" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">{axis}{body}{overlay}</svg>"#,
        w = width,
        h = bottom + 4.0,
    )
}

fn section(out: &mut String, y: f64, name: &str, topic: Option<&str>) {
    let _ = write!(
        out,
        r#"<text class="sec" x="{:.1}" y="{:.1}">{}<title>{}</title></text>"#,
        LABEL_W,
        y + 14.0,
        esc(name),
        esc(topic.unwrap_or("(no topic: no profile matched)"))
    );
}

fn label(out: &mut String, y: f64, text: &str, class: &str) {
    let _ = write!(
        out,
        r#"<text class="lbl {class}" x="{:.1}" y="{:.1}">{}</text>"#,
        LABEL_W,
        y + ROW_H - 4.0,
        esc(text)
    );
}

fn lane_bg(out: &mut String, y: f64, s: &Scale, class: &str) {
    let _ = write!(
        out,
        r#"<rect class="bg {class}" x="0" y="{y:.1}" width="{:.1}" height="{ROW_H}"/>"#,
        s.x1 + RIGHT_PAD
    );
}

fn tick_mark(out: &mut String, s: &Scale, y: f64, t: &Tick, topic: &str, class: &str) {
    let _ = write!(
        out,
        r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="3" height="{:.1}"><title>{}</title></rect>"#,
        s.x(t.t) - 1.5,
        y + 2.0,
        ROW_H - 4.0,
        esc(&tick_title(t, topic))
    );
}

fn draw_connected(out: &mut String, m: &Model, s: &Scale, y: f64) {
    let _ = write!(
        out,
        r#"<rect class="unk" x="{:.1}" y="{y:.1}" width="{:.1}" height="{BAND_H}"><title>connected state unknown</title></rect>"#,
        s.x0,
        s.x1 - s.x0
    );
    for (i, (t, state)) in m.connected.iter().enumerate() {
        let end = m.connected.get(i + 1).map(|(t, _)| *t).unwrap_or(m.t1);
        let (cls, txt) = match state {
            Some(true) => ("on", "yes"),
            Some(false) => ("off", "no"),
            None => ("unk", "?"),
        };
        let x = s.x(*t);
        let w = (s.x(end) - x).max(2.0);
        let _ = write!(
            out,
            r#"<rect class="{cls}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{BAND_H}"><title>connected = {txt} from t={} s</title></rect>"#,
            fmt_t(*t)
        );
        if w > 40.0 {
            let _ = write!(
                out,
                r#"<text class="bandt" x="{:.1}" y="{:.1}">{txt}</text>"#,
                x + 4.0,
                y + 14.0
            );
        }
    }
}

fn draw_peers(out: &mut String, m: &Model, s: &Scale, y: f64) {
    let max = m.peers.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
    let py = |n: i64| y + PEERS_H - 4.0 - (n as f64 / max) * (PEERS_H - 12.0);
    let _ = write!(
        out,
        r#"<rect class="bg peersbg" x="{:.1}" y="{y:.1}" width="{:.1}" height="{PEERS_H}"/><text class="muted" x="{:.1}" y="{:.1}">{}</text><text class="muted" x="{:.1}" y="{:.1}">0</text>"#,
        s.x0,
        s.x1 - s.x0,
        s.x0 - 4.0,
        py(max as i64) + 4.0,
        max as i64,
        s.x0 - 4.0,
        py(0) + 4.0
    );
    if m.peers.is_empty() {
        let _ = write!(
            out,
            r#"<text class="muted" x="{:.1}" y="{:.1}">no peer count published</text>"#,
            s.x0 + 6.0,
            y + PEERS_H / 2.0
        );
        return;
    }
    let mut d = String::new();
    for (i, (t, n)) in m.peers.iter().enumerate() {
        let x = s.x(*t);
        if i == 0 {
            let _ = write!(d, "M{x:.1} {:.1}", py(*n));
        } else {
            let _ = write!(d, "H{x:.1}V{:.1}", py(*n));
        }
    }
    let _ = write!(d, "H{:.1}", s.x1);
    let _ = write!(out, r#"<path class="peers" d="{d}"/>"#);
    for (t, n) in &m.peers {
        let _ = write!(
            out,
            r#"<circle class="peerd" cx="{:.1}" cy="{:.1}" r="3"><title>peers = {n} at t={} s</title></circle>"#,
            s.x(*t),
            py(*n),
            fmt_t(*t)
        );
    }
}
