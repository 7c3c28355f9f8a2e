//! Fault injection (DESIGN §8): what a hostile network and a flaky exchange do to
//! a client, set at start (`--faults SPEC`) or changed live (`POST /sim/faults`).
//! Every fault is off by default and stops as soon as it is switched off.

use serde::{Deserialize, Serialize};

/// The faults in force. Rates are probabilities per request or per frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every API response (ms).
    pub latency_ms: u64,
    /// The next N API requests are answered 429 with `Retry-After: 1`.
    pub rate_limit_burst: u32,
    /// Share of API requests answered 503.
    pub error_rate: f64,
    /// The next N API requests are answered 503 (a deterministic outage).
    pub error_burst: u32,
    /// WebSocket connections are dropped this often (ms; 0 = never).
    pub ws_drop_every_ms: u64,
    /// Share of WebSocket data frames replaced by invalid JSON.
    pub malformed_rate: f64,
    /// Share of WebSocket data frames cut in half.
    pub truncated_rate: f64,
    /// Share of WebSocket frames with prices whose first `px` becomes `"NaN"`.
    pub nan_price_rate: f64,
    /// Share of WebSocket data frames sent after the next one.
    pub reorder_rate: f64,
    /// Share of WebSocket data frames sent twice.
    pub duplicate_rate: f64,
    /// Prices stop moving on every feed (REST and WebSocket) while set.
    pub freeze_prices: bool,
    /// The next N `/exchange` requests are executed but never answered.
    pub lose_exchange_responses: u32,
}

impl Faults {
    /// Parses `key=value,key=value` (the keys are the field names; `freeze_prices`
    /// alone means true). An unknown key or a bad value is an error naming it.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, "true"));
            let num = |v: &str| v.parse::<f64>().map_err(|_| format!("fault {key}: {v:?} is not a number"));
            let int = |v: &str| v.parse::<u64>().map_err(|_| format!("fault {key}: {v:?} is not a whole number"));
            let rate = |v: &str| {
                let x = num(v)?;
                if (0.0..=1.0).contains(&x) { Ok(x) } else { Err(format!("fault {key}: {x} is not a rate in [0, 1]")) }
            };
            match key {
                "latency_ms" => f.latency_ms = int(value)?,
                "rate_limit_burst" => f.rate_limit_burst = int(value)? as u32,
                "error_rate" => f.error_rate = rate(value)?,
                "error_burst" => f.error_burst = int(value)? as u32,
                "ws_drop_every_ms" => f.ws_drop_every_ms = int(value)?,
                "malformed_rate" => f.malformed_rate = rate(value)?,
                "truncated_rate" => f.truncated_rate = rate(value)?,
                "nan_price_rate" => f.nan_price_rate = rate(value)?,
                "reorder_rate" => f.reorder_rate = rate(value)?,
                "duplicate_rate" => f.duplicate_rate = rate(value)?,
                "freeze_prices" => {
                    f.freeze_prices = value.parse().map_err(|_| format!("fault {key}: {value:?} is not true/false"))?
                }
                "lose_exchange_responses" => f.lose_exchange_responses = int(value)? as u32,
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_name_their_errors() {
        let f = Faults::parse("latency_ms=50, error_rate=0.25,freeze_prices").unwrap();
        assert_eq!((f.latency_ms, f.error_rate, f.freeze_prices), (50, 0.25, true));
        assert_eq!(Faults::parse("").unwrap(), Faults::default());
        assert!(Faults::parse("error_rate=2").unwrap_err().contains("error_rate"));
        assert!(Faults::parse("gremlins=1").unwrap_err().contains("gremlins"));
    }
}
