//! Percentiles of a sample.

use serde_json::{json, Value};

pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Summary {
    pub fn of(mut samples: Vec<f64>) -> Summary {
        assert!(!samples.is_empty(), "no samples");
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
        Summary { count: samples.len(), p50: at(0.50), p90: at(0.90), p99: at(0.99) }
    }

    pub fn json(&self) -> Value {
        json!({"n": self.count, "p50": round(self.p50), "p90": round(self.p90), "p99": round(self.p99)})
    }
}

pub fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
