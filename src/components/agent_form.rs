//! The agent form shared by the new-agent form (the agents list) and the edit form (one
//! agent's page): what is typed, the server's rules said first by the browser, and the
//! inputs with their errors.

use converra_api::agents::{Agent, AgentStatus, CreateAgent, UpdateAgent};
use converra_api::FieldError;
use leptos::prelude::*;

use crate::api::ClientError;
use crate::components::form_fields::{SelectField, TextField};
use crate::format;

// The server's limits, from the wire types both sides share, so the form can say what is
// wrong before sending.
const MAX_NAME_CHARS: usize = CreateAgent::MAX_NAME_CHARS;
const MAX_PROMPT_CHARS: usize = CreateAgent::MAX_PROMPT_CHARS;
const MAX_MODEL_CHARS: usize = CreateAgent::MAX_MODEL_CHARS;
const MAX_DESCRIPTION_CHARS: usize = CreateAgent::MAX_DESCRIPTION_CHARS;
const MAX_OBJECTIVE_CHARS: usize = CreateAgent::MAX_OBJECTIVE_CHARS;
const MAX_TAGS: usize = CreateAgent::MAX_TAGS;
const MAX_TAG_CHARS: usize = CreateAgent::MAX_TAG_CHARS;
const MIN_TEMPERATURE: f64 = CreateAgent::TEMPERATURE_RANGE.0;
const MAX_TEMPERATURE: f64 = CreateAgent::TEMPERATURE_RANGE.1;

/// The fields of the new-agent and edit forms, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentForm {
    pub name: String,
    pub content: String,
    /// Empty on the new-agent form means the account's preferred model.
    pub llm_model: String,
    pub status: AgentStatus,
    pub description: String,
    /// Comma-separated.
    pub tags: String,
    pub objective: String,
    /// As typed; empty means the model's default.
    pub temperature: String,
    /// As typed; empty means the model's default.
    pub max_tokens: String,
}

impl Default for AgentForm {
    fn default() -> Self {
        AgentForm {
            name: String::new(),
            content: String::new(),
            llm_model: String::new(),
            status: AgentStatus::Active,
            description: String::new(),
            tags: String::new(),
            objective: String::new(),
            temperature: String::new(),
            max_tokens: String::new(),
        }
    }
}

impl AgentForm {
    /// The form filled in from an agent, for editing.
    pub fn of(agent: &Agent) -> Self {
        AgentForm {
            name: agent.name.clone(),
            content: agent.content.clone(),
            llm_model: agent.llm_model.clone(),
            status: agent.status,
            description: agent.description.clone().unwrap_or_default(),
            tags: agent.tags.join(", "),
            objective: agent.objective.clone().unwrap_or_default(),
            temperature: agent.temperature.map(|t| t.to_string()).unwrap_or_default(),
            max_tokens: agent.max_tokens.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// The tags typed, trimmed, without empty entries.
    pub fn tag_list(&self) -> Vec<String> {
        self.tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The temperature typed: `Ok(None)` when empty, `Err` when it is no number in range.
    fn temperature_value(&self) -> Result<Option<f64>, String> {
        let typed = self.temperature.trim();
        if typed.is_empty() {
            return Ok(None);
        }
        match typed.parse::<f64>() {
            Ok(t) if (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&t) => Ok(Some(t)),
            _ => Err(format!(
                "Enter a number from {MIN_TEMPERATURE} to {MAX_TEMPERATURE}, such as 0.7."
            )),
        }
    }

    /// The max tokens typed: `Ok(None)` when empty, `Err` when it is no whole number in range.
    fn max_tokens_value(&self) -> Result<Option<u32>, String> {
        let (min, max) = CreateAgent::MAX_TOKENS_RANGE;
        let typed = self.max_tokens.trim();
        if typed.is_empty() {
            return Ok(None);
        }
        match typed.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "Enter a whole number from {min} to {}.",
                format::thousands(u64::from(max))
            )),
        }
    }

    /// What is wrong, field by field (named as the API names them), in the server's terms;
    /// empty when the form can be sent. `editing` is the agent the edit form changes: there
    /// an empty model cannot mean "the default", and a set number cannot be emptied (the
    /// API keeps a value it is not sent).
    pub fn validate(&self, editing: Option<&Agent>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        let name = self.name.trim();
        if name.is_empty() {
            fail("name", "Enter a name.".to_owned());
        } else if name.chars().count() > MAX_NAME_CHARS {
            fail(
                "name",
                format!("A name has at most {MAX_NAME_CHARS} characters."),
            );
        }
        let content = self.content.trim();
        if content.is_empty() {
            fail("content", "Enter the system prompt.".to_owned());
        } else if content.chars().count() > MAX_PROMPT_CHARS {
            fail(
                "content",
                format!(
                    "A prompt has at most {} characters; this one has {}.",
                    format::thousands(MAX_PROMPT_CHARS as u64),
                    format::thousands(content.chars().count() as u64)
                ),
            );
        }
        let model = self.llm_model.trim();
        if model.is_empty() && editing.is_some() {
            fail("llmModel", "Enter a model, such as gpt-4o-mini.".to_owned());
        } else if model.chars().count() > MAX_MODEL_CHARS {
            fail(
                "llmModel",
                format!("A model name has at most {MAX_MODEL_CHARS} characters."),
            );
        }
        if self.description.trim().chars().count() > MAX_DESCRIPTION_CHARS {
            fail(
                "description",
                format!("A description has at most {MAX_DESCRIPTION_CHARS} characters."),
            );
        }
        let tags = self.tag_list();
        if tags.len() > MAX_TAGS {
            fail(
                "tags",
                format!("At most {MAX_TAGS} tags; this has {}.", tags.len()),
            );
        } else if tags.iter().any(|t| t.chars().count() > MAX_TAG_CHARS) {
            fail(
                "tags",
                format!("A tag has at most {MAX_TAG_CHARS} characters."),
            );
        }
        if self.objective.trim().chars().count() > MAX_OBJECTIVE_CHARS {
            fail(
                "objective",
                format!("An objective has at most {MAX_OBJECTIVE_CHARS} characters."),
            );
        }
        match self.temperature_value() {
            Err(message) => fail("temperature", message),
            Ok(None) if editing.is_some_and(|a| a.temperature.is_some()) => fail(
                "temperature",
                "A set temperature can be changed but not removed.".to_owned(),
            ),
            Ok(_) => {}
        }
        match self.max_tokens_value() {
            Err(message) => fail("maxTokens", message),
            Ok(None) if editing.is_some_and(|a| a.max_tokens.is_some()) => fail(
                "maxTokens",
                "A set limit can be changed but not removed.".to_owned(),
            ),
            Ok(_) => {}
        }
        errors
    }

    /// The `POST /agents` body: trimmed, with empty optional fields left out.
    pub fn to_create(&self) -> CreateAgent {
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        CreateAgent {
            name: self.name.trim().to_owned(),
            content: self.content.trim().to_owned(),
            llm_model: optional(&self.llm_model),
            description: optional(&self.description),
            status: Some(self.status),
            tags: Some(self.tag_list()).filter(|t| !t.is_empty()),
            objective: optional(&self.objective),
            temperature: self.temperature_value().ok().flatten(),
            max_tokens: self.max_tokens_value().ok().flatten(),
            ..CreateAgent::default()
        }
    }

    /// The `PATCH /agents/:id` body: only what differs from `agent`, so saving an unchanged
    /// prompt makes no new version. `None` when nothing changed.
    pub fn to_update(&self, agent: &Agent) -> Option<UpdateAgent> {
        let changed = |new: &str, old: &str| (new.trim() != old).then(|| new.trim().to_owned());
        let change = UpdateAgent {
            name: changed(&self.name, &agent.name),
            content: changed(&self.content, &agent.content),
            llm_model: changed(&self.llm_model, &agent.llm_model),
            status: (self.status != agent.status).then_some(self.status),
            description: changed(
                &self.description,
                agent.description.as_deref().unwrap_or(""),
            )
            .filter(|d| !d.is_empty()),
            tags: Some(self.tag_list()).filter(|t| *t != agent.tags),
            objective: changed(&self.objective, agent.objective.as_deref().unwrap_or(""))
                .filter(|o| !o.is_empty()),
            temperature: self
                .temperature_value()
                .ok()
                .flatten()
                .filter(|t| Some(*t) != agent.temperature),
            max_tokens: self
                .max_tokens_value()
                .ok()
                .flatten()
                .filter(|n| Some(*n) != agent.max_tokens),
            ..UpdateAgent::default()
        };
        (change != UpdateAgent::default()).then_some(change)
    }
}

/// The fields of the agent form, as the API names them.
const AGENT_FIELDS: [&str; 9] = [
    "name",
    "content",
    "llmModel",
    "description",
    "status",
    "tags",
    "objective",
    "temperature",
    "maxTokens",
];

/// The agent-form field a `VALIDATION_ERROR` names, with the server's words; other
/// refusals stay in the error panel.
pub fn server_field_error(error: &ClientError) -> Option<FieldError> {
    error.form_field_error(&AGENT_FIELDS)
}

/// The inputs shared by the new-agent and edit forms: name, model, status, description and
/// prompt, each a form field with its error under it. `prefix` keeps the ids of two forms
/// apart.
#[component]
pub fn AgentFields(
    form: RwSignal<AgentForm>,
    field_errors: RwSignal<Vec<FieldError>>,
    #[prop(into)] server_error: Signal<Option<FieldError>>,
    prefix: &'static str,
    /// The model field's hint ("Leave empty for the account's preferred model").
    model_hint: &'static str,
) -> impl IntoView {
    let id = move |field: &str| format!("{prefix}-{field}");
    // The form's own checks first, then what the server said.
    let errors = Signal::derive(move || {
        let mut all = field_errors.get();
        all.extend(server_error.get());
        all
    });
    let prompt_size = Signal::derive(move || {
        let chars = form.with(|f| f.content.trim().chars().count());
        format!(
            "{} of {} characters",
            format::thousands(chars as u64),
            format::thousands(MAX_PROMPT_CHARS as u64)
        )
    });
    let statuses = AgentStatus::ALL
        .into_iter()
        .map(|status| (status.as_str(), status.as_str()))
        .collect();
    view! {
        <div class="agent-fields">
            <TextField form errors field="name" id=id("name") label="Name" maxlength=400
                get=|f| f.name.clone() set=|f, v| f.name = v/>
            <TextField form errors field="llmModel" id=id("llmModel") label="Model"
                list="agent-model-suggestions" placeholder="gpt-4o-mini" hint=model_hint
                get=|f| f.llm_model.clone() set=|f, v| f.llm_model = v/>
            <datalist id="agent-model-suggestions">
                <option value="gpt-4o-mini"></option>
                <option value="gpt-4o"></option>
                <option value="gpt-4.1-mini"></option>
                <option value="gpt-4.1"></option>
                <option value="claude-3-5-sonnet"></option>
            </datalist>
            <SelectField form errors field="status" id=id("status") label="Status" options=statuses
                get=|f| f.status.as_str().to_owned()
                set=|f, v| {
                    if let Ok(status) = v.parse() {
                        f.status = status;
                    }
                }/>
            <TextField form errors field="description" id=id("description") label="Description (optional)"
                get=|f| f.description.clone() set=|f, v| f.description = v/>
            <TextField form errors field="tags" id=id("tags") label="Tags (optional)"
                hint="Separated by commas, such as support, billing."
                get=|f| f.tags.clone() set=|f, v| f.tags = v/>
            <TextField form errors field="temperature" id=id("temperature") label="Temperature (optional)"
                hint="0 to 2. Empty: the model's default." placeholder="0.7"
                get=|f| f.temperature.clone() set=|f, v| f.temperature = v/>
            <TextField form errors field="maxTokens" id=id("maxTokens") label="Max tokens (optional)"
                hint="The longest reply. Empty: the model's default." placeholder="1024"
                get=|f| f.max_tokens.clone() set=|f, v| f.max_tokens = v/>
            <TextField form errors field="objective" id=id("objective") label="Objective (optional)"
                hint="What optimizations aim at, such as: resolve refunds on the first contact."
                multiline=true wide=true
                get=|f| f.objective.clone() set=|f, v| f.objective = v/>
            <TextField form errors field="content" id=id("content") label="System prompt"
                multiline=true rows=12 wide=true note=prompt_size
                get=|f| f.content.clone() set=|f, v| f.content = v/>
        </div>
    }
}
