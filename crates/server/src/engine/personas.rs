//! The simulated users (personas), the situations they bring (scenarios) and the
//! behaviours a prompt can ask of an agent. Both engines simulate with these.

/// Something a prompt can instruct an agent to do. The offline engine reads which of these
/// a prompt asks for, and its personas fare better when the behaviour they need is asked for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Hand over to a human when asked or when stuck.
    EscalationPolicy,
    /// Ask for order numbers, account details… before acting.
    AskForMissingDetails,
    /// Keep answers short.
    LengthLimit,
    /// Say what failed and offer an alternative when a tool errors.
    ToolErrorHandling,
    /// Acknowledge feelings, stay calm.
    EmpatheticTone,
    /// Answer the question asked; do not refuse what policy allows.
    AnswerDirectly,
    /// Do not repeat; move the conversation forward.
    VaryAndProgress,
    /// Only state facts from tools or the prompt; say when unsure.
    GroundedAnswers,
}

/// A simulated user.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// Stable id (`persona_…`), accepted by `personaIds`.
    pub id: &'static str,
    pub name: &'static str,
    /// How this user behaves, in words (a model engine plays the user from this).
    pub description: &'static str,
    /// Behaviours without which this user is likely to leave unhappy.
    pub needs: &'static [Behaviour],
    /// 0..1: how quickly this user gives up.
    pub impatience: f64,
}

/// A situation a simulated user brings.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Stable id (`scenario_…`).
    pub id: &'static str,
    pub title: &'static str,
    /// The user's first message.
    pub opening: &'static str,
    /// A tool the agent would call, if any; the offline engine makes it fail sometimes.
    pub tool: Option<&'static str>,
    /// The opening leaves out a detail the agent needs.
    pub missing_detail: Option<&'static str>,
}
