//! `GET /account`: the account behind the API key and its plan.

use serde::{Deserialize, Serialize};

/// The plans of the spec. Enterprise limits are set per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PlanId {
    Free,
    Pro,
    Enterprise,
}

impl PlanId {
    pub const ALL: [PlanId; 3] = [PlanId::Free, PlanId::Pro, PlanId::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanId::Free => "free",
            PlanId::Pro => "pro",
            PlanId::Enterprise => "enterprise",
        }
    }

    /// The display name ("Free", "Pro", "Enterprise").
    pub fn display_name(self) -> &'static str {
        match self {
            PlanId::Free => "Free",
            PlanId::Pro => "Pro",
            PlanId::Enterprise => "Enterprise",
        }
    }

    /// The documented limits of the plan; enterprise accounts may carry their own.
    pub fn default_limits(self) -> PlanLimits {
        match self {
            PlanId::Free => PlanLimits::new(5, 10, 500, 60),
            PlanId::Pro => PlanLimits::new(100, 50, 10_000, 300),
            PlanId::Enterprise => PlanLimits::new(1_000, 1_000, 1_000_000, 3_000),
        }
    }
}

impl std::str::FromStr for PlanId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlanId::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown plan '{s}' (expected free, pro or enterprise)"))
    }
}

/// What a plan allows. `prompts` repeats `agents` under its older name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanLimits {
    pub agents: u32,
    pub prompts: u32,
    pub optimizations_per_month: u32,
    pub conversations_per_month: u32,
    pub requests_per_minute: u32,
    pub concurrent_optimizations: u32,
    /// Tokens a month, logged conversations' and the model's work together; `null` when
    /// there is no limit. No plan has one: an operator sets it per account.
    #[serde(default)]
    pub tokens_per_month: Option<u64>,
}

impl PlanLimits {
    /// At most 10 optimizations run at once in any account, whatever the plan.
    pub const CONCURRENT_OPTIMIZATIONS: u32 = 10;
    /// At most 3 benchmarks queued or running at once in any account.
    pub const CONCURRENT_BENCHMARKS: u32 = 3;

    pub fn new(
        agents: u32,
        optimizations_per_month: u32,
        conversations_per_month: u32,
        requests_per_minute: u32,
    ) -> Self {
        PlanLimits {
            agents,
            prompts: agents,
            optimizations_per_month,
            conversations_per_month,
            requests_per_minute,
            concurrent_optimizations: Self::CONCURRENT_OPTIMIZATIONS,
            tokens_per_month: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub id: PlanId,
    pub name: String,
    pub limits: PlanLimits,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub plan: Plan,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_limits_follow_the_documented_plans() {
        let free = PlanId::Free.default_limits();
        assert_eq!((free.agents, free.requests_per_minute), (5, 60));
        assert_eq!(free.conversations_per_month, 500);
        let pro = PlanId::Pro.default_limits();
        assert_eq!((pro.agents, pro.requests_per_minute), (100, 300));
        assert_eq!(pro.concurrent_optimizations, 10);
        assert_eq!("pro".parse::<PlanId>(), Ok(PlanId::Pro));
        assert!("gold".parse::<PlanId>().is_err());
    }

    #[test]
    fn limits_serialize_in_camel_case_with_the_older_prompts_name() {
        let v = serde_json::to_value(PlanId::Free.default_limits()).unwrap();
        assert_eq!(v["prompts"], v["agents"]);
        assert_eq!(v["optimizationsPerMonth"], 10);
    }
}
