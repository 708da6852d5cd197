//! The offline engine's simulated conversations: a scripted persona meets an agent whose
//! replies come from templates chosen by the behaviours its prompt asks for
//! ([`behaviours_in`]). Every random number is drawn up front from named sub-streams of the
//! seed, in the same order whatever the prompt, so that two arms of one cell meet the same
//! user, the same tool failures and the same phrasings: their differences come from the
//! prompt alone.

use std::collections::BTreeSet;

use converra_api::conversations::{Message, Role, TokenUsage, ToolCall};
use serde_json::{Map, Value};

use crate::engine::personas::{Behaviour, Persona, Scenario};
use crate::engine::rng::SeededRng;
use crate::engine::{SimulatedConversation, SimulationRequest};

use super::variants::behaviours_in;

/// How often a tool call fails, per attempt.
const TOOL_FAILURE_RATE: f64 = 0.3;
/// How many times an agent calls the scenario's tool at most.
const MAX_TOOL_ATTEMPTS: usize = 3;
/// Conversations stop at this many messages whatever `max_turns` asks (they end on their
/// own long before: every unproductive turn costs the user patience).
const MAX_MESSAGES: u32 = 100;
/// The model name simulated assistant messages carry.
const SIMULATED_MODEL: &str = "offline-simulator";

/// The scenario-specific text of a simulation. Facts in `grounded` come from `result`, so
/// that the analysis finds them supported; `invented` states specifics no source gives.
struct Script {
    detail_question: &'static str,
    detail_answer: &'static str,
    /// The tool's argument once the detail is known.
    argument: (&'static str, &'static str),
    result: &'static [(&'static str, &'static str)],
    grounded: &'static str,
    invented: &'static str,
    /// What an agent says when it skips asking for the missing detail.
    generic: &'static str,
    follow_up: &'static str,
    alternative: &'static str,
    system: &'static str,
}

const GENERIC_SCRIPT: Script = Script {
    detail_question: "Could you give me the reference number, so I can look this up?",
    detail_answer: "The reference is #48213.",
    argument: ("reference", "48213"),
    result: &[("reference", "48213"), ("status", "in progress")],
    grounded: "I've checked reference 48213: it is in progress and being handled now.",
    invented: "This will be fully resolved within 24 hours, guaranteed.",
    generic: "Requests like this are usually handled quickly once our team has looked at them.",
    follow_up: "So what happens now with my request?",
    alternative: "open a ticket so the team emails you as soon as it is sorted.",
    system: "system",
};

fn script(scenario: &Scenario) -> &'static Script {
    static SCRIPTS: [(&str, Script); 10] = [
        (
            "scenario_order_status",
            Script {
                detail_question: "Could you share your order number so I can look it up?",
                detail_answer: "It's order #48213.",
                argument: ("orderId", "48213"),
                result: &[
                    ("orderId", "48213"),
                    ("status", "shipped"),
                    ("carrier", "DHL"),
                    ("shippedOn", "11 March"),
                    ("eta", "Thursday 14 March"),
                ],
                grounded: "Your order 48213 shipped with DHL on 11 March and is due to arrive on Thursday 14 March.",
                invented: "Your order is on its way and will arrive within 2 business days, guaranteed.",
                generic: "Orders usually arrive within the delivery window shown at checkout, so yours should be with you soon.",
                follow_up: "So where is my order now?",
                alternative: "open a ticket so the shipping team emails you the tracking details as soon as the system responds.",
                system: "order system",
            },
        ),
        (
            "scenario_refund",
            Script {
                detail_question: "I can sort that out. What's the order number of the damaged item?",
                detail_answer: "It's order #48213.",
                argument: ("orderId", "48213"),
                result: &[
                    ("refundId", "R-7781"),
                    ("orderId", "48213"),
                    ("amount", "EUR 59.90"),
                    ("status", "approved"),
                    ("arrivesWithin", "5 business days"),
                ],
                grounded: "I've issued refund R-7781 for order 48213: EUR 59.90 goes back to your card within 5 business days.",
                invented: "Your refund has been processed and the money will be back on your card within 3 days, guaranteed.",
                generic: "Refunds for damaged items are usually approved once the order has been checked, and the money goes back to the original payment method.",
                follow_up: "So will I get my money back or not?",
                alternative: "log the refund request with our billing team instead, and they will email you the confirmation.",
                system: "refund system",
            },
        ),
        (
            "scenario_password_reset",
            Script {
                detail_question: "Which email address is on the account, so I can send a fresh reset link?",
                detail_answer: "It's sam.lee@example.com.",
                argument: ("email", "sam.lee@example.com"),
                result: &[
                    ("sent", "true"),
                    ("to", "sam.lee@example.com"),
                    ("expiresIn", "30 minutes"),
                ],
                grounded: "I've sent a new reset link to sam.lee@example.com. It expires in 30 minutes and can land in the spam folder.",
                invented: "Your password has been reset and the new link will reach you within 2 minutes, guaranteed.",
                generic: "Reset emails sometimes land in the spam folder; requesting a new one from the login page usually helps.",
                follow_up: "I still can't get in. What should I do?",
                alternative: "ask our account team to reset it manually and email you once it's done.",
                system: "email service",
            },
        ),
        (
            "scenario_pricing_question",
            Script {
                grounded: "The Pro plan is billed per seat each month, and annual billing comes with a discount; the pricing page lists the current figures for your region.",
                invented: "The Pro plan costs $29 per seat per month, and annual billing saves you 20%, guaranteed.",
                follow_up: "But how much does the Pro plan actually cost?",
                ..GENERIC_SCRIPT
            },
        ),
        (
            "scenario_bug_report",
            Script {
                detail_question: "Which version of the app are you on, and on which device?",
                detail_answer: "Version 4.2.1 on Windows.",
                argument: ("appVersion", "4.2.1"),
                result: &[
                    ("ticketId", "BUG-3094"),
                    ("status", "open"),
                    ("knownIssue", "true"),
                    ("workaround", "export to CSV, then print to PDF"),
                ],
                grounded: "I've logged this as ticket BUG-3094. It is a known crash; until the fix ships, exporting to CSV and then printing to PDF works.",
                invented: "This is fixed in version 5.1, which will be released on Monday, guaranteed.",
                generic: "Crashes during export are often fixed by updating the app and restarting it.",
                follow_up: "It still crashes. Is there anything that works?",
                alternative: "write up the crash details for our engineers by email instead, so nothing gets lost.",
                system: "ticketing system",
            },
        ),
        (
            "scenario_cancel_subscription",
            Script {
                detail_question: "Which email address is the subscription under?",
                detail_answer: "It's sam.lee@example.com.",
                argument: ("email", "sam.lee@example.com"),
                result: &[
                    ("status", "cancelled"),
                    ("activeUntil", "31 May"),
                    ("refund", "none"),
                ],
                grounded: "Your subscription is cancelled. You keep access until 31 May and won't be charged again.",
                invented: "Your subscription has been cancelled and you'll get a full refund within 7 days.",
                generic: "You can cancel any time from the billing page in your account settings.",
                follow_up: "So is it cancelled now or not?",
                alternative: "pass the cancellation to our billing team instead; they will confirm it by email.",
                system: "billing system",
            },
        ),
        (
            "scenario_upgrade_plan",
            Script {
                argument: ("plan", "Team"),
                result: &[
                    ("plan", "Team"),
                    ("seats", "8"),
                    ("effective", "today"),
                    ("prorated", "true"),
                ],
                grounded: "Your workspace is on the Team plan from today for all 8 seats, with a prorated charge on the next invoice; you now get shared inboxes and admin roles.",
                invented: "You're now on the Team plan, and it will save you $99 a year, guaranteed.",
                follow_up: "Did the upgrade go through?",
                alternative: "have our billing team apply the upgrade manually and confirm by email.",
                system: "billing system",
                ..GENERIC_SCRIPT
            },
        ),
        (
            "scenario_shipping_delay",
            Script {
                detail_question: "Could you send me the tracking number so I can check with the carrier?",
                detail_answer: "The tracking number is 1Z999AA10123456784.",
                argument: ("trackingNumber", "1Z999AA10123456784"),
                result: &[
                    ("status", "held at customs"),
                    ("location", "Leipzig hub"),
                    ("expectedRelease", "Friday"),
                ],
                grounded: "Your package is held at customs at the Leipzig hub; the carrier expects to release it on Friday.",
                invented: "Your package will be delivered tomorrow before 6 pm, guaranteed.",
                generic: "Packages in transit are sometimes held by customs or carrier backlogs, and they usually start moving again soon.",
                follow_up: "So when will my package arrive?",
                alternative: "open a trace request with the carrier and email you as soon as they reply.",
                system: "tracking system",
            },
        ),
        (
            "scenario_integration_setup",
            Script {
                grounded: "In the app, open Settings, then Integrations, choose Slack and approve access for your workspace; messages then appear in the channel you pick.",
                invented: "Open Settings, then Integrations, and paste your API key; it syncs every 5 minutes and supports up to 50 channels.",
                follow_up: "Where exactly do I connect Slack?",
                ..GENERIC_SCRIPT
            },
        ),
        (
            "scenario_complaint",
            Script {
                grounded: "You're right that this billing problem should have been fixed by now. I've read the earlier messages, and the billing team will correct the charge and confirm it to you by email.",
                invented: "The billing problem has been fixed and a credit of $20 has been added to your account.",
                follow_up: "Why has nobody fixed my billing problem yet?",
                ..GENERIC_SCRIPT
            },
        ),
    ];
    SCRIPTS
        .iter()
        .find(|(id, _)| *id == scenario.id)
        .map(|(_, s)| s)
        .unwrap_or(&GENERIC_SCRIPT)
}

/// Sentences a rambling agent pads its answers with. None states a fact, names a number
/// or offers a next step, so padding changes only the length (and a robotic phrase).
const FILLER: [&str; 8] = [
    "I completely understand how important this is, and I want to make sure you have everything you need to move forward with confidence.",
    "As a general note, our support team is always glad to answer any follow-up questions you might have about this or anything related to your account.",
    "It is also worth mentioning that our help centre covers many common questions in detail, with step-by-step guides and screenshots.",
    "Please don't hesitate to reach out again whenever something is unclear, if anything changes, or if you simply want to double-check a detail.",
    "We are continuously improving the way we work, and feedback from customers like you is genuinely valuable to us in that effort.",
    "In the meantime, keeping an eye on your inbox, including the spam folder, can be useful, since updates are usually sent there first.",
    "As a valued customer, your satisfaction matters a great deal to us, and we appreciate your patience and understanding.",
    "I hope this explanation gives you a clear picture of where things stand and what happens next in the process.",
];

const EMPATHY: [&str; 2] = [
    "I'm sorry about the trouble, I can see how frustrating this is. ",
    "I understand how annoying this must be, and I'm sorry. ",
];

const CLOSINGS_HAPPY: [&str; 3] = [
    "Thanks, that solved it!",
    "Perfect, thank you so much.",
    "Great, thanks for your help!",
];
const CLOSINGS_OK: [&str; 2] = ["OK, thanks.", "Alright, thank you."];
const CLOSINGS_UNHAPPY: [&str; 2] = [
    "Fine. That took far too long.",
    "OK, whatever. That was painful.",
];
const ABANDONS: [&str; 3] = [
    "Forget it, this is useless. I'll go elsewhere.",
    "This is a waste of time. Forget it.",
    "Never mind, I give up.",
];

/// Every random number one conversation may use, drawn before it starts.
struct Draws {
    turns: Vec<TurnDraws>,
    tool_fails: [bool; MAX_TOOL_ATTEMPTS],
    tool_errors: [usize; MAX_TOOL_ATTEMPTS],
}

#[derive(Debug, Clone, Copy, Default)]
struct TurnDraws {
    user_pick: usize,
    user_u: f64,
    /// Deflections and repeats.
    agent_u: f64,
    /// Whether an agent without a grounding rule makes something up.
    agent_v: f64,
    agent_pick: usize,
    length_u: f64,
    latency_z: f64,
}

const TOOL_ERRORS: [&str; 4] = [
    "upstream timeout after 30 s",
    "503 Service Unavailable",
    "connection reset by peer",
    "rate limit exceeded (429)",
];

impl Draws {
    fn new(seed: u64, turns: usize) -> Self {
        let mut user = SeededRng::derive(seed, "user");
        let mut agent = SeededRng::derive(seed, "agent");
        let mut length = SeededRng::derive(seed, "length");
        let mut latency = SeededRng::derive(seed, "latency");
        let mut tool = SeededRng::derive(seed, "tool-failure");
        let turns = (0..turns)
            .map(|_| TurnDraws {
                user_pick: user.below(1 << 16),
                user_u: user.next_f64(),
                agent_u: agent.next_f64(),
                agent_v: agent.next_f64(),
                agent_pick: agent.below(1 << 16),
                length_u: length.next_f64(),
                latency_z: latency.normal(),
            })
            .collect();
        let mut tool_fails = [false; MAX_TOOL_ATTEMPTS];
        let mut tool_errors = [0; MAX_TOOL_ATTEMPTS];
        for (fails, error) in tool_fails.iter_mut().zip(tool_errors.iter_mut()) {
            *fails = tool.chance(TOOL_FAILURE_RATE);
            *error = tool.below(TOOL_ERRORS.len());
        }
        Draws {
            turns,
            tool_fails,
            tool_errors,
        }
    }

    fn turn(&self, index: usize) -> TurnDraws {
        self.turns.get(index).copied().unwrap_or_default()
    }
}

/// What the agent did in a turn, which the user reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Transfer,
    RefuseHuman,
    Refuse,
    Deflect,
    AskDetail,
    Guess,
    Resolve {
        invented: bool,
        long: bool,
    },
    ExplainRetry,
    /// The tool kept failing; the agent offered another way or handed over.
    Alternative,
    /// The tool failed and the reply passed over it (with invented facts or not).
    Gloss {
        invented: bool,
    },
    Stall,
    Repeat,
    GiveUp,
}

struct Reply {
    text: String,
    action: Move,
    tool_call: Option<ToolCall>,
    tool_latency_ms: f64,
}

struct State {
    satisfaction: f64,
    detail_given: bool,
    human_pending: bool,
    asked_human: bool,
    human_refusals: u32,
    tool_attempts: usize,
    tool_failures: usize,
    empathy_shown: bool,
    /// Whether a user who needs empathy has judged the agent's first reply for it.
    empathy_judged: bool,
    pushed_back: bool,
    last: Option<Move>,
    last_text: String,
}

struct Play<'a> {
    persona: &'a Persona,
    scenario: &'a Scenario,
    script: &'static Script,
    has: BTreeSet<Behaviour>,
}

impl Play<'_> {
    fn has(&self, b: Behaviour) -> bool {
        self.has.contains(&b)
    }

    fn needs(&self, b: Behaviour) -> bool {
        self.persona.needs.contains(&b)
    }

    fn persona_is(&self, id: &str) -> bool {
        self.persona.id == id
    }

    fn opening(&self, d: TurnDraws) -> String {
        let opening = self.scenario.opening;
        let pick = |options: &[&str]| options[d.user_pick % options.len()].to_owned();
        match self.persona.id {
            "persona_frustrated_customer" => format!(
                "{}{opening}",
                pick(&[
                    "This is ridiculous!! ",
                    "I'm really annoyed. ",
                    "Seriously, this is unacceptable. "
                ])
            ),
            "persona_busy_professional" => format!("Quick question: {opening}"),
            "persona_power_user" => format!("{opening} I've already checked the help centre."),
            "persona_first_time_user" => format!("Hi! I'm new here. {opening}"),
            "persona_human_seeker" => format!(
                "{opening}{}",
                pick(&[
                    " Can I talk to a real person, please?",
                    " I'd rather speak to a human agent.",
                    " Please put me through to a real person."
                ])
            ),
            "persona_polite_regular" => format!("Hello! {opening} Thanks in advance."),
            "persona_non_native_speaker" => format!("Hello, sorry for my english. {opening}"),
            _ => opening.to_owned(),
        }
    }

    /// Whether the agent may deflect a question now: not when told to answer directly, nor
    /// right after a deflection when told to move the conversation on.
    fn deflects(&self, s: &State) -> bool {
        let moves_on = s.last == Some(Move::Deflect) && self.has(Behaviour::VaryAndProgress);
        !self.has(Behaviour::AnswerDirectly) && !moves_on
    }

    /// How often an agent not told to answer directly opens with pleasantries instead: more
    /// often with a user whose first message is unfocused (one who needs direct answers).
    fn deflection_rate(&self) -> f64 {
        if self.needs(Behaviour::AnswerDirectly) {
            0.5
        } else {
            0.35
        }
    }

    /// The answer text, padded unless the prompt limits length.
    fn answer(&self, core: &str, d: TurnDraws) -> (String, bool) {
        if self.has(Behaviour::LengthLimit) {
            return (core.to_owned(), false);
        }
        let n = 5 + (d.length_u * 3.0) as usize;
        let start = d.agent_pick % FILLER.len();
        let mut text = core.to_owned();
        for k in 0..n {
            text.push(' ');
            text.push_str(FILLER[(start + k) % FILLER.len()]);
        }
        (text, true)
    }

    fn agent_turn(&self, s: &mut State, turn: usize, draws: &Draws) -> Reply {
        let d = draws.turn(turn);
        let plain = |text: String, action: Move| Reply {
            text,
            action,
            tool_call: None,
            tool_latency_ms: 0.0,
        };
        let empathic = self.has(Behaviour::EmpatheticTone)
            && !s.empathy_shown
            && (self.needs(Behaviour::EmpatheticTone) || s.satisfaction < 0.4);
        let mut reply = if s.human_pending {
            s.human_pending = false;
            if self.has(Behaviour::EscalationPolicy) {
                plain("Of course. I'm transferring you to a human colleague now; they will see this conversation, so you won't have to repeat yourself.".to_owned(), Move::Transfer)
            } else {
                plain("I'm sorry, I'm unable to connect you with a person, but I can help you with this myself.".to_owned(), Move::RefuseHuman)
            }
        } else if s.pushed_back
            && !self.has(Behaviour::VaryAndProgress)
            && matches!(
                s.last,
                Some(
                    Move::Deflect | Move::Stall | Move::Gloss { .. } | Move::Repeat | Move::Refuse
                )
            )
            && d.agent_u < 0.7
        {
            let text = if s.last_text.starts_with("I apologize") {
                s.last_text.clone()
            } else {
                format!("I apologize for the confusion. {}", s.last_text)
            };
            plain(text, Move::Repeat)
        } else if turn == 0
            && !self.has(Behaviour::AnswerDirectly)
            && d.agent_u < self.deflection_rate()
        {
            if d.agent_u < 0.08 {
                plain(
                    "I'm sorry, but I can't help with that here.".to_owned(),
                    Move::Refuse,
                )
            } else {
                plain(
                    "Thanks for reaching out! I'd be happy to help you with that.".to_owned(),
                    Move::Deflect,
                )
            }
        } else if !s.detail_given {
            if self.has(Behaviour::AskForMissingDetails) {
                plain(self.script.detail_question.to_owned(), Move::AskDetail)
            } else {
                let invented = !self.has(Behaviour::GroundedAnswers) && d.agent_v < 0.5;
                let core = if invented {
                    self.script.invented
                } else {
                    self.script.generic
                };
                let (text, _) = self.answer(core, d);
                plain(text, Move::Guess)
            }
        } else if let Some(tool) = self.scenario.tool {
            self.tool_turn(s, tool, d, draws)
        } else if self.deflects(s) && d.agent_u < 0.3 {
            plain(
                "That's a great question! There are many factors involved, so it really depends on your situation.".to_owned(),
                Move::Deflect,
            )
        } else {
            let invented = !self.has(Behaviour::GroundedAnswers) && d.agent_v < 0.6;
            let core = if invented {
                self.script.invented
            } else {
                self.script.grounded
            };
            let (text, long) = self.answer(core, d);
            plain(text, Move::Resolve { invented, long })
        };
        if empathic && !matches!(reply.action, Move::Repeat) {
            s.empathy_shown = true;
            reply.text = format!("{}{}", EMPATHY[d.agent_pick % EMPATHY.len()], reply.text);
        }
        reply
    }

    fn tool_turn(&self, s: &mut State, tool: &str, d: TurnDraws, draws: &Draws) -> Reply {
        let system = self.script.system;
        if s.tool_attempts >= MAX_TOOL_ATTEMPTS {
            let (text, action) = if self.has(Behaviour::EscalationPolicy) {
                (format!("The {system} is not responding, so I'm handing you over to a human colleague who can check it manually."), Move::Alternative)
            } else {
                (
                    "I'm sorry, I can't look this up right now. Please try again another time."
                        .to_owned(),
                    Move::GiveUp,
                )
            };
            return Reply {
                text,
                action,
                tool_call: None,
                tool_latency_ms: 0.0,
            };
        }
        let attempt = s.tool_attempts;
        s.tool_attempts += 1;
        let mut arguments = Map::new();
        arguments.insert(
            self.script.argument.0.to_owned(),
            Value::String(self.script.argument.1.to_owned()),
        );
        let mut call = ToolCall {
            id: Some(format!("call_{}", attempt + 1)),
            name: tool.to_owned(),
            arguments: Value::Object(arguments),
            result: None,
            error: None,
            nested_trace: None,
        };
        if !draws.tool_fails[attempt] {
            let result: Map<String, Value> = self
                .script
                .result
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect();
            call.result = Some(Value::Object(result));
            let (text, long) = self.answer(self.script.grounded, d);
            return Reply {
                text,
                action: Move::Resolve {
                    invented: false,
                    long,
                },
                tool_call: Some(call),
                tool_latency_ms: 250.0,
            };
        }
        s.tool_failures += 1;
        let error = TOOL_ERRORS[draws.tool_errors[attempt] % TOOL_ERRORS.len()];
        call.error = Some(error.to_owned());
        let tool_latency_ms = if error.contains("timeout") {
            3_000.0
        } else {
            400.0
        };
        let (text, action) = if self.has(Behaviour::ToolErrorHandling) {
            if s.tool_failures >= 2 {
                if self.has(Behaviour::EscalationPolicy) {
                    (format!("The {system} failed again, so I'm handing you over to a human colleague who can check it manually."), Move::Alternative)
                } else {
                    (
                        format!(
                            "The {system} failed again, so I won't keep you waiting: I can {}",
                            self.script.alternative
                        ),
                        Move::Alternative,
                    )
                }
            } else {
                (format!("Sorry, the {system} didn't respond just now. I can try again, or {} Which would you prefer?", self.script.alternative), Move::ExplainRetry)
            }
        } else if self.has(Behaviour::EscalationPolicy) && s.tool_failures >= 2 {
            (
                "I haven't managed to sort this out, so I'm handing you over to a human colleague."
                    .to_owned(),
                Move::Alternative,
            )
        } else if !self.has(Behaviour::GroundedAnswers) {
            (
                self.answer(self.script.invented, d).0,
                Move::Gloss { invented: true },
            )
        } else {
            ("Let me check on that for you.".to_owned(), Move::Stall)
        };
        Reply {
            text,
            action,
            tool_call: Some(call),
            tool_latency_ms,
        }
    }

    /// The user's answer to a reply, and whether it ends the conversation.
    fn user_turn(&self, s: &mut State, reply: &Move, d: TurnDraws) -> (String, bool) {
        let wasted = 0.08 + 0.12 * self.persona.impatience;
        let pick = |options: &[&str]| options[d.user_pick % options.len()].to_owned();
        let need = |b: Behaviour, yes: f64| if self.needs(b) { yes } else { 0.0 };
        s.pushed_back = false;
        if self.needs(Behaviour::EmpatheticTone) && !s.empathy_judged {
            // An upset user warms to an acknowledgement, and cools further without one.
            s.empathy_judged = true;
            s.satisfaction += if s.empathy_shown { 0.2 } else { -0.1 };
        }
        let text = match *reply {
            Move::Transfer => {
                s.satisfaction += 0.5;
                return (self.closing(s, d), true);
            }
            Move::RefuseHuman => {
                s.satisfaction -= 0.15 + need(Behaviour::EscalationPolicy, 0.1);
                s.human_refusals += 1;
                if self.needs(Behaviour::EscalationPolicy) {
                    if s.human_refusals >= 2 {
                        return (pick(&ABANDONS), true);
                    }
                    if d.user_u < 0.5 {
                        // Grudgingly carries on with the bot.
                        s.pushed_back = true;
                        format!("Fine, if I have to. {}", self.script.follow_up)
                    } else {
                        s.human_pending = true;
                        pick(&[
                            "I said I want to talk to a REAL PERSON. Please transfer me.",
                            "No. I want a HUMAN, not a bot.",
                        ])
                    }
                } else {
                    s.pushed_back = true;
                    self.script.follow_up.to_owned()
                }
            }
            Move::Refuse => {
                s.satisfaction -= wasted + 0.1;
                s.pushed_back = true;
                format!("Why not? {}", self.script.follow_up)
            }
            Move::Deflect => {
                s.satisfaction -= wasted + need(Behaviour::AnswerDirectly, 0.2);
                s.pushed_back = true;
                if self.scenario.missing_detail.is_some() && !s.detail_given {
                    self.scenario.opening.to_owned()
                } else {
                    self.script.follow_up.to_owned()
                }
            }
            Move::AskDetail => {
                s.satisfaction += 0.05;
                s.detail_given = true;
                format!("Sure. {}", self.script.detail_answer)
            }
            Move::Guess => {
                s.satisfaction -= wasted + need(Behaviour::AskForMissingDetails, 0.15);
                s.detail_given = true;
                format!(
                    "That doesn't answer my question. {}",
                    self.script.detail_answer
                )
            }
            Move::ExplainRetry => {
                s.satisfaction -= 0.03;
                "OK, please try again.".to_owned()
            }
            Move::Alternative => {
                s.satisfaction += 0.15 + need(Behaviour::ToolErrorHandling, 0.1);
                return (self.closing(s, d), true);
            }
            Move::Gloss { .. } => {
                if self.needs(Behaviour::GroundedAnswers)
                    || self.needs(Behaviour::ToolErrorHandling)
                {
                    s.satisfaction -= 0.3;
                    s.pushed_back = true;
                    "That doesn't match what I see on my side. Did the lookup actually work?"
                        .to_owned()
                } else if d.user_u < 0.6 {
                    // Believed: the user leaves content, misled.
                    s.satisfaction += 0.2;
                    return (self.closing(s, d), true);
                } else {
                    s.satisfaction -= wasted;
                    s.pushed_back = true;
                    "Are you sure? Can you check again?".to_owned()
                }
            }
            Move::Stall => {
                s.satisfaction -= wasted;
                s.pushed_back = true;
                "OK... and? What did you find?".to_owned()
            }
            Move::Repeat => {
                s.satisfaction -= wasted + need(Behaviour::VaryAndProgress, 0.2);
                s.pushed_back = true;
                "You already said that. Can you actually help me?".to_owned()
            }
            Move::Resolve { invented, long } => {
                s.satisfaction += 0.35;
                if long {
                    s.satisfaction -= 0.05 + need(Behaviour::LengthLimit, 0.2);
                }
                if self.needs(Behaviour::EmpatheticTone) && !s.empathy_shown {
                    s.satisfaction -= 0.1;
                }
                if invented && self.needs(Behaviour::GroundedAnswers) {
                    return (
                        "Where does that come from? Nothing on my side says so. I'll verify that myself.".to_owned(),
                        true,
                    );
                }
                return (self.closing(s, d), true);
            }
            Move::GiveUp => return (pick(&ABANDONS), true),
        };
        if s.satisfaction < 0.12 + 0.1 * self.persona.impatience {
            return (pick(&ABANDONS), true);
        }
        // A user losing patience asks for a person (once).
        if !s.asked_human
            && !self.needs(Behaviour::EscalationPolicy)
            && s.satisfaction < 0.3
            && d.user_u < 0.5
        {
            s.asked_human = true;
            s.human_pending = true;
            return (
                format!("{}Can I speak to a real person instead?", self.flavour(s)),
                false,
            );
        }
        (format!("{}{text}", self.flavour(s)), false)
    }

    /// How an unhappy user starts a message.
    fn flavour(&self, s: &State) -> &'static str {
        if s.satisfaction >= 0.35 {
            ""
        } else if self.persona_is("persona_frustrated_customer") {
            "This is ridiculous!! "
        } else {
            "Honestly, this is frustrating. "
        }
    }

    fn closing(&self, s: &State, d: TurnDraws) -> String {
        let options: &[&str] = if s.satisfaction >= 0.55 {
            &CLOSINGS_HAPPY
        } else if s.satisfaction >= 0.3 {
            &CLOSINGS_OK
        } else {
            &CLOSINGS_UNHAPPY
        };
        options[d.user_pick % options.len()].to_owned()
    }
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn tokens(words: u64) -> u64 {
    (words as f64 * 1.3).ceil() as u64
}

/// Plays one conversation. Deterministic for a seed; the agent's messages carry `usage`
/// (completion ≈ 1.3 tokens a word; prompt = the prompt's and the history's words) and
/// `latencyMs` (300 ms + 12 ms a completion token + noise, plus the tool's time).
pub fn simulate(request: &SimulationRequest) -> SimulatedConversation {
    let play = Play {
        persona: request.persona,
        scenario: request.scenario,
        script: script(request.scenario),
        has: behaviours_in(request.prompt),
    };
    let limit = request.max_turns.clamp(2, MAX_MESSAGES) as usize;
    let draws = Draws::new(request.seed, limit);
    let start = match request.persona.id {
        "persona_frustrated_customer" => 0.35,
        "persona_polite_regular" => 0.6,
        "persona_human_seeker" => 0.45,
        _ => 0.5,
    };
    let mut state = State {
        satisfaction: start,
        detail_given: request.scenario.missing_detail.is_none(),
        human_pending: play.needs(Behaviour::EscalationPolicy),
        asked_human: play.needs(Behaviour::EscalationPolicy),
        human_refusals: 0,
        tool_attempts: 0,
        tool_failures: 0,
        empathy_shown: false,
        empathy_judged: false,
        pushed_back: false,
        last: None,
        last_text: String::new(),
    };
    let prompt_words = words(request.prompt);
    let mut history_words = 0u64;
    let mut messages = Vec::with_capacity(limit);
    let opening = play.opening(draws.turn(0));
    history_words += words(&opening);
    messages.push(Message::new(Role::User, opening));
    let mut turn = 0;
    while messages.len() < limit {
        let d = draws.turn(turn);
        let reply = play.agent_turn(&mut state, turn, &draws);
        let completion = tokens(words(&reply.text));
        let latency =
            (300.0 + 12.0 * completion as f64 + 60.0 * d.latency_z + reply.tool_latency_ms)
                .max(80.0)
                .round();
        let mut assistant = Message::new(Role::Assistant, reply.text.clone());
        assistant.model = Some(SIMULATED_MODEL.to_owned());
        assistant.usage = Some(TokenUsage {
            prompt_tokens: tokens(prompt_words + history_words),
            completion_tokens: completion,
        });
        assistant.latency_ms = Some(latency);
        assistant.tool_calls = reply.tool_call.map(|c| vec![c]);
        history_words += words(&reply.text);
        messages.push(assistant);
        state.last = Some(reply.action);
        state.last_text = reply.text;
        if messages.len() >= limit {
            break;
        }
        let (text, ends) = play.user_turn(&mut state, &reply.action, d);
        history_words += words(&text);
        messages.push(Message::new(Role::User, text));
        if ends {
            break;
        }
        turn += 1;
    }
    SimulatedConversation {
        messages,
        engine_tokens: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::offline::analysis::analyze;
    use crate::engine::personas::{persona, personas, scenario, scenarios};
    use crate::engine::IssueKind;

    const BARE: &str = "You are the support assistant of Acme, an online shop.";

    fn everything() -> String {
        [
            BARE,
            "Keep answers short: at most three sentences, unless the user asks for more.",
            "If the user asks for a human, or the problem is still unresolved after two attempts, offer to hand the conversation over to a human agent and do it without arguing.",
            "Before you look anything up or take an action, check that you have the details it needs; if one is missing, ask for it in one short question.",
            "If a tool call fails or returns an error, tell the user plainly that the lookup did not work, retry once, and otherwise offer another way forward.",
            "When the user is upset, acknowledge their frustration in one sentence before solving the problem.",
            "Answer the user's actual question in your first sentence; do not deflect.",
            "Never repeat a previous reply; if the user is still stuck, try a different approach.",
            "Only state facts that come from tool results or this prompt; if you are unsure, say so rather than inventing an answer.",
        ]
        .join(" ")
    }

    fn run(prompt: &str, persona_id: &str, scenario_id: &str, seed: u64) -> SimulatedConversation {
        let (Some(p), Some(s)) = (persona(persona_id), scenario(scenario_id)) else {
            panic!("unknown {persona_id} or {scenario_id}");
        };
        simulate(&SimulationRequest {
            prompt,
            persona: p,
            scenario: s,
            max_turns: 10,
            tools: &[],
            seed,
        })
    }

    fn mean_overall(prompt: &str, persona_id: &str, scenario_id: &str, seeds: u64) -> f64 {
        (0..seeds)
            .map(|seed| {
                let c = run(prompt, persona_id, scenario_id, seed);
                analyze(&c.messages, Some(prompt)).quality_score
            })
            .sum::<f64>()
            / seeds as f64
    }

    #[test]
    fn the_everything_prompt_asks_for_every_behaviour() {
        assert_eq!(behaviours_in(&everything()).len(), 8);
        assert!(behaviours_in(BARE).is_empty());
    }

    #[test]
    fn same_seed_same_conversation() {
        for seed in 0..20 {
            let a = run(
                BARE,
                "persona_frustrated_customer",
                "scenario_order_status",
                seed,
            );
            let b = run(
                BARE,
                "persona_frustrated_customer",
                "scenario_order_status",
                seed,
            );
            assert_eq!(a, b);
            let (x, y) = (
                analyze(&a.messages, Some(BARE)),
                analyze(&b.messages, Some(BARE)),
            );
            assert_eq!(x, y);
        }
    }

    #[test]
    fn arms_meet_the_same_user_and_the_same_tool_failures() {
        let other = format!("{BARE} Keep answers short: at most three sentences.");
        let mut failures = 0;
        for seed in 0..100 {
            let a = run(
                BARE,
                "persona_polite_regular",
                "scenario_upgrade_plan",
                seed,
            );
            let b = run(
                &other,
                "persona_polite_regular",
                "scenario_upgrade_plan",
                seed,
            );
            assert_eq!(a.messages[0], b.messages[0], "same opening");
            let first_call = |c: &SimulatedConversation| {
                c.messages
                    .iter()
                    .find_map(|m| m.tool_calls.as_ref().and_then(|t| t.first().cloned()))
            };
            if let (Some(x), Some(y)) = (first_call(&a), first_call(&b)) {
                assert_eq!(x.error, y.error, "seed {seed}");
                failures += usize::from(x.error.is_some());
            }
        }
        assert!((15..=45).contains(&failures), "{failures} failures in 100");
    }

    #[test]
    fn the_escalation_policy_wins_for_the_human_seeker() {
        let policy = format!(
            "{BARE} If the user asks for a human, offer to hand the conversation over to a human agent."
        );
        let with = mean_overall(
            &policy,
            "persona_human_seeker",
            "scenario_order_status",
            200,
        );
        let without = mean_overall(BARE, "persona_human_seeker", "scenario_order_status", 200);
        assert!(with > without + 10.0, "{with} vs {without}");
        let c = run(BARE, "persona_human_seeker", "scenario_order_status", 1);
        let a = analyze(&c.messages, Some(BARE));
        assert!(a.issues.iter().any(|i| i.kind == IssueKind::HumanRequested));
        assert!(!a.task_completed);
    }

    #[test]
    fn each_persona_does_better_with_what_it_needs() {
        for p in personas() {
            if p.needs.is_empty() {
                continue;
            }
            let needed: String = p
                .needs
                .iter()
                .map(|b| crate::engine::offline::variants::instruction(*b))
                .collect::<Vec<_>>()
                .join(" ");
            let prompt = format!("{BARE} {needed}");
            let mut with = 0.0;
            let mut without = 0.0;
            for s in scenarios().iter().take(4) {
                with += mean_overall(&prompt, p.id, s.id, 60);
                without += mean_overall(BARE, p.id, s.id, 60);
            }
            // At least 5 points a scenario on average.
            assert!(with > without + 4.0 * 5.0, "{}: {with} vs {without}", p.id);
        }
    }

    #[test]
    fn a_prompt_with_everything_is_not_worse_for_anyone() {
        let full = everything();
        let mut total_with = 0.0;
        let mut total_without = 0.0;
        for p in personas() {
            let mut with = 0.0;
            let mut without = 0.0;
            for s in scenarios() {
                with += mean_overall(&full, p.id, s.id, 20);
                without += mean_overall(BARE, p.id, s.id, 20);
            }
            assert!(with >= without, "{}: {with} vs {without}", p.id);
            total_with += with;
            total_without += without;
        }
        let n = (personas().len() * scenarios().len()) as f64;
        let gain = (total_with - total_without) / n;
        assert!((5.0..=30.0).contains(&gain), "mean gain {gain}");
    }

    #[test]
    fn messages_carry_usage_and_latency_and_end_within_the_limit() {
        for (k, s) in scenarios().iter().enumerate() {
            for p in personas() {
                for max_turns in [0, 1, 3, 6, 12, u32::MAX] {
                    let c = simulate(&SimulationRequest {
                        prompt: BARE,
                        persona: p,
                        scenario: s,
                        max_turns,
                        tools: &[],
                        seed: k as u64,
                    });
                    assert!(c.messages.len() <= max_turns.clamp(2, MAX_MESSAGES) as usize);
                    assert_eq!(c.messages[0].role, Role::User);
                    for m in &c.messages {
                        assert!(!m.content.is_empty());
                        if m.role == Role::Assistant {
                            let usage = m.usage.expect("usage");
                            assert!(usage.completion_tokens > 0 && usage.prompt_tokens > 0);
                            assert!(m.latency_ms.is_some_and(|l| l >= 80.0));
                        }
                    }
                    assert!(c.agent_tokens() > 0);
                }
            }
        }
    }

    #[test]
    fn a_length_limit_saves_tokens() {
        let short = format!("{BARE} Keep answers short: at most three sentences.");
        let tokens = |prompt: &str| -> u64 {
            (0..50)
                .map(|seed| {
                    run(
                        prompt,
                        "persona_polite_regular",
                        "scenario_pricing_question",
                        seed,
                    )
                    .agent_tokens()
                })
                .sum()
        };
        let (short, long) = (tokens(&short), tokens(BARE));
        assert!(4 * short < 3 * long, "{short} vs {long}");
    }

    #[test]
    fn unknown_scenarios_and_personas_still_play() {
        let p = Persona {
            id: "persona_custom",
            name: "Custom",
            description: "",
            needs: &[],
            impatience: 2.0,
        };
        let s = Scenario {
            id: "scenario_custom",
            title: "Custom",
            opening: "",
            tool: Some("do_thing"),
            missing_detail: Some("id"),
        };
        let c = simulate(&SimulationRequest {
            prompt: "",
            persona: &p,
            scenario: &s,
            max_turns: 8,
            tools: &[],
            seed: 3,
        });
        assert!(c.messages.len() >= 2);
        let _ = analyze(&c.messages, None);
    }
}
