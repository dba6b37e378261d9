//! Topic templates: `client/{client}/command/{command_id}`, rendered with values or wildcards and
//! matched against incoming topics. A placeholder is always a whole topic level.

use super::TopicVars;

/// A template placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    Metric,
    Event,
    Subtype,
    Param,
    Instance,
    Client,
    CommandId,
    Type,
    Id,
    Age,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        Some(match name {
            "metric" => Var::Metric,
            "event" => Var::Event,
            "subtype" => Var::Subtype,
            "param" => Var::Param,
            "instance" => Var::Instance,
            "client" => Var::Client,
            "command_id" => Var::CommandId,
            "type" => Var::Type,
            "id" => Var::Id,
            "age" => Var::Age,
            _ => return None,
        })
    }

    /// Multi-level values have their dots turned into `/` (the firmware's `mqtt_topic()`).
    fn multi_level(self) -> bool {
        matches!(
            self,
            Var::Metric | Var::Event | Var::Subtype | Var::Param | Var::Instance
        )
    }

    fn value<'a>(self, v: &TopicVars<'a>) -> Option<&'a str> {
        match self {
            Var::Metric => v.metric,
            Var::Event => v.event,
            Var::Subtype => v.subtype,
            Var::Param => v.param,
            Var::Instance => v.instance,
            Var::Client => v.client_id,
            Var::CommandId => v.command_id,
            Var::Type => v.notify_kind,
            Var::Id => v.entry_id,
            Var::Age => v.age,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Level {
    Lit(String),
    Var(Var),
}

/// A parsed topic template (relative to the prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    levels: Vec<Level>,
    source: String,
}

/// Values captured from an incoming topic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicCaptures<'t> {
    /// `{client}`.
    pub client: Option<&'t str>,
    /// `{command_id}`.
    pub command_id: Option<&'t str>,
    /// `{type}`.
    pub notify_kind: Option<&'t str>,
    /// Any multi-level value (`{metric}`, `{event}`, ...), still with `/`.
    pub rest: Option<&'t str>,
}

impl Template {
    /// Parse; errors name the bad placeholder.
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut levels = Vec::new();
        for lvl in s.split('/') {
            if let Some(inner) = lvl.strip_prefix('{').and_then(|l| l.strip_suffix('}')) {
                let v = Var::parse(inner)
                    .ok_or_else(|| format!("unknown placeholder {{{inner}}} in topic `{s}`"))?;
                levels.push(Level::Var(v));
            } else if lvl.contains('{') || lvl.contains('}') {
                return Err(format!(
                    "a placeholder must be a whole topic level in `{s}`"
                ));
            } else if lvl.contains('+') || lvl.contains('#') {
                return Err(format!("wildcards are not allowed in topic template `{s}`"));
            } else {
                levels.push(Level::Lit(lvl.to_string()));
            }
        }
        Ok(Template {
            levels,
            source: s.to_string(),
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Append the rendered topic to `out`.
    pub fn render_into(&self, out: &mut String, vars: &TopicVars<'_>) {
        for (i, lvl) in self.levels.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            match lvl {
                Level::Lit(s) => out.push_str(s),
                Level::Var(v) => match v.value(vars) {
                    Some(val) if v.multi_level() => {
                        out.extend(val.chars().map(|c| if c == '.' { '/' } else { c }))
                    }
                    Some(val) => out.push_str(val),
                    None if v.multi_level() => {
                        out.push('#');
                        return;
                    }
                    None => out.push('+'),
                },
            }
        }
    }

    /// Match a topic (prefix already removed).
    pub fn matches<'t>(&self, topic: &'t str) -> Option<TopicCaptures<'t>> {
        let mut caps = TopicCaptures::default();
        let mut rest = topic;
        let n = self.levels.len();
        for (i, lvl) in self.levels.iter().enumerate() {
            let last = i + 1 == n;
            match lvl {
                Level::Var(v) if v.multi_level() && last => {
                    if rest.is_empty() {
                        return None;
                    }
                    caps.rest = Some(rest);
                    return Some(caps);
                }
                _ => {}
            }
            let (level, tail) = match rest.find('/') {
                Some(at) if !last => (&rest[..at], Some(&rest[at + 1..])),
                Some(_) => return None,
                None if last => (rest, None),
                None => return None,
            };
            match lvl {
                Level::Lit(s) => {
                    if level != s {
                        return None;
                    }
                }
                Level::Var(Var::Client) => caps.client = Some(level),
                Level::Var(Var::CommandId) => caps.command_id = Some(level),
                Level::Var(Var::Type) => caps.notify_kind = Some(level),
                Level::Var(_) => {}
            }
            if let Some(t) = tail {
                rest = t;
            }
        }
        Some(caps)
    }
}

/// A `{name}` in a prefix template other than `{user}` / `{vehicle}`.
pub(super) fn unknown_prefix_placeholder(t: &str) -> Option<String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if name != "user" && name != "vehicle" {
            return Some(name.to_string());
        }
        rest = &after[close + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_match() {
        let t = Template::parse("client/{client}/command/{command_id}").unwrap();
        let mut s = String::new();
        t.render_into(
            &mut s,
            &TopicVars {
                client_id: Some("app"),
                command_id: Some("7"),
                ..Default::default()
            },
        );
        assert_eq!(s, "client/app/command/7");
        let mut w = String::new();
        t.render_into(&mut w, &TopicVars::default());
        assert_eq!(w, "client/+/command/+");
        let c = t.matches("client/app/command/7").unwrap();
        assert_eq!((c.client, c.command_id), (Some("app"), Some("7")));
        assert!(t.matches("client/app/command/7/x").is_none());
        assert!(t.matches("client/app/command").is_none());
        assert!(t.matches("client/app/response/7").is_none());

        let m = Template::parse("metric/{metric}").unwrap();
        let mut s = String::new();
        m.render_into(
            &mut s,
            &TopicVars {
                metric: Some("v.b.soc"),
                ..Default::default()
            },
        );
        assert_eq!(s, "metric/v/b/soc");
        let mut w = String::new();
        m.render_into(&mut w, &TopicVars::default());
        assert_eq!(w, "metric/#");

        let d = Template::parse("cmd/{client}/c/").unwrap();
        assert_eq!(d.matches("cmd/app/c/").unwrap().client, Some("app"));
        assert!(d.matches("cmd/app/c").is_none());
        assert!(Template::parse("a/{nope}").is_err());
        assert!(Template::parse("a/x{client}").is_err());
    }
}
