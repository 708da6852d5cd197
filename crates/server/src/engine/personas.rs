//! The simulated users (personas), the situations they bring (scenarios) and the
//! behaviours a prompt can ask of an agent. Both engines simulate with these; the catalogs
//! ([`personas`], [`scenarios`]) are stable, as optimizations store their ids.

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

/// The persona catalog. Ids are stable: optimizations and benchmarks store them.
static PERSONAS: [Persona; 8] = [
    Persona {
        id: "persona_frustrated_customer",
        name: "Frustrated customer",
        description: "Already annoyed when the conversation starts; writes in short, angry \
                      sentences and leaves if the agent sounds indifferent or glosses over \
                      a problem.",
        needs: &[Behaviour::EmpatheticTone, Behaviour::ToolErrorHandling],
        impatience: 0.8,
    },
    Persona {
        id: "persona_vague_requester",
        name: "Vague requester",
        description: "Describes the problem loosely and leaves out the order number, email or \
                      version the agent needs; happy to give it when asked.",
        needs: &[Behaviour::AskForMissingDetails],
        impatience: 0.3,
    },
    Persona {
        id: "persona_busy_professional",
        name: "Busy professional",
        description: "Wants the answer in one or two sentences; loses patience with long \
                      replies and small talk.",
        needs: &[Behaviour::LengthLimit, Behaviour::AnswerDirectly],
        impatience: 0.7,
    },
    Persona {
        id: "persona_power_user",
        name: "Power user",
        description: "Knows the product well, checks every fact and notices invented numbers \
                      or a failed lookup presented as a success.",
        needs: &[Behaviour::GroundedAnswers, Behaviour::ToolErrorHandling],
        impatience: 0.5,
    },
    Persona {
        id: "persona_first_time_user",
        name: "First-time user",
        description: "New to the product, polite but easily lost; needs a direct answer and \
                      gets confused when the agent repeats itself.",
        needs: &[Behaviour::AnswerDirectly, Behaviour::VaryAndProgress],
        impatience: 0.3,
    },
    Persona {
        id: "persona_human_seeker",
        name: "Human seeker",
        description: "Wants a person, not a bot: asks for a human in the first message and \
                      again if refused, then leaves.",
        needs: &[Behaviour::EscalationPolicy],
        impatience: 0.7,
    },
    Persona {
        id: "persona_polite_regular",
        name: "Polite regular",
        description: "A patient, friendly customer with a clear request: the baseline every \
                      prompt should serve well.",
        needs: &[],
        impatience: 0.1,
    },
    Persona {
        id: "persona_non_native_speaker",
        name: "Non-native speaker",
        description: "Writes simple English with small mistakes; long replies and unexplained \
                      jargon lose them, and they often omit details.",
        needs: &[Behaviour::LengthLimit, Behaviour::AskForMissingDetails],
        impatience: 0.4,
    },
];

/// The scenario catalog, most common situations first (callers take the first N).
static SCENARIOS: [Scenario; 10] = [
    Scenario {
        id: "scenario_order_status",
        title: "Order status",
        opening: "Where is my order? It was supposed to arrive yesterday.",
        tool: Some("lookup_order"),
        missing_detail: Some("order number"),
    },
    Scenario {
        id: "scenario_refund",
        title: "Refund request",
        opening: "I'd like a refund for my last purchase, it arrived damaged. Can you help?",
        tool: Some("issue_refund"),
        missing_detail: Some("order number"),
    },
    Scenario {
        id: "scenario_password_reset",
        title: "Password reset",
        opening: "I can't log in to my account and the password reset email never arrives. \
                  What should I do?",
        tool: Some("send_password_reset"),
        missing_detail: Some("account email"),
    },
    Scenario {
        id: "scenario_pricing_question",
        title: "Pricing question",
        opening: "How much does the Pro plan cost, and is there a discount for annual billing?",
        tool: None,
        missing_detail: None,
    },
    Scenario {
        id: "scenario_bug_report",
        title: "Bug report",
        opening: "The app crashes every time I try to export a report to PDF. Can you fix it?",
        tool: Some("create_ticket"),
        missing_detail: Some("app version"),
    },
    Scenario {
        id: "scenario_cancel_subscription",
        title: "Cancel subscription",
        opening: "I want to cancel my subscription. How do I do that?",
        tool: Some("cancel_subscription"),
        missing_detail: Some("account email"),
    },
    Scenario {
        id: "scenario_upgrade_plan",
        title: "Upgrade plan",
        opening: "I'd like to upgrade our workspace to the Team plan. What changes for us?",
        tool: Some("change_plan"),
        missing_detail: None,
    },
    Scenario {
        id: "scenario_shipping_delay",
        title: "Shipping delay",
        opening: "My package has been stuck in transit for a week. What is going on?",
        tool: Some("track_shipment"),
        missing_detail: Some("tracking number"),
    },
    Scenario {
        id: "scenario_integration_setup",
        title: "Integration setup",
        opening: "How do I connect your product to our Slack workspace?",
        tool: None,
        missing_detail: None,
    },
    Scenario {
        id: "scenario_complaint",
        title: "Complaint",
        opening: "This is the third time I'm writing about the same billing problem. Why has \
                  nobody fixed it?",
        tool: None,
        missing_detail: None,
    },
];

/// Every persona, in catalog order.
pub fn personas() -> &'static [Persona] {
    &PERSONAS
}

/// The persona with this id.
pub fn persona(id: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.id == id)
}

/// Every scenario, in catalog order.
pub fn scenarios() -> &'static [Scenario] {
    &SCENARIOS
}

/// The scenario with this id.
pub fn scenario(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

impl Behaviour {
    /// Every behaviour, in the order the offline engine falls back to them as general
    /// best practices when no issue calls for one.
    pub const ALL: [Behaviour; 8] = [
        Behaviour::GroundedAnswers,
        Behaviour::AnswerDirectly,
        Behaviour::EmpatheticTone,
        Behaviour::LengthLimit,
        Behaviour::AskForMissingDetails,
        Behaviour::ToolErrorHandling,
        Behaviour::EscalationPolicy,
        Behaviour::VaryAndProgress,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_prefixed_and_found() {
        let ids: BTreeSet<&str> = personas().iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), personas().len());
        for p in personas() {
            assert!(p.id.starts_with("persona_"), "{}", p.id);
            assert_eq!(persona(p.id), Some(p));
            assert!((0.0..=1.0).contains(&p.impatience));
        }
        let ids: BTreeSet<&str> = scenarios().iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), scenarios().len());
        for s in scenarios() {
            assert!(s.id.starts_with("scenario_"), "{}", s.id);
            assert_eq!(scenario(s.id), Some(s));
        }
        assert!(persona("persona_nobody").is_none());
        assert!(scenario("scenario_nothing").is_none());
    }

    #[test]
    fn every_behaviour_is_needed_by_some_persona() {
        let needed: BTreeSet<Behaviour> = personas()
            .iter()
            .flat_map(|p| p.needs.iter().copied())
            .collect();
        let all: BTreeSet<Behaviour> = Behaviour::ALL.into_iter().collect();
        assert_eq!(needed, all);
    }
}
