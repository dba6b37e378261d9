//! The command processor behind command topics: a small subset of the OVMS shell.
//!
//! Commands (output in brackets; lines end with `\n`):
//! - `metrics list [FILTER]`: every registered metric whose name contains FILTER, one per line,
//!   `format!("{name:<40} {value}")` (value empty while undefined; no unit labels).
//! - `metrics set NAME VALUE` [`Metric set`]: parsed by the metric's class; unknown names are created.
//! - `config get PARAM INSTANCE` [the value, or `Parameter not set`].
//! - `config set PARAM INSTANCE VALUE` [`Parameter has been set.`]: `server.v3` intervals
//!   (`updatetime.*`, `queue.*`, `metrics.include` ...) drive the module at once.
//! - `notify raise text TYPE SUBTYPE MESSAGE` [`Raised TYPE notification SUBTYPE`].
//! - `event raise NAME` [`Raised event: NAME`].
//! - `server v3 status` [the firmware's `State: …` line and status line, plus a `Profile:` line with
//!   profile, prefix, peer count and the current modified interval].
//! - `server v3 update all|modified|priority` [`Server V3 data update for all metrics has been scheduled`]
//!   (`priority` only where the profile has a priority path).
//! - `help` [the list above].
//!
//! Anything else answers `Unrecognised command`; an empty, overlong or non-UTF-8 command answers an
//! `Error: …` line. Nothing here panics on input.

use crate::metrics::Metrics;

/// What the command processor needs from the module.
pub trait Shell {
    /// The metrics store.
    fn metrics(&self) -> &Metrics;
    /// Set a metric from text; returns whether it changed.
    fn set_metric(&mut self, name: &str, value: &str) -> bool;
    /// A config value.
    fn config_get(&self, param: &str, instance: &str) -> Option<String>;
    /// Set a config value.
    fn config_set(&mut self, param: &str, instance: &str, value: &str);
    /// Raise a notification.
    fn raise_notify(&mut self, kind: &str, subtype: &str, text: &str);
    /// Raise an event.
    fn raise_event(&mut self, name: &str);
    /// The `server v3 status` text.
    fn server_status(&self) -> String;
    /// `server v3 update all|modified`; false for an unknown kind.
    fn server_update(&mut self, what: &str) -> bool;
}

/// First words of the commands this processor knows (used to tell an IMAP-style tag from a command).
pub const COMMAND_WORDS: &[&str] = &["metrics", "config", "notify", "event", "server", "help"];

/// Whether `word` starts a known command.
pub fn is_command_word(word: &str) -> bool {
    COMMAND_WORDS.contains(&word)
}

/// The usage text of `help`.
pub const HELP: &str = "metrics list [FILTER]\nmetrics set NAME VALUE\nconfig get PARAM INSTANCE\n\
config set PARAM INSTANCE VALUE\nnotify raise text TYPE SUBTYPE MESSAGE\nevent raise NAME\n\
server v3 status\nserver v3 update all|modified|priority\n";

/// Validate raw command bytes (length, UTF-8, non-empty) and run the command.
pub fn run_bytes(shell: &mut dyn Shell, bytes: &[u8], max_len: usize) -> String {
    if bytes.len() > max_len {
        return format!(
            "Error: command too long ({} bytes, at most {max_len})\n",
            bytes.len()
        );
    }
    let Ok(line) = std::str::from_utf8(bytes) else {
        return "Error: command is not valid UTF-8\n".to_string();
    };
    run(shell, line)
}

/// Run one command line.
pub fn run(shell: &mut dyn Shell, line: &str) -> String {
    let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if line.is_empty() {
        return "Error: empty command\n".to_string();
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["help"] | ["?"] => HELP.to_string(),
        ["metrics", "list"] => metrics_list(shell.metrics(), None),
        ["metrics", "list", filter] => metrics_list(shell.metrics(), Some(filter)),
        ["metrics", "set", name, ..] if words.len() >= 4 => {
            let value = rest_after(line, 3);
            shell.set_metric(name, value);
            "Metric set\n".to_string()
        }
        ["metrics", ..] => {
            "Error: usage: metrics list [FILTER] | metrics set NAME VALUE\n".to_string()
        }
        ["config", "get", param, instance] => match shell.config_get(param, instance) {
            Some(v) => format!("{v}\n"),
            None => "Parameter not set\n".to_string(),
        },
        ["config", "set", param, instance, ..] if words.len() >= 5 => {
            let value = rest_after(line, 4);
            shell.config_set(param, instance, value);
            "Parameter has been set.\n".to_string()
        }
        ["config", ..] => {
            "Error: usage: config get PARAM INSTANCE | config set PARAM INSTANCE VALUE\n"
                .to_string()
        }
        ["notify", "raise", "text", kind, subtype, ..] if words.len() >= 6 => {
            let text = rest_after(line, 5);
            shell.raise_notify(kind, subtype, text);
            format!("Raised {kind} notification {subtype}\n")
        }
        ["notify", ..] => "Error: usage: notify raise text TYPE SUBTYPE MESSAGE\n".to_string(),
        ["event", "raise", name] => {
            shell.raise_event(name);
            format!("Raised event: {name}\n")
        }
        ["event", ..] => "Error: usage: event raise NAME\n".to_string(),
        ["server", "v3", "status"] => shell.server_status(),
        ["server", "v3", "update", what] => {
            if shell.server_update(what) {
                format!("Server V3 data update for {what} metrics has been scheduled\n")
            } else {
                "Error: usage: server v3 update all|modified\n".to_string()
            }
        }
        ["server", "v3", "update"] => {
            shell.server_update("modified");
            "Server V3 data update for modified metrics has been scheduled\n".to_string()
        }
        _ => "Unrecognised command\n".to_string(),
    }
}

/// The text after the first `n` whitespace-separated words (inner spacing kept).
fn rest_after(line: &str, n: usize) -> &str {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest.trim()
}

fn metrics_list(metrics: &Metrics, filter: Option<&str>) -> String {
    let mut out = String::new();
    let fixed = metrics.latlon_fixed6();
    for (name, m) in metrics.iter() {
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let value = m.render(fixed).unwrap_or_default();
        out.push_str(&format!("{name:<40} {value}\n"));
    }
    if out.is_empty() {
        out.push_str("No metrics found\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Fake {
        metrics: Metrics,
        config: BTreeMap<(String, String), String>,
        notes: Vec<(String, String, String)>,
        events: Vec<String>,
        updates: Vec<String>,
    }

    impl Shell for Fake {
        fn metrics(&self) -> &Metrics {
            &self.metrics
        }
        fn set_metric(&mut self, name: &str, value: &str) -> bool {
            self.metrics.set_from_text(name, value)
        }
        fn config_get(&self, p: &str, i: &str) -> Option<String> {
            self.config.get(&(p.into(), i.into())).cloned()
        }
        fn config_set(&mut self, p: &str, i: &str, v: &str) {
            self.config.insert((p.into(), i.into()), v.into());
        }
        fn raise_notify(&mut self, k: &str, s: &str, t: &str) {
            self.notes.push((k.into(), s.into(), t.into()));
        }
        fn raise_event(&mut self, n: &str) {
            self.events.push(n.into());
        }
        fn server_status(&self) -> String {
            "State: Connected\n".into()
        }
        fn server_update(&mut self, w: &str) -> bool {
            self.updates.push(w.into());
            w == "all" || w == "modified"
        }
    }

    #[test]
    fn commands_do_what_they_say() {
        let mut f = Fake::default();
        assert_eq!(run(&mut f, "metrics set v.b.soc 85.5"), "Metric set\n");
        assert_eq!(f.metrics.as_string("v.b.soc").unwrap(), "85.5");
        let list = run(&mut f, "metrics list v.b.so");
        assert!(list.contains("v.b.soc"), "{list}");
        assert!(
            list.lines()
                .any(|l| l.starts_with("v.b.soc ") && l.ends_with(" 85.5")),
            "{list}"
        );
        assert!(!list.contains("v.e.on"));
        assert_eq!(
            run(&mut f, "config set server.v3 updatetime.connected 30"),
            "Parameter has been set.\n"
        );
        assert_eq!(
            run(&mut f, "config get server.v3 updatetime.connected"),
            "30\n"
        );
        assert_eq!(
            run(&mut f, "config get server.v3 nothing"),
            "Parameter not set\n"
        );
        run(
            &mut f,
            "notify raise text info charge.started Charge  started now",
        );
        assert_eq!(
            f.notes[0],
            (
                "info".into(),
                "charge.started".into(),
                "Charge  started now".into()
            )
        );
        assert_eq!(
            run(&mut f, "event raise vehicle.on"),
            "Raised event: vehicle.on\n"
        );
        assert_eq!(f.events, vec!["vehicle.on".to_string()]);
        assert_eq!(run(&mut f, "server v3 status"), "State: Connected\n");
        assert!(run(&mut f, "server v3 update all").contains("for all metrics"));
        assert!(run(&mut f, "server v3 update bogus").starts_with("Error"));
    }

    #[test]
    fn bad_commands_answer_errors() {
        let mut f = Fake::default();
        assert_eq!(run(&mut f, "frobnicate"), "Unrecognised command\n");
        assert_eq!(run(&mut f, "   "), "Error: empty command\n");
        assert!(run_bytes(&mut f, &[0xff, 0xfe], 100).contains("UTF-8"));
        assert!(run_bytes(&mut f, &[b'a'; 101], 100).contains("too long"));
        assert!(run(&mut f, "metrics set onlyname").starts_with("Error"));
        assert!(run(&mut f, "notify raise text info").starts_with("Error"));
    }
}
