//! The firmware's metric name filter (`IdFilter`, 3.3.004+): comma-separated entries, each exact,
//! `prefix*` or `*suffix` (a lone `*` matches everything); an entry with a `*` anywhere else is skipped.

/// One filter entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
}

impl Pattern {
    fn parse(entry: &str) -> Option<Pattern> {
        let e = entry.trim();
        if e.is_empty() {
            return None;
        }
        let stars = e.matches('*').count();
        if stars == 0 {
            return Some(Pattern::Exact(e.to_string()));
        }
        if stars == 1 {
            if let Some(p) = e.strip_suffix('*') {
                return Some(Pattern::Prefix(p.to_string()));
            }
            if let Some(s) = e.strip_prefix('*') {
                return Some(Pattern::Suffix(s.to_string()));
            }
        }
        None
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Exact(s) => name == s,
            Pattern::Prefix(p) => name.starts_with(p.as_str()),
            Pattern::Suffix(s) => name.ends_with(s.as_str()),
        }
    }
}

/// A pattern list (one of include / exclude).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatternList(Vec<Pattern>);

impl PatternList {
    /// Parse a comma-separated list; invalid entries are skipped, as the firmware does.
    pub fn parse(list: &str) -> PatternList {
        PatternList(list.split(',').filter_map(Pattern::parse).collect())
    }

    /// Whether the list has no (valid) entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any entry matches `name`.
    pub fn matches(&self, name: &str) -> bool {
        self.0.iter().any(|p| p.matches(name))
    }
}

/// Include/exclude filter: a name passes when it matches include (or include is empty) and does
/// not match exclude.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricFilter {
    include: PatternList,
    exclude: PatternList,
}

impl MetricFilter {
    /// Build from the two config strings (`metrics.include`, `metrics.exclude`).
    pub fn new(include: &str, exclude: &str) -> MetricFilter {
        MetricFilter {
            include: PatternList::parse(include),
            exclude: PatternList::parse(exclude),
        }
    }

    /// Whether `name` passes.
    pub fn check(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.matches(name)) && !self.exclude.matches(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_exclude_semantics() {
        let f = MetricFilter::new(" v.b.* , m.time.utc", "*.soh, v.b.c*x*");
        assert!(f.check("v.b.soc"));
        assert!(!f.check("v.b.soh"));
        assert!(f.check("m.time.utc"));
        assert!(!f.check("v.p.latitude"));
        let all = MetricFilter::new("", "");
        assert!(all.check("anything"));
        let star = PatternList::parse("*");
        assert!(star.matches("v.b.soc"));
        assert!(PatternList::parse("v.*.soc").is_empty());
    }
}
