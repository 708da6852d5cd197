//! `GET /settings` and `PATCH /settings`: the account's defaults for new agents,
//! optimizations and insights, and the model the server calls on its behalf.

use serde::{Deserialize, Serialize};

/// The model an agent gets when it names none.
pub const DEFAULT_PREFERRED_LLM: &str = "gpt-4o-mini";

/// The whole settings document. Every section and field has a default, so an account that
/// never saved settings reads the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Settings {
    pub general: GeneralSettings,
    pub optimization: OptimizationSettings,
    pub llm: LlmSettings,
    pub insights: InsightsSettings,
    pub business_impact: BusinessImpactSettings,
}

/// What the business is and wants; insights and optimizations read it as context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GeneralSettings {
    pub name: Option<String>,
    pub industry: Option<String>,
    /// The model of an agent created without `llmModel`.
    #[serde(rename = "preferredLLM")]
    pub preferred_llm: String,
    pub objectives: Option<String>,
    pub kpis: Option<String>,
    pub insight_requirements: Option<String>,
    /// What insights and optimizations must leave out.
    pub excluded_data_and_topics: Option<String>,
}

impl Default for GeneralSettings {
    fn default() -> Self {
        GeneralSettings {
            name: None,
            industry: None,
            preferred_llm: DEFAULT_PREFERRED_LLM.to_owned(),
            objectives: None,
            kpis: None,
            insight_requirements: None,
            excluded_data_and_topics: None,
        }
    }
}

/// Whether a winning variant waits for someone to apply it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentMode {
    #[default]
    Manual,
    SemiAutomatic,
}

/// How sure an optimization must be before it names a winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceMode {
    Relaxed,
    #[default]
    Moderate,
    Strict,
}

impl ConfidenceMode {
    /// The confidence (0..1) a winner needs: 0.80, 0.90 or 0.95.
    pub fn level(self) -> f64 {
        match self {
            ConfidenceMode::Relaxed => 0.80,
            ConfidenceMode::Moderate => 0.90,
            ConfidenceMode::Strict => 0.95,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct OptimizationSettings {
    pub optimization_strategy: Option<String>,
    /// 1..5; the default `variantCount` of a new optimization.
    pub variants_per_generation: u32,
    pub deployment_mode: DeploymentMode,
    /// 1..100.
    pub max_iterations: u32,
    pub simulation: SimulationSettings,
}

impl OptimizationSettings {
    pub const VARIANTS_PER_GENERATION: (u32, u32) = (1, 5);
    pub const MAX_ITERATIONS: (u32, u32) = (1, 100);
}

impl Default for OptimizationSettings {
    fn default() -> Self {
        OptimizationSettings {
            optimization_strategy: None,
            variants_per_generation: 3,
            deployment_mode: DeploymentMode::Manual,
            max_iterations: 10,
            simulation: SimulationSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SimulationSettings {
    /// 1..20.
    pub persona_count: u32,
    /// 1..10.
    pub scenarios_per_simulation: u32,
    /// 2..30.
    pub max_turns: u32,
    pub confidence_mode: ConfidenceMode,
    /// 0..2: the sampling temperature of the simulated user (with a model), so that the
    /// replicates of a cell meet different users. The agent and the judge run at 0.
    pub user_temperature: f64,
}

impl SimulationSettings {
    pub const PERSONA_COUNT: (u32, u32) = (1, 20);
    pub const SCENARIOS_PER_SIMULATION: (u32, u32) = (1, 10);
    pub const MAX_TURNS: (u32, u32) = (2, 30);
    pub const USER_TEMPERATURE: (f64, f64) = (0.0, 2.0);
    pub const DEFAULT_USER_TEMPERATURE: f64 = 0.7;
}

impl Default for SimulationSettings {
    fn default() -> Self {
        SimulationSettings {
            persona_count: 5,
            scenarios_per_simulation: 3,
            max_turns: 10,
            confidence_mode: ConfidenceMode::Moderate,
            user_temperature: Self::DEFAULT_USER_TEMPERATURE,
        }
    }
}

/// The model endpoint the server calls for this account (OpenAI-compatible). The API key
/// is write-only: `PATCH` takes `apiKey`, reads only say whether one is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LlmSettings {
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub has_api_key: bool,
    /// The model that judges simulated conversations, when it should not be `model`.
    pub judge_model: Option<String>,
    pub structured_outputs: StructuredOutputs,
}

/// How structured replies (judgements, rewrites) are asked of the model endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutputs {
    /// A strict JSON schema first; where the endpoint refuses schemas, a JSON object from
    /// then on.
    #[default]
    Auto,
    /// Always a strict JSON schema (`response_format: json_schema`).
    JsonSchema,
    /// Always a plain JSON object (`response_format: json_object`), for servers without
    /// schema support.
    JsonObject,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct InsightsSettings {
    /// Whether a logged conversation gets insights without being asked.
    pub auto_generate: bool,
}

impl Default for InsightsSettings {
    fn default() -> Self {
        InsightsSettings {
            auto_generate: true,
        }
    }
}

/// What a conversation is worth, to put a price on failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct BusinessImpactSettings {
    pub value_per_conversation: Option<f64>,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
}

impl Default for BusinessImpactSettings {
    fn default() -> Self {
        BusinessImpactSettings {
            value_per_conversation: None,
            currency: "USD".to_owned(),
        }
    }
}

/// The body of `PATCH /settings`: a deep merge. Absent fields stay; `null` puts a field back
/// to its default; an unknown field is a `VALIDATION_ERROR` naming its path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<GeneralPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization: Option<OptimizationPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insights: Option<InsightsPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_impact: Option<BusinessImpactPatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneralPatch {
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "\\S")
    )]
    #[serde(
        rename = "preferredLLM",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred_llm: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 10000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 10000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpis: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 10000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insight_requirements: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 10000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_data_and_topics: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptimizationPatch {
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization_strategy: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants_per_generation: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<DeploymentMode>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationPatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulationPatch {
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona_count: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenarios_per_simulation: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 30))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_mode: Option<ConfidenceMode>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 2.0))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_temperature: Option<f64>,
}

/// `apiKey` is stored and never returned; `null` or `""` removes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LlmPatch {
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_outputs: Option<StructuredOutputs>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InsightsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_generate: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessImpactPatch {
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1_000_000_000.0))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_per_conversation: Option<f64>,
    #[cfg_attr(feature = "openapi", schema(pattern = "^\\s*[A-Za-z]{3}\\s*$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// The answer to `PATCH /settings`: the settings under `data` and, as documented, again
/// under `settings` beside `"success": true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdated {
    pub data: Settings,
    pub success: bool,
    pub settings: Settings,
}

impl SettingsUpdated {
    pub fn new(settings: Settings) -> Self {
        SettingsUpdated {
            data: settings.clone(),
            success: true,
            settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let v = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(v["general"]["preferredLLM"], "gpt-4o-mini");
        assert_eq!(v["optimization"]["variantsPerGeneration"], 3);
        assert_eq!(v["optimization"]["maxIterations"], 10);
        assert_eq!(v["optimization"]["deploymentMode"], "manual");
        assert_eq!(v["optimization"]["simulation"]["personaCount"], 5);
        assert_eq!(v["optimization"]["simulation"]["scenariosPerSimulation"], 3);
        assert_eq!(v["optimization"]["simulation"]["maxTurns"], 10);
        assert_eq!(v["insights"]["autoGenerate"], true);
        assert_eq!(v["businessImpact"]["currency"], "USD");
        assert_eq!(v["llm"]["hasApiKey"], false);
        assert_eq!(v["llm"]["structuredOutputs"], "auto");
        assert_eq!(v["llm"]["judgeModel"], serde_json::Value::Null);
        assert_eq!(v["optimization"]["simulation"]["userTemperature"], 0.7);
        assert_eq!(
            serde_json::from_value::<Settings>(v).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn semi_automatic_is_spelled_with_a_hyphen() {
        assert_eq!(
            serde_json::to_value(DeploymentMode::SemiAutomatic).unwrap(),
            "semi-automatic"
        );
        assert_eq!(ConfidenceMode::Strict.level(), 0.95);
    }

    #[test]
    fn an_empty_patch_serializes_to_an_empty_object() {
        assert_eq!(
            serde_json::to_value(SettingsPatch::default()).unwrap(),
            serde_json::json!({})
        );
    }
}
