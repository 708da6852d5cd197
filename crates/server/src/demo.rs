//! `converra-server demo`: a realistic, deterministic account to explore. Six agents with
//! real-looking prompts and a few versions each, and a little over 2,000 conversations
//! spread over the last 60 days, with tool calls (some failing), sessions, token usage,
//! latency and every kind of outcome; business settings and two webhooks. The same seed
//! gives the same content, relative to now (ids are random).

use converra_api::agents::AgentStatus;
use converra_api::conversations::{
    ConversationSource, ConversationStatus, InsightsStatus, Message, Role, TokenUsage, ToolCall,
};
use converra_api::PlanId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::clock::ManualClock;
use crate::engine::personas::personas;
use crate::jobs::benchmarks::{run_next_benchmark, SUITE_SEED};
use crate::jobs::insights::run_due_insights;
use crate::state::{AppState, ServerConfig};
use crate::store::agents::{self as agent_store, AgentChange, NewAgent, VersionOrigin};
use crate::store::benchmarks::{insert_benchmark, NewBenchmark};
use crate::store::conversations::{self as conversation_store, NewConversation};
use crate::store::optimizations::{insert_optimization, NewOptimization};
use crate::store::settings::{load_settings, save_settings, ApiKeyChange};
use crate::store::usage::{add_usage, UsageDelta};
use crate::store::webhooks::NewWebhook;
use crate::store::Store;
use converra_api::optimizations::{OptimizationMode, SimulationPlan};

pub const DEMO_ACCOUNT: &str = "Acme Support (demo)";
const SEED: u64 = 20_261_128;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const CONVERSATIONS: usize = 2_100;

/// One agent of the demo and the prompts it went through, oldest first.
struct DemoAgent {
    name: &'static str,
    description: &'static str,
    tags: &'static [&'static str],
    status: AgentStatus,
    model: &'static str,
    objective: &'static str,
    /// Each later prompt is an edit of the one before.
    prompts: &'static [&'static str],
    /// Share of the traffic.
    weight: u32,
    scenarios: &'static [Scenario],
}

/// A kind of request an agent gets, with the tool it calls for it.
struct Scenario {
    topic: &'static str,
    openers: &'static [&'static str],
    clarify: &'static str,
    detail: &'static str,
    tool: &'static str,
    argument: &'static str,
    success_result: &'static str,
    answer: &'static str,
    failure_errors: &'static [&'static str],
}

const SUPPORT_V1: &str = "You are the customer support assistant for Acme Outfitters, an online outdoor-gear shop.\n\nHelp customers with orders, shipping, returns and refunds. Use the lookup_order tool before answering any question about a specific order. Be friendly and concise.";
const SUPPORT_V2: &str = "You are the customer support assistant for Acme Outfitters, an online outdoor-gear shop.\n\nHelp customers with orders, shipping, returns and refunds. Use the lookup_order tool before answering any question about a specific order. Be friendly and concise.\n\nIf the customer has not given an order number, ask for it before doing anything else. Refunds over $200 need a human agent: offer to create a ticket.";
const SUPPORT_V3: &str = "You are the customer support assistant for Acme Outfitters, an online outdoor-gear shop.\n\nHelp customers with orders, shipping, returns and refunds. Use the lookup_order tool before answering any question about a specific order. Be friendly and concise: at most three sentences per reply.\n\nIf the customer has not given an order number, ask for it before doing anything else. Refunds over $200 need a human agent: offer to create a ticket.\n\nIf a tool fails, say so plainly, do not guess the answer, and offer to try again or to escalate. When the customer asks for a person, create a ticket right away.";

const SALES_V1: &str = "You are Nimbus CRM's sales assistant on the pricing page.\n\nAnswer questions about plans and features, qualify the visitor (team size, current tool, timeline) and offer a demo when they are a good fit. Never invent discounts.";
const SALES_V2: &str = "You are Nimbus CRM's sales assistant on the pricing page.\n\nAnswer questions about plans and features, qualify the visitor (team size, current tool, timeline) and offer a demo when they are a good fit. Never invent discounts.\n\nUse check_pricing for any price you quote. Keep answers under 80 words and end with one question that moves the conversation forward.";

const HELPDESK_V1: &str = "You are the IT helpdesk assistant for Contoso's employees.\n\nHandle password resets, VPN problems and software access requests. Verify the employee's identity with their employee ID before resetting anything.";
const HELPDESK_V2: &str = "You are the IT helpdesk assistant for Contoso's employees.\n\nHandle password resets, VPN problems and software access requests. Verify the employee's identity with their employee ID before resetting anything.\n\nWalk through fixes one step at a time and confirm each step worked before the next. Security incidents go to a human immediately.";
const HELPDESK_V3: &str = "You are the IT helpdesk assistant for Contoso's employees.\n\nHandle password resets, VPN problems and software access requests. Verify the employee's identity with their employee ID before resetting anything.\n\nWalk through fixes one step at a time and confirm each step worked before the next. Security incidents go to a human immediately.\n\nUse plain language; avoid jargon unless the employee uses it first.";

const TRAVEL_V1: &str = "You are Wanderly's travel concierge.\n\nHelp travellers find flights, change bookings and understand fare rules. Always confirm dates, airports and the number of travellers before searching.";
const TRAVEL_V2: &str = "You are Wanderly's travel concierge.\n\nHelp travellers find flights, change bookings and understand fare rules. Always confirm dates, airports and the number of travellers before searching.\n\nState change fees before making a change, and never change a booking without an explicit yes.";

const BILLING_V1: &str = "You are the billing assistant for Brightline Energy.\n\nExplain bills, update payment methods and set up payment plans. Use get_invoice to read a customer's bill; never read card numbers back.";
const BILLING_V2: &str = "You are the billing assistant for Brightline Energy.\n\nExplain bills, update payment methods and set up payment plans. Use get_invoice to read a customer's bill; never read card numbers back.\n\nCustomers in hardship get the payment-plan options first, in a calm and respectful tone.";

const ONBOARDING_V1: &str = "You are the onboarding guide for Ledgerly, an accounting app for small businesses.\n\nWalk new users through connecting their bank, importing invoices and inviting their accountant. Link to the help center for anything else.";

const AGENTS: &[DemoAgent] = &[
    DemoAgent {
        name: "Acme Support",
        description: "Order, shipping and refund questions for the web shop.",
        tags: &["support", "e-commerce"],
        status: AgentStatus::Active,
        model: "gpt-4o-mini",
        objective: "Resolve order issues in the first conversation without escalation.",
        prompts: &[SUPPORT_V1, SUPPORT_V2, SUPPORT_V3],
        weight: 38,
        scenarios: &[
            Scenario {
                topic: "shipping",
                openers: &["Where is my order? It was supposed to arrive yesterday.", "My package says delivered but it's not here.", "How long does shipping to Canada take?"],
                clarify: "I can check that for you. What's your order number?",
                detail: "It's order #{order}.",
                tool: "lookup_order",
                argument: "orderId",
                success_result: "{\"status\":\"in_transit\",\"carrier\":\"UPS\",\"eta\":\"2 days\"}",
                answer: "Your order #{order} is with UPS and should arrive within 2 days. I've sent the tracking link to your email.",
                failure_errors: &["timeout after 10s", "503 order service unavailable"],
            },
            Scenario {
                topic: "refund",
                openers: &["I want a refund for the tent I bought, it leaks.", "Can I return boots I've worn once?", "I was charged twice for my order."],
                clarify: "I'm sorry about that. Could you give me the order number so I can look it up?",
                detail: "Order #{order}, placed last week.",
                tool: "issue_refund",
                argument: "orderId",
                success_result: "{\"refund\":\"approved\",\"amount\":89.0}",
                answer: "I've issued a refund of $89.00 for order #{order}. It will show on your card in 3-5 business days.",
                failure_errors: &["refund amount exceeds automatic limit", "payment gateway error 502"],
            },
            Scenario {
                topic: "product question",
                openers: &["Is the Trailhead 40L backpack waterproof?", "Do you have the Summit jacket in XL?"],
                clarify: "Happy to help. Which color are you interested in?",
                detail: "The green one.",
                tool: "check_inventory",
                argument: "sku",
                success_result: "{\"inStock\":true,\"quantity\":14}",
                answer: "Yes, it's in stock in green, and it's water-resistant with taped seams. Want me to reserve one?",
                failure_errors: &["inventory service timeout"],
            },
        ],
    },
    DemoAgent {
        name: "Nimbus Sales Assistant",
        description: "Qualifies visitors on the pricing page and books demos.",
        tags: &["sales"],
        status: AgentStatus::Active,
        model: "gpt-4o",
        objective: "Book qualified demos.",
        prompts: &[SALES_V1, SALES_V2],
        weight: 20,
        scenarios: &[
            Scenario {
                topic: "pricing",
                openers: &["How much is the Team plan for 25 people?", "Do you offer nonprofit pricing?", "What's the difference between Pro and Business?"],
                clarify: "Great question. How many people would use Nimbus, and what do you use today?",
                detail: "About 25 people, we're on spreadsheets right now.",
                tool: "check_pricing",
                argument: "seats",
                success_result: "{\"plan\":\"Team\",\"perSeat\":24,\"annualDiscount\":0.15}",
                answer: "For 25 seats the Team plan is $24 per seat per month, 15% less when billed yearly. Would a 20-minute demo this week help?",
                failure_errors: &["pricing API returned 500"],
            },
            Scenario {
                topic: "demo booking",
                openers: &["Can I see a demo?", "I'd like to talk to someone about an enterprise rollout."],
                clarify: "Absolutely. What day works best for you, and which time zone are you in?",
                detail: "Thursday afternoon, Central European Time.",
                tool: "book_demo",
                argument: "slot",
                success_result: "{\"booked\":true,\"slot\":\"Thu 14:00 CET\"}",
                answer: "You're booked for Thursday at 14:00 CET. You'll get a calendar invite in a minute.",
                failure_errors: &["calendar service unavailable"],
            },
        ],
    },
    DemoAgent {
        name: "Contoso IT Helpdesk",
        description: "Password resets, VPN and access requests for employees.",
        tags: &["internal", "it"],
        status: AgentStatus::Active,
        model: "gpt-4o-mini",
        objective: "Resolve tickets without a human technician.",
        prompts: &[HELPDESK_V1, HELPDESK_V2, HELPDESK_V3],
        weight: 18,
        scenarios: &[
            Scenario {
                topic: "password reset",
                openers: &["I'm locked out of my account.", "I forgot my password again."],
                clarify: "I can reset it. What's your employee ID?",
                detail: "E-{order}.",
                tool: "reset_password",
                argument: "employeeId",
                success_result: "{\"reset\":true,\"temporaryPasswordSent\":\"sms\"}",
                answer: "Done: a temporary password is on its way to your phone. You'll be asked to choose a new one at sign-in.",
                failure_errors: &["directory service timeout", "account locked by security policy"],
            },
            Scenario {
                topic: "vpn",
                openers: &["The VPN keeps disconnecting every few minutes.", "I can't connect to the VPN from the hotel."],
                clarify: "Sorry about that. Which operating system are you on?",
                detail: "Windows 11 on my work laptop.",
                tool: "check_vpn_status",
                argument: "region",
                success_result: "{\"gateway\":\"eu-west\",\"healthy\":true}",
                answer: "The gateway is healthy. Please update the VPN client to 5.2 from the Software Center; that fixes the drop-outs on Windows 11.",
                failure_errors: &["monitoring API unreachable"],
            },
        ],
    },
    DemoAgent {
        name: "Wanderly Travel Concierge",
        description: "Flight search and booking changes.",
        tags: &["travel", "support"],
        status: AgentStatus::Active,
        model: "gpt-4.1-mini",
        objective: "Complete changes without agent handoff.",
        prompts: &[TRAVEL_V1, TRAVEL_V2],
        weight: 14,
        scenarios: &[
            Scenario {
                topic: "flight change",
                openers: &["I need to move my flight to next Monday.", "Can I change my return date?"],
                clarify: "Of course. What's your booking reference?",
                detail: "It's WND{order}.",
                tool: "change_booking",
                argument: "bookingRef",
                success_result: "{\"changed\":true,\"fee\":45}",
                answer: "Your flight is moved to Monday at 09:40. A change fee of $45 applies and a new e-ticket is in your inbox.",
                failure_errors: &["GDS timeout", "fare rules do not permit changes"],
            },
            Scenario {
                topic: "flight search",
                openers: &["Find me a flight from Lisbon to Berlin in March.", "What's the cheapest way to get to Tokyo in May?"],
                clarify: "Happy to look. Which dates, and how many travellers?",
                detail: "March 12 to 19, two adults.",
                tool: "search_flights",
                argument: "route",
                success_result: "{\"options\":3,\"cheapest\":212}",
                answer: "I found three options; the cheapest is $212 per person with one stop. Shall I hold it for you?",
                failure_errors: &["search provider rate limited"],
            },
        ],
    },
    DemoAgent {
        name: "Brightline Billing Bot",
        description: "Bills, payment methods and payment plans.",
        tags: &["billing", "support"],
        status: AgentStatus::Active,
        model: "gpt-4o-mini",
        objective: "Reduce billing calls to the contact center.",
        prompts: &[BILLING_V1, BILLING_V2],
        weight: 10,
        scenarios: &[
            Scenario {
                topic: "bill explanation",
                openers: &["Why is my bill so high this month?", "What is the 'network charge' on my invoice?"],
                clarify: "Let me look at your bill. What's your account number?",
                detail: "BL-{order}.",
                tool: "get_invoice",
                argument: "accountId",
                success_result: "{\"amount\":184.2,\"usageKwh\":612}",
                answer: "Your usage was 612 kWh, 40% more than last month, mostly from the cold snap. The network charge is the fixed fee for the grid connection.",
                failure_errors: &["billing system maintenance window"],
            },
            Scenario {
                topic: "payment plan",
                openers: &["I can't pay my bill in full this month.", "Can I split my payment?"],
                clarify: "I understand, and we can help. What's your account number?",
                detail: "BL-{order}.",
                tool: "create_payment_plan",
                argument: "accountId",
                success_result: "{\"plan\":\"3 months\",\"monthly\":61.4}",
                answer: "I've set up a 3-month plan of $61.40 a month, with no extra fees.",
                failure_errors: &["customer has an existing plan"],
            },
        ],
    },
    DemoAgent {
        name: "Ledgerly Onboarding Guide",
        description: "First-week onboarding for new accounts (draft, being tested).",
        tags: &["onboarding"],
        status: AgentStatus::Draft,
        model: "gpt-4o-mini",
        objective: "Users connect a bank account in their first session.",
        prompts: &[ONBOARDING_V1],
        weight: 0,
        scenarios: &[],
    },
];

const COMPANIES: &[&str] = &[
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella Retail",
    "Stark Logistics",
    "Wayne Foods",
    "Hooli",
    "Vandelay Imports",
];
const CHANNELS: &[&str] = &["web", "mobile", "email", "whatsapp"];

/// How a conversation ends; the later prompts make the good endings likelier.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Resolved,
    ToolFailure,
    Escalated,
    Frustrated,
    Abandoned,
}

fn pick_outcome(rng: &mut StdRng, version_index: usize) -> Outcome {
    // Each prompt version removes part of the failures of the one before.
    let improvement = 1.0 - 0.22 * version_index as f64;
    let roll: f64 = rng.random();
    let thresholds = [
        (0.12 * improvement, Outcome::ToolFailure),
        (0.22 * improvement, Outcome::Escalated),
        (0.32 * improvement, Outcome::Frustrated),
        (0.39 * improvement, Outcome::Abandoned),
    ];
    thresholds
        .into_iter()
        .find(|(limit, _)| roll < *limit)
        .map_or(Outcome::Resolved, |(_, outcome)| outcome)
}

fn assistant(
    rng: &mut StdRng,
    model: &str,
    content: String,
    tool_calls: Option<Vec<ToolCall>>,
    context_tokens: u64,
) -> Message {
    let completion = (content.len() / 4) as u64 + rng.random_range(5..40);
    Message {
        model: Some(model.to_owned()),
        tool_calls,
        usage: Some(TokenUsage {
            prompt_tokens: context_tokens + rng.random_range(250..450),
            completion_tokens: completion,
        }),
        latency_ms: Some(f64::from(rng.random_range(380..2_600_u32))),
        ..Message::new(Role::Assistant, content)
    }
}

/// One conversation's messages and final status.
fn transcript(
    rng: &mut StdRng,
    agent: &DemoAgent,
    prompt: &str,
    scenario: &Scenario,
    outcome: Outcome,
) -> (Vec<Message>, ConversationStatus) {
    let order = rng.random_range(10_000..99_999).to_string();
    let fill = |text: &str| text.replace("{order}", &order);
    let opener = scenario.openers[rng.random_range(0..scenario.openers.len())];
    let mut context = (prompt.len() / 4) as u64;
    let mut messages = vec![
        Message::new(Role::System, prompt.to_owned()),
        Message::new(Role::User, opener.to_owned()),
    ];
    let mut say = |rng: &mut StdRng,
                   messages: &mut Vec<Message>,
                   text: String,
                   calls: Option<Vec<ToolCall>>| {
        context += 60;
        messages.push(assistant(rng, agent.model, text, calls, context));
    };
    say(rng, &mut messages, scenario.clarify.to_owned(), None);
    if outcome == Outcome::Abandoned {
        return (messages, ConversationStatus::Abandoned);
    }
    messages.push(Message::new(Role::User, fill(scenario.detail)));
    let failed = outcome == Outcome::ToolFailure;
    let call = ToolCall {
        id: Some(format!("call_{}", rng.random_range(100_000..999_999))),
        name: scenario.tool.to_owned(),
        arguments: json!({ scenario.argument: order }),
        result: (!failed).then(|| Value::String(scenario.success_result.to_owned())),
        error: failed.then(|| {
            scenario.failure_errors[rng.random_range(0..scenario.failure_errors.len())].to_owned()
        }),
        nested_trace: None,
    };
    match outcome {
        Outcome::Resolved => {
            say(rng, &mut messages, fill(scenario.answer), Some(vec![call]));
            messages.push(Message::new(Role::User, "Perfect, thank you!".to_owned()));
            say(
                rng,
                &mut messages,
                "You're welcome! Anything else I can help with?".to_owned(),
                None,
            );
        }
        Outcome::ToolFailure => {
            say(
                rng,
                &mut messages,
                "I'm sorry, I couldn't reach our system just now.".to_owned(),
                Some(vec![call]),
            );
            messages.push(Message::new(
                Role::User,
                "So what now? I still don't have an answer.".to_owned(),
            ));
            say(
                rng,
                &mut messages,
                "I apologize for the inconvenience. Please try again later.".to_owned(),
                None,
            );
        }
        Outcome::Escalated => {
            say(rng, &mut messages, fill(scenario.answer), Some(vec![call]));
            messages.push(Message::new(
                Role::User,
                "That doesn't solve it. Can I talk to a human please?".to_owned(),
            ));
            say(rng, &mut messages, "Of course. I've created a ticket and a specialist will contact you within 24 hours.".to_owned(), None);
        }
        Outcome::Frustrated => {
            say(
                rng,
                &mut messages,
                "I understand. Could you tell me more about the issue?".to_owned(),
                None,
            );
            messages.push(Message::new(
                Role::User,
                format!("I already told you: {}", fill(scenario.detail)),
            ));
            say(
                rng,
                &mut messages,
                "I understand. Could you tell me more about the issue?".to_owned(),
                None,
            );
            messages.push(Message::new(
                Role::User,
                "You keep repeating yourself. This is useless.".to_owned(),
            ));
        }
        Outcome::Abandoned => {}
    }
    let _ = scenario.topic;
    (messages, ConversationStatus::Completed)
}

/// Seeds the demo data and returns a new API key for the demo account.
pub async fn seed(store: &Store, now_ms: i64) -> anyhow::Result<String> {
    let issued = store.issue_key(DEMO_ACCOUNT, PlanId::Pro, now_ms).await?;
    let account_id = issued.account.id.clone();
    let mut rng = StdRng::seed_from_u64(SEED);
    let start_ms = now_ms - 60 * DAY_MS;
    let mut tx = store.begin_write().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE account_id = $1")
        .bind(&account_id)
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        // Already seeded: only the new key was needed.
        tx.commit().await?;
        return Ok(issued.key);
    }

    // Agents, with their later prompts applied at even steps through the 60 days. Each is
    // created a minute before the one listed above it, so the newest-first list shows them
    // in AGENTS' order (the busiest first) rather than in the order of their random ids.
    let mut agent_ids = Vec::new();
    for (position, demo) in (0i64..).zip(AGENTS) {
        let new_agent = NewAgent {
            name: demo.name.to_owned(),
            content: demo.prompts[0].to_owned(),
            llm_model: demo.model.to_owned(),
            description: Some(demo.description.to_owned()),
            tags: demo.tags.iter().map(|t| (*t).to_owned()).collect(),
            status: demo.status,
            objective: Some(demo.objective.to_owned()),
            constraints: None,
            temperature: Some(0.3),
            top_p: None,
            max_tokens: Some(600),
            reasoning_effort: None,
        };
        let agent = agent_store::insert_agent(
            &mut tx,
            &account_id,
            &new_agent,
            &VersionOrigin::manual(),
            start_ms - DAY_MS - position * 60_000,
        )
        .await?;
        agent_ids.push(agent.id);
    }
    let version_time = |demo: &DemoAgent, v: usize| {
        start_ms + (60 * DAY_MS) * v as i64 / demo.prompts.len() as i64
    };

    let total_weight: u32 = AGENTS.iter().map(|a| a.weight).sum();
    let mut times: Vec<i64> = (0..CONVERSATIONS)
        // More traffic in recent weeks, as a growing product would see.
        .map(|_| start_ms + ((60 * DAY_MS) as f64 * rng.random::<f64>().sqrt()) as i64)
        .collect();
    times.sort_unstable();
    let mut applied = vec![1usize; AGENTS.len()];
    let mut session: Option<(String, usize)> = None;
    for (n, at) in times.into_iter().enumerate() {
        let mut roll = rng.random_range(0..total_weight);
        let index = AGENTS.iter().position(|a| {
            if roll < a.weight {
                true
            } else {
                roll -= a.weight;
                false
            }
        });
        let Some(index) = index else { continue };
        let demo = &AGENTS[index];
        // Apply the prompt versions whose time has come.
        while applied[index] < demo.prompts.len() && version_time(demo, applied[index]) <= at {
            let change = AgentChange {
                content: Some(demo.prompts[applied[index]].to_owned()),
                ..AgentChange::default()
            };
            let origin = if applied[index] == 1 {
                VersionOrigin::manual()
            } else {
                VersionOrigin::sdk()
            };
            agent_store::update_agent(
                &mut tx,
                &account_id,
                &agent_ids[index],
                &change,
                &origin,
                version_time(demo, applied[index]),
            )
            .await?;
            applied[index] += 1;
        }
        let version_index = applied[index] - 1;
        let scenario = &demo.scenarios[rng.random_range(0..demo.scenarios.len())];
        let outcome = pick_outcome(&mut rng, version_index);
        let (messages, status) = transcript(
            &mut rng,
            demo,
            demo.prompts[version_index],
            scenario,
            outcome,
        );
        // About a third of conversations continue an earlier session of the same user.
        let session_id = match &session {
            Some((id, agent)) if *agent == index && rng.random_bool(0.35) => id.clone(),
            _ => format!("sess_{:06}", n),
        };
        session = Some((session_id.clone(), index));
        let mut metadata = Map::new();
        metadata.insert(
            "channel".into(),
            json!(CHANNELS[rng.random_range(0..CHANNELS.len())]),
        );
        metadata.insert("topic".into(), json!(scenario.topic));
        metadata.insert("source".into(), json!("demo"));
        let new = NewConversation {
            agent_id: agent_ids[index].clone(),
            status,
            source: ConversationSource::Api,
            llm_model: Some(demo.model.to_owned()),
            company_name: Some(COMPANIES[rng.random_range(0..COMPANIES.len())].to_owned()),
            title: Some(format!(
                "{} — {}",
                capitalize(scenario.topic),
                messages[1].content.chars().take(48).collect::<String>()
            )),
            session_id: Some(session_id),
            user_id: Some(format!("user_{:04}", rng.random_range(1..900))),
            trace_id: None,
            parent_trace_id: None,
            metadata,
            tool_definitions: None,
            idempotency_key: None,
            insights_status: InsightsStatus::Pending,
            messages,
        };
        let conversation =
            conversation_store::insert_conversation(&mut tx, &account_id, &new, at).await?;
        let delta = UsageDelta {
            conversations: 1,
            tokens: i64::try_from(conversation.total_tokens).unwrap_or(0),
            requests: 2,
            ..UsageDelta::default()
        };
        add_usage(&mut tx, &account_id, at, delta).await?;
    }
    let mut settings = load_settings(&mut tx, &account_id).await?;
    settings.general.name = Some("Acme Holdings".to_owned());
    settings.general.industry = Some("E-commerce and consumer services".to_owned());
    settings.general.objectives =
        Some("Resolve customer issues on first contact; book qualified demos.".to_owned());
    settings.general.kpis = Some("First-contact resolution, escalation rate, CSAT".to_owned());
    settings.business_impact.value_per_conversation = Some(12.5);
    save_settings(&mut tx, &account_id, &settings, &ApiKeyChange::Keep, now_ms).await?;
    tx.commit().await?;

    seed_intelligence(store, &account_id, &agent_ids, now_ms).await?;

    // Webhooks last, so the seeded history enqueues no deliveries.
    for (url, events, description) in [
        (
            "https://hooks.acme.example/converra",
            vec!["conversation.created", "insights.generated"],
            "Data warehouse ingest",
        ),
        (
            "https://ops.acme.example/alerts",
            vec!["optimization.completed", "optimization.failed"],
            "Ops channel alerts",
        ),
    ] {
        let new = NewWebhook {
            url: url.to_owned(),
            events: events.into_iter().map(str::to_owned).collect(),
            description: Some(description.to_owned()),
        };
        store.create_webhook(&account_id, &new, now_ms).await?;
    }
    Ok(issued.key)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Insights for every demo conversation, then two finished optimizations, all by the
/// offline engine with fixed seeds, run through the same jobs as a live server.
async fn seed_intelligence(
    store: &Store,
    account_id: &str,
    agent_ids: &[String],
    now_ms: i64,
) -> anyhow::Result<()> {
    let state = AppState::new(
        store.clone(),
        std::sync::Arc::new(ManualClock::new(now_ms)),
        ServerConfig::default(),
    );
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO insights_jobs (conversation_id, account_id, next_attempt_at, created_at) \
         SELECT id, account_id, 0, 0 FROM conversations WHERE account_id = $1",
    )
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    while run_due_insights(state.clone()).await? {}

    let settings = store.settings(account_id).await?;
    for (agent_id, mode, seed) in [
        (&agent_ids[0], OptimizationMode::Exploratory, 20_261_128_u64),
        (&agent_ids[1], OptimizationMode::Validation, 20_261_129_u64),
    ] {
        let agent = store.agent(account_id, agent_id).await?;
        let simulation = settings.optimization.simulation.clone();
        let replicates = if mode == OptimizationMode::Validation {
            4
        } else {
            2
        };
        let level = simulation.confidence_mode.level();
        let plan = SimulationPlan {
            persona_count: simulation.persona_count,
            scenarios_per_simulation: simulation.scenarios_per_simulation,
            max_turns: simulation.max_turns,
            conversations_per_variant: simulation.persona_count
                * simulation.scenarios_per_simulation
                * replicates,
            confidence_level: if mode == OptimizationMode::Validation {
                level.max(0.95)
            } else {
                level
            },
        };
        let mut tx = store.begin_write().await?;
        insert_optimization(
            &mut tx,
            account_id,
            &NewOptimization {
                agent_id: agent.id.clone(),
                agent_version: agent.version,
                mode,
                variant_count: settings.optimization.variants_per_generation,
                // The demo runs offline, whose only strategy this is.
                strategy: converra_api::optimizations::OptimizationStrategy::Rewrite,
                max_iterations: 0,
                intent: None,
                persona_ids: personas()
                    .iter()
                    .take(simulation.persona_count as usize)
                    .map(|p| p.id.to_owned())
                    .collect(),
                plan,
                seed,
                engine: crate::engine::offline::NAME.to_owned(),
            },
            now_ms,
        )
        .await?;
        tx.commit().await?;
        while crate::jobs::optimizations::run_next(state.clone()).await? {}
    }

    let live_agents: Vec<String> = agent_ids.iter().take(4).cloned().collect();
    let mut tx = store.begin_write().await?;
    insert_benchmark(
        &mut tx,
        account_id,
        &NewBenchmark {
            name: "Support and sales agents, standard suite".to_owned(),
            agent_ids: live_agents,
            models: None,
            persona_ids: personas().iter().take(3).map(|p| p.id.to_owned()).collect(),
            scenario_count: 5,
            max_turns: 8,
            seed: SUITE_SEED,
            engine: "offline".to_owned(),
        },
        now_ms,
    )
    .await?;
    tx.commit().await?;
    while run_next_benchmark(state.clone()).await? {}
    Ok(())
}
