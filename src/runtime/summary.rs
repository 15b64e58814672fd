//! The run summary: every record accounted for, by outcome, sink, reason and stage.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub flow: String,
    pub version: String,
    pub dry_run: bool,
    /// Records read from the source (bad input included).
    pub records_in: u64,
    /// Extra records made by `split` (one in, several out).
    pub split_extra: u64,
    /// Records made by `group` stages, each ending its records with it.
    pub groups: u64,
    /// Records that reached every sink that wanted them.
    pub delivered: u64,
    pub filtered: u64,
    pub held: u64,
    pub per_sink: BTreeMap<String, u64>,
    pub held_by_reason: BTreeMap<String, u64>,
    /// `stage N kind (line L)` to (filtered, held).
    pub per_stage: BTreeMap<(usize, String), (u64, u64)>,
}

impl Summary {
    /// Whether every record ended delivered, filtered or held.
    pub fn balanced(&self) -> bool {
        self.delivered + self.filtered + self.held == self.records_in + self.split_extra
    }
}

fn line(f: &mut fmt::Formatter<'_>, label: &str, n: u64, detail: &[String]) -> fmt::Result {
    if detail.is_empty() {
        writeln!(f, "  {label:<12} {n:>6}")
    } else {
        writeln!(f, "  {label:<12} {n:>6}   {}", detail.join(", "))
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.dry_run { ", dry run" } else { "" };
        writeln!(f, "flow {} (version {}){mode}", self.flow, self.version)?;
        write!(f, "  records in   {:>6}", self.records_in)?;
        if self.split_extra > 0 {
            write!(f, "   (+{} from split)", self.split_extra)?;
        }
        writeln!(f)?;
        if self.groups > 0 {
            writeln!(f, "  groups out   {:>6}", self.groups)?;
        }
        let sinks: Vec<String> = self.per_sink.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        line(f, "delivered", self.delivered, &sinks)?;
        let filtered: Vec<String> = self
            .per_stage
            .iter()
            .filter(|(_, (fl, _))| *fl > 0)
            .map(|((_, name), (fl, _))| format!("{name}: {fl}"))
            .collect();
        line(f, "filtered", self.filtered, &filtered)?;
        let reasons: Vec<String> = self.held_by_reason.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        line(f, "held", self.held, &reasons)?;
        let stages: Vec<String> = self
            .per_stage
            .iter()
            .filter(|(_, (_, h))| *h > 0)
            .map(|((_, name), (_, h))| format!("{name}: {h}"))
            .collect();
        if !stages.is_empty() {
            writeln!(f, "  held at      {}", stages.join(", "))?;
        }
        Ok(())
    }
}
