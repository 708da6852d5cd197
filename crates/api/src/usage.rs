//! `GET /usage`: what the account has used in this billing period (the calendar month in
//! UTC) against its plan's limits, with one row per day for charts.

use serde::{Deserialize, Serialize};

/// The billing period: `start` inclusive, `end` exclusive (the first instant of the next
/// month), both RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UsagePeriod {
    pub start: String,
    pub end: String,
}

/// A metered quantity against its monthly limit; `limit: null` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MeteredUsage {
    pub used: u64,
    pub limit: Option<u64>,
}

/// Optimizations started this period against the monthly limit, and how many run now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationUsage {
    pub used: u64,
    pub limit: Option<u64>,
    pub running: u64,
}

/// Authenticated requests this period; they are limited per minute, not per month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestUsage {
    pub used: u64,
}

/// One UTC day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DayUsage {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub requests: u64,
    pub conversations: u64,
    pub optimizations: u64,
    pub tokens: u64,
}

/// The body of `GET /usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub period: UsagePeriod,
    /// Agents that count against the plan (archived ones do not).
    pub agents: u64,
    /// `agents` under its older name.
    pub prompts: u64,
    pub optimizations: OptimizationUsage,
    pub conversations: MeteredUsage,
    pub tokens: MeteredUsage,
    pub requests: RequestUsage,
    /// Every day of the period from its first up to today, quiet days included as zeros,
    /// oldest first.
    pub by_day: Vec<DayUsage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_serializes_as_a_null_limit_in_camel_case() {
        let usage = Usage {
            period: UsagePeriod {
                start: "2026-11-01T00:00:00.000Z".into(),
                end: "2026-12-01T00:00:00.000Z".into(),
            },
            agents: 2,
            prompts: 2,
            optimizations: OptimizationUsage {
                used: 1,
                limit: Some(10),
                running: 0,
            },
            conversations: MeteredUsage {
                used: 3,
                limit: Some(500),
            },
            tokens: MeteredUsage {
                used: 40,
                limit: None,
            },
            requests: RequestUsage { used: 7 },
            by_day: vec![],
        };
        let v = serde_json::to_value(&usage).unwrap();
        assert!(v["tokens"]["limit"].is_null());
        assert!(v["tokens"].as_object().unwrap().contains_key("limit"));
        assert_eq!(v["byDay"], serde_json::json!([]));
        assert_eq!(v["optimizations"]["running"], 0);
    }
}
