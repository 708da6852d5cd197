//! Agent-level readings built from many conversations' insights: the agent's metrics,
//! issues, trend and business impact, its place in the fleet, its step failures, and
//! whether applied changes reduced failures. Pure functions over rows the store read.

use std::collections::{BTreeMap, HashMap};

use converra_api::insights::{
    AgentInsights, AgentIssue, AgentMetrics, BestPractice, BusinessImpact, DeploymentImpact,
    DeploymentIssue, ErrorCount, FleetIntelligence, InsightsPeriod, Metric, RootCause,
    RootCauseCount, Sentiment, SentimentSplit, Severity, SharedPattern, StepFailureStats,
    StepFailures, TopFailure, TopicCount, TrendPoint, VerificationStatus,
};

use super::records::{ConversationFacts, InsightRow, IssueRow, StepRow};
use super::stats::fisher;
use super::{IssueKind, MetricScores};
use crate::clock::{day_of, rfc3339, DAY_MS};

/// Example conversations listed per issue or step.
const EXAMPLES: usize = 5;
/// An issue seen in at least this share of an agent's conversations counts as its pattern.
const PATTERN_FREQUENCY: f64 = 0.05;
/// Conversations on each side of a change before its effect is judged.
const MIN_SIDE_CONVERSATIONS: u64 = 30;
/// A change is verified only when its test is significant at this level...
const DEPLOYMENT_ALPHA: f64 = 0.05;
/// ...and failures fell by more than this share of their rate before (the spec's "over
/// 50%"): a significant 10% drop is real but not the fix it was meant to be.
const MATERIAL_REDUCTION_PERCENT: f64 = 50.0;

/// What the agent-insights reading needs besides rows.
pub struct AgentInsightsInput<'a> {
    pub agent_id: &'a str,
    pub days: u32,
    pub from_ms: i64,
    pub now_ms: i64,
    /// The agent's conversations in the period, analysed or not.
    pub facts: &'a [ConversationFacts],
    /// Analysed conversations of every agent of the account in the period.
    pub fleet_rows: &'a [InsightRow],
    /// Issues of every agent of the account in the period.
    pub fleet_issues: &'a [IssueRow],
    /// Every agent of the account: id → name.
    pub agent_names: &'a BTreeMap<String, String>,
    pub value_per_conversation: Option<f64>,
    pub currency: &'a str,
}

fn recommendation(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::Refusal => {
            "Say in the prompt what the agent may do, so it stops refusing allowed requests."
        }
        IssueKind::RepeatedAnswer => {
            "Tell the agent to rephrase or move on instead of repeating an answer."
        }
        IssueKind::ApologyLoop => {
            "Replace apologies with a next step: one apology, then a concrete action."
        }
        IssueKind::UnansweredQuestion => {
            "Ask the agent to answer every question the user asks, or say it cannot."
        }
        IssueKind::FailedToolCall => {
            "Add tool-error handling: say what failed and offer an alternative."
        }
        IssueKind::HumanRequested => "Add an escalation policy: hand over to a human on request.",
        IssueKind::Frustration => {
            "Ask for an empathetic tone: acknowledge the problem before solving it."
        }
        IssueKind::Verbose => "Set a length limit: short answers, details on request.",
        IssueKind::MissingDetails => {
            "Have the agent ask for missing details (order number, account) before acting."
        }
        IssueKind::UnsupportedClaim => "Require answers grounded in tool results; say when unsure.",
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Per agent: mean metrics and mean quality over its analysed conversations.
fn agent_means(rows: &[InsightRow]) -> BTreeMap<String, (MetricScores, f64)> {
    let mut sums: BTreeMap<String, (MetricScores, f64, usize)> = BTreeMap::new();
    for row in rows {
        let entry = sums
            .entry(row.agent_id.clone())
            .or_insert((MetricScores::default(), 0.0, 0));
        for metric in Metric::ALL {
            entry
                .0
                .set(metric, entry.0.get(metric) + row.metrics.get(metric));
        }
        entry.1 += row.quality_score;
        entry.2 += 1;
    }
    sums.into_iter()
        .map(|(agent, (mut metrics, quality, n))| {
            for metric in Metric::ALL {
                metrics.set(metric, metrics.get(metric) / n as f64);
            }
            (agent, (metrics, quality / n as f64))
        })
        .collect()
}

/// Share of `values` at or below `value`, 0..100.
fn percentile_of(value: f64, values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let at_or_below = values.iter().filter(|v| **v <= value + 1e-9).count();
    round1(100.0 * at_or_below as f64 / values.len() as f64)
}

pub fn agent_insights(input: &AgentInsightsInput) -> AgentInsights {
    let rows: Vec<&InsightRow> = input
        .fleet_rows
        .iter()
        .filter(|r| r.agent_id == input.agent_id)
        .collect();
    let analysed = rows.len() as u64;
    let total = input.facts.len() as u64;
    let completed = input
        .facts
        .iter()
        .filter(|f| f.status == "completed")
        .count() as u64;
    let abandoned = input
        .facts
        .iter()
        .filter(|f| f.status == "abandoned")
        .count() as u64;
    let tasks_done = rows.iter().filter(|r| r.task_completed).count() as u64;
    let mut averages = BTreeMap::new();
    for metric in Metric::ALL {
        if let Some(m) = mean(rows.iter().map(|r| r.metrics.get(metric))) {
            averages.insert(metric.as_str().to_owned(), round1(m));
        }
    }
    let quality = mean(rows.iter().map(|r| r.quality_score)).map(round1);
    let metrics = AgentMetrics {
        task_completion: round1(100.0 * share(tasks_done, analysed)),
        average_sentiment: mean(rows.iter().map(|r| r.sentiment_score))
            .map(|s| (s * 100.0).round() / 100.0)
            .unwrap_or(0.0),
        conversation_count: total,
        analyzed_count: analysed,
        average_turns: round1(
            mean(input.facts.iter().map(|f| f.message_count as f64 / 2.0)).unwrap_or(0.0),
        ),
        completion_rate: round1(100.0 * share(completed, total)),
        abandonment_rate: round1(100.0 * share(abandoned, total)),
        quality_score: quality,
        averages,
    };

    let mut topics: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &rows {
        for topic in &row.topics {
            *topics.entry(topic.as_str()).or_default() += 1;
        }
    }
    let mut topics: Vec<TopicCount> = topics
        .into_iter()
        .map(|(name, count)| TopicCount {
            name: name.to_owned(),
            count,
        })
        .collect();
    topics.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));

    let issues = agent_issues(input.agent_id, input.fleet_issues, analysed);
    let recommendations = issues
        .iter()
        .filter_map(|i| IssueKind::ALL.into_iter().find(|k| k.id() == i.id))
        .take(5)
        .map(|k| recommendation(k).to_owned())
        .collect();
    let sentiment = SentimentSplit {
        positive: rows
            .iter()
            .filter(|r| r.sentiment == Sentiment::Positive)
            .count() as u64,
        neutral: rows
            .iter()
            .filter(|r| r.sentiment == Sentiment::Neutral)
            .count() as u64,
        negative: rows
            .iter()
            .filter(|r| r.sentiment == Sentiment::Negative)
            .count() as u64,
    };

    let failed = analysed - tasks_done;
    let failure_rate = share(failed, analysed);
    let at_risk = input.value_per_conversation.unwrap_or(0.0) * failed as f64;
    let summary = match input.value_per_conversation {
        Some(value) => format!(
            "{failed} of {analysed} analysed conversations did not complete their task ({:.0}%); at {value:.2} {} per conversation that is {at_risk:.2} {} at risk over {} days.",
            failure_rate * 100.0, input.currency, input.currency, input.days
        ),
        None => format!(
            "{failed} of {analysed} analysed conversations did not complete their task ({:.0}%). Set businessImpact.valuePerConversation in the settings to see the revenue at risk.",
            failure_rate * 100.0
        ),
    };

    AgentInsights {
        agent_id: input.agent_id.to_owned(),
        period: InsightsPeriod {
            from: rfc3339(input.from_ms),
            to: rfc3339(input.now_ms),
            days: input.days,
        },
        generated_at: rfc3339(input.now_ms),
        metrics,
        topics,
        issues,
        recommendations,
        sentiment,
        trend: trend(&rows, input.from_ms, input.now_ms, input.facts),
        business_impact: BusinessImpact {
            conversations_affected: failed,
            failure_rate: (failure_rate * 1000.0).round() / 1000.0,
            estimated_revenue_at_risk: (at_risk * 100.0).round() / 100.0,
            currency: input.currency.to_owned(),
            summary,
        },
        fleet_intelligence: fleet_intelligence(input),
    }
}

fn agent_issues(agent_id: &str, fleet_issues: &[IssueRow], analysed: u64) -> Vec<AgentIssue> {
    let mut by_kind: BTreeMap<IssueKind, (u64, Severity, Vec<String>)> = BTreeMap::new();
    for issue in fleet_issues.iter().filter(|i| i.agent_id == agent_id) {
        let entry = by_kind
            .entry(issue.kind)
            .or_insert((0, Severity::Low, Vec::new()));
        entry.0 += 1;
        entry.1 = entry.1.max(issue.severity);
        // Rows come newest first, so the examples are the latest.
        if entry.2.len() < EXAMPLES {
            entry.2.push(issue.conversation_id.clone());
        }
    }
    let mut issues: Vec<AgentIssue> = by_kind
        .into_iter()
        .map(|(kind, (count, severity, examples))| AgentIssue {
            id: kind.id().to_owned(),
            title: kind.title().to_owned(),
            description: format!(
                "Seen in {count} of {analysed} analysed conversations. {}",
                recommendation(kind)
            ),
            frequency: (share(count, analysed) * 1000.0).round() / 1000.0,
            severity,
            affected_conversations: count,
            example_conversation_ids: examples,
            // Titled by the route, which reads them (this module reads no database).
            example_conversations: Vec::new(),
        })
        .collect();
    issues.sort_by(|a, b| {
        b.affected_conversations
            .cmp(&a.affected_conversations)
            .then(b.severity.cmp(&a.severity))
    });
    issues
}

fn trend(
    rows: &[&InsightRow],
    from_ms: i64,
    now_ms: i64,
    facts: &[ConversationFacts],
) -> Vec<TrendPoint> {
    let mut days: BTreeMap<String, (f64, u64, u64)> = BTreeMap::new();
    let mut day = from_ms - from_ms.rem_euclid(DAY_MS);
    while day <= now_ms {
        days.insert(day_of(day), (0.0, 0, 0));
        day += DAY_MS;
    }
    for fact in facts {
        if let Some(entry) = days.get_mut(&day_of(fact.created_at)) {
            entry.2 += 1;
        }
    }
    for row in rows {
        if let Some(entry) = days.get_mut(&day_of(row.conversation_created_at)) {
            entry.0 += row.quality_score;
            entry.1 += 1;
        }
    }
    days.into_iter()
        .map(|(date, (sum, analysed, conversations))| TrendPoint {
            date,
            quality_score: (analysed > 0).then(|| round1(sum / analysed as f64)),
            conversations,
        })
        .collect()
}

fn fleet_intelligence(input: &AgentInsightsInput) -> FleetIntelligence {
    let means = agent_means(input.fleet_rows);
    let scores: Vec<f64> = means.values().map(|(_, q)| *q).collect();
    let own = means.get(input.agent_id);
    let agent_score = own.map(|(_, q)| round1(*q));
    let rank = own.map(|(_, q)| 1 + scores.iter().filter(|s| **s > *q + 1e-9).count() as u64);
    let mut percentiles = BTreeMap::new();
    let mut best_practices = Vec::new();
    if let Some((own_metrics, _)) = own {
        for metric in Metric::ALL {
            let values: Vec<f64> = means.values().map(|(m, _)| m.get(metric)).collect();
            percentiles.insert(
                metric.as_str().to_owned(),
                percentile_of(own_metrics.get(metric), &values),
            );
            // The strongest other agent on each metric where this one trails it clearly.
            let best = means
                .iter()
                .filter(|(id, _)| id.as_str() != input.agent_id)
                .max_by(|a, b| a.1 .0.get(metric).total_cmp(&b.1 .0.get(metric)));
            if let Some((id, (metrics, _))) = best {
                if metrics.get(metric) > own_metrics.get(metric) + 5.0 {
                    best_practices.push(BestPractice {
                        agent_id: id.clone(),
                        agent_name: input.agent_names.get(id).cloned().unwrap_or_default(),
                        metric: metric.as_str().to_owned(),
                        value: round1(metrics.get(metric)),
                    });
                }
            }
        }
    }
    best_practices.sort_by(|a, b| b.value.total_cmp(&a.value));
    best_practices.truncate(5);
    FleetIntelligence {
        fleet_average_score: mean(scores.iter().copied()).map(round1),
        agent_score,
        percentile: agent_score.map(|s| percentile_of(s, &scores)),
        rank,
        total_agents: input.agent_names.len() as u64,
        percentiles,
        shared_patterns: shared_patterns(input),
        best_practices_from: best_practices,
    }
}

/// Issues that show in several agents' traffic: fleet-wide patterns, not one agent's slip.
fn shared_patterns(input: &AgentInsightsInput) -> Vec<SharedPattern> {
    let mut analysed: HashMap<&str, u64> = HashMap::new();
    for row in input.fleet_rows {
        *analysed.entry(row.agent_id.as_str()).or_default() += 1;
    }
    let mut counts: BTreeMap<(IssueKind, &str), u64> = BTreeMap::new();
    for issue in input.fleet_issues {
        *counts
            .entry((issue.kind, issue.agent_id.as_str()))
            .or_default() += 1;
    }
    let mut agents_by_kind: BTreeMap<IssueKind, Vec<String>> = BTreeMap::new();
    for ((kind, agent), count) in counts {
        let n = analysed.get(agent).copied().unwrap_or(0);
        if share(count, n) >= PATTERN_FREQUENCY {
            agents_by_kind
                .entry(kind)
                .or_default()
                .push(agent.to_owned());
        }
    }
    let mut patterns: Vec<SharedPattern> = agents_by_kind
        .into_iter()
        .filter(|(_, agents)| agents.len() >= 2)
        .map(|(kind, agent_ids)| SharedPattern {
            pattern: kind.title().to_owned(),
            affected_agents: agent_ids.len() as u64,
            agent_ids,
        })
        .collect();
    patterns.sort_by_key(|p| std::cmp::Reverse(p.affected_agents));
    patterns
}

fn fix_for(cause: RootCause) -> &'static str {
    match cause {
        RootCause::PromptIssue => "Tell the agent in its prompt which arguments each tool needs and to ask the user for missing ones.",
        RootCause::ContextIssue => "Pass the identifiers the tool needs from earlier turns, and confirm them with the user.",
        RootCause::ToolIssue => "Fix or harden the tool (timeouts, availability); have the agent explain the failure and offer an alternative.",
        RootCause::ModelLimitation => "Shorten the context or use a model with a larger window; retry with backoff on rate limits.",
        RootCause::OrchestrationIssue => "Call the tools in the order they depend on each other; check state before acting.",
    }
}

fn severity_for(failure_rate: f64) -> Severity {
    match failure_rate {
        r if r >= 0.5 => Severity::Critical,
        r if r >= 0.25 => Severity::High,
        r if r >= 0.1 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// `GET /agents/:id/step-failures` from the agent's steps and its analysed conversations.
pub fn step_failures(
    agent_id: &str,
    from_ms: i64,
    now_ms: i64,
    analysed_conversations: u64,
    steps: &[StepRow],
) -> StepFailures {
    let mut failed_conversations: Vec<&str> = steps
        .iter()
        .filter(|s| s.failed)
        .map(|s| s.conversation_id.as_str())
        .collect();
    failed_conversations.sort_unstable();
    failed_conversations.dedup();

    let mut causes: BTreeMap<RootCause, u64> = BTreeMap::new();
    struct Acc<'a> {
        total: u64,
        failures: u64,
        causes: BTreeMap<RootCause, u64>,
        errors: BTreeMap<&'a str, u64>,
        last_failed_at: Option<i64>,
        examples: Vec<String>,
    }
    let mut by_step: BTreeMap<&str, Acc> = BTreeMap::new();
    for step in steps {
        let acc = by_step.entry(step.name.as_str()).or_insert(Acc {
            total: 0,
            failures: 0,
            causes: BTreeMap::new(),
            errors: BTreeMap::new(),
            last_failed_at: None,
            examples: Vec::new(),
        });
        acc.total += 1;
        if !step.failed {
            continue;
        }
        acc.failures += 1;
        let cause = step.root_cause.unwrap_or(RootCause::ToolIssue);
        *acc.causes.entry(cause).or_default() += 1;
        *causes.entry(cause).or_default() += 1;
        if let Some(error) = &step.error {
            *acc.errors.entry(error.as_str()).or_default() += 1;
        }
        acc.last_failed_at = acc.last_failed_at.max(Some(step.conversation_created_at));
        if acc.examples.len() < EXAMPLES && !acc.examples.contains(&step.conversation_id) {
            acc.examples.push(step.conversation_id.clone());
        }
    }
    let total_failures: u64 = causes.values().sum();
    let mut by_root_cause: Vec<RootCauseCount> = causes
        .iter()
        .map(|(kind, count)| RootCauseCount {
            kind: *kind,
            count: *count,
            percentage: round1(100.0 * share(*count, total_failures)),
        })
        .collect();
    by_root_cause.sort_by_key(|c| std::cmp::Reverse(c.count));

    let mut stats: Vec<StepFailureStats> = by_step
        .into_iter()
        .map(|(name, acc)| {
            let mut errors: Vec<ErrorCount> = acc
                .errors
                .into_iter()
                .map(|(message, count)| ErrorCount {
                    message: message.to_owned(),
                    count,
                })
                .collect();
            errors.sort_by_key(|e| std::cmp::Reverse(e.count));
            errors.truncate(3);
            StepFailureStats {
                step: name.to_owned(),
                total: acc.total,
                failures: acc.failures,
                failure_rate: (share(acc.failures, acc.total) * 1000.0).round() / 1000.0,
                top_root_cause: acc
                    .causes
                    .iter()
                    .max_by_key(|(_, c)| **c)
                    .map(|(cause, _)| *cause),
                top_errors: errors,
                last_failed_at: acc.last_failed_at.map(rfc3339),
                example_conversation_ids: acc.examples,
                example_conversations: Vec::new(),
            }
        })
        .collect();
    stats.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.step.cmp(&b.step)));

    let top_failures = stats
        .iter()
        .filter(|s| s.failures > 0)
        .take(5)
        .map(|s| {
            let cause = s.top_root_cause.unwrap_or(RootCause::ToolIssue);
            let error = s
                .top_errors
                .first()
                .map(|e| format!(": \"{}\"", e.message))
                .unwrap_or_default();
            TopFailure {
                summary: format!(
                    "{} failed {} of {} times ({}){error}",
                    s.step,
                    s.failures,
                    s.total,
                    cause.as_str()
                ),
                count: s.failures,
                severity: severity_for(s.failure_rate),
                fix: fix_for(cause).to_owned(),
            }
        })
        .collect();

    StepFailures {
        agent_id: agent_id.to_owned(),
        from: rfc3339(from_ms),
        to: rfc3339(now_ms),
        total_conversations: analysed_conversations,
        failed_conversations: failed_conversations.len() as u64,
        by_root_cause,
        steps: stats,
        top_failures,
    }
}

/// One applied change of an agent and the analysed conversations around it.
pub struct Deployment<'a> {
    pub agent_id: &'a str,
    pub agent_name: &'a str,
    pub version: u32,
    pub deployed_at: i64,
    /// When the change before it was made (confounds a short before-window).
    pub previous_deployed_at: Option<i64>,
    /// When the next change was made: the after-window ends there.
    pub next_deployed_at: Option<i64>,
}

/// Did the change reduce failures (conversations whose task failed)? The after-window runs
/// from the change to the next change (or now); the before-window is as long, ending at the
/// change. A change made inside the before-window confounds the comparison.
pub fn deployment_impact(
    deployment: &Deployment,
    now_ms: i64,
    rows: &[InsightRow],
    issues: &[IssueRow],
) -> DeploymentImpact {
    let after_end = deployment.next_deployed_at.unwrap_or(now_ms);
    let window = (after_end - deployment.deployed_at).clamp(DAY_MS, 30 * DAY_MS);
    let before_start = deployment.deployed_at - window;
    let in_before = |t: i64| t >= before_start && t < deployment.deployed_at;
    let in_after = |t: i64| t >= deployment.deployed_at && t < after_end;
    let own = |agent: &str| agent == deployment.agent_id;
    let before: Vec<&InsightRow> = rows
        .iter()
        .filter(|r| own(&r.agent_id) && in_before(r.conversation_created_at))
        .collect();
    let after: Vec<&InsightRow> = rows
        .iter()
        .filter(|r| own(&r.agent_id) && in_after(r.conversation_created_at))
        .collect();
    let fail_rate = |set: &[&InsightRow]| {
        share(
            set.iter().filter(|r| !r.task_completed).count() as u64,
            set.len() as u64,
        )
    };
    let (rate_before, rate_after) = (fail_rate(&before), fail_rate(&after));
    let reduction = if rate_before > 0.0 {
        100.0 * (rate_before - rate_after) / rate_before
    } else if rate_after > 0.0 {
        -100.0
    } else {
        0.0
    };
    let confounded = deployment
        .previous_deployed_at
        .is_some_and(|previous| previous > before_start);
    let failed = |set: &[&InsightRow]| set.iter().filter(|r| !r.task_completed).count() as u64;
    let enough = before.len() as u64 >= MIN_SIDE_CONVERSATIONS
        && after.len() as u64 >= MIN_SIDE_CONVERSATIONS;
    let p_value = enough.then(|| {
        let (failed_before, failed_after) = (failed(&before), failed(&after));
        fisher::two_sided(
            failed_before,
            before.len() as u64 - failed_before,
            failed_after,
            after.len() as u64 - failed_after,
        )
    });
    let significant = p_value.is_some_and(|p| p < DEPLOYMENT_ALPHA);
    let status = if confounded {
        VerificationStatus::Confounded
    } else if !enough {
        VerificationStatus::Monitoring
    } else if significant && reduction > MATERIAL_REDUCTION_PERCENT {
        VerificationStatus::Verified
    } else if significant && rate_after > rate_before {
        VerificationStatus::Regressed
    } else {
        VerificationStatus::NotFixed
    };
    let mut counts: BTreeMap<IssueKind, (u64, u64)> = BTreeMap::new();
    for issue in issues.iter().filter(|i| own(&i.agent_id)) {
        if in_before(issue.conversation_created_at) {
            counts.entry(issue.kind).or_default().0 += 1;
        } else if in_after(issue.conversation_created_at) {
            counts.entry(issue.kind).or_default().1 += 1;
        }
    }
    DeploymentImpact {
        agent_id: deployment.agent_id.to_owned(),
        agent_name: deployment.agent_name.to_owned(),
        version: deployment.version,
        deployed_at: rfc3339(deployment.deployed_at),
        verification_status: status,
        failure_rate_before: (rate_before * 1000.0).round() / 1000.0,
        failure_rate_after: (rate_after * 1000.0).round() / 1000.0,
        reduction_percent: round1(reduction),
        pre_fix_conversation_count: before.len() as u64,
        post_fix_conversation_count: after.len() as u64,
        p_value: p_value.map(|p| (p * 1e6).round() / 1e6),
        test: p_value.map(|_| fisher::FISHER_TEST.to_owned()),
        issues: counts
            .into_iter()
            .map(|(kind, (before, after))| DeploymentIssue {
                issue_id: kind.id().to_owned(),
                title: kind.title().to_owned(),
                before_fail_count: before,
                after_fail_count: after,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(agent: &str, t: i64, quality: f64, done: bool) -> InsightRow {
        InsightRow {
            conversation_id: format!("c{t}"),
            agent_id: agent.to_owned(),
            conversation_created_at: t,
            quality_score: quality,
            task_completed: done,
            sentiment: Sentiment::Neutral,
            sentiment_score: 0.5,
            metrics: MetricScores([quality; 11]),
            topics: vec!["billing".to_owned()],
        }
    }

    #[test]
    fn percentile_counts_agents_at_or_below() {
        assert_eq!(percentile_of(50.0, &[40.0, 50.0, 60.0, 70.0]), 50.0);
        assert_eq!(percentile_of(70.0, &[40.0, 50.0, 60.0, 70.0]), 100.0);
        assert_eq!(percentile_of(1.0, &[]), 0.0);
    }

    #[test]
    fn a_change_that_halves_failures_is_verified_and_a_worse_one_regressed() {
        let t0 = 100 * DAY_MS;
        let mut rows = Vec::new();
        // 10 days before: 40% failures; 10 days after: 10%.
        for i in 0..50 {
            rows.push(row("a", t0 - 10 * DAY_MS + i * 1000, 60.0, i % 5 >= 2));
            rows.push(row("a", t0 + i * 1000, 80.0, i % 10 != 0));
        }
        let deployment = Deployment {
            agent_id: "a",
            agent_name: "A",
            version: 2,
            deployed_at: t0,
            previous_deployed_at: None,
            next_deployed_at: None,
        };
        let impact = deployment_impact(&deployment, t0 + 10 * DAY_MS, &rows, &[]);
        assert_eq!(impact.failure_rate_before, 0.4);
        assert_eq!(impact.failure_rate_after, 0.1);
        assert_eq!(impact.reduction_percent, 75.0);
        assert_eq!(impact.verification_status, VerificationStatus::Verified);
        // Fisher on [[20, 30], [5, 45]]: 0.000967 by exact binomials (Python math.comb).
        assert!(impact.p_value.unwrap() < 0.002, "{:?}", impact.p_value);

        let swapped: Vec<InsightRow> = rows
            .iter()
            .map(|r| InsightRow {
                task_completed: if r.conversation_created_at < t0 {
                    r.conversation_created_at % 10_000 != 0
                } else {
                    (r.conversation_created_at / 1000) % 2 == 0
                },
                ..r.clone()
            })
            .collect();
        let impact = deployment_impact(&deployment, t0 + 10 * DAY_MS, &swapped, &[]);
        assert_eq!(impact.verification_status, VerificationStatus::Regressed);

        let early = deployment_impact(&deployment, t0 + 1000, &rows[..52], &[]);
        assert_eq!(early.verification_status, VerificationStatus::Monitoring);
        let confounded = Deployment {
            previous_deployed_at: Some(t0 - DAY_MS),
            ..deployment
        };
        assert_eq!(
            deployment_impact(&confounded, t0 + 10 * DAY_MS, &rows, &[]).verification_status,
            VerificationStatus::Confounded
        );
    }

    #[test]
    fn when_a_change_does_nothing_it_is_rarely_verified() {
        use crate::engine::rng::SeededRng;
        let mut rng = SeededRng::new(42);
        let t0 = 100 * DAY_MS;
        let deployment = Deployment {
            agent_id: "a",
            agent_name: "A",
            version: 2,
            deployed_at: t0,
            previous_deployed_at: None,
            next_deployed_at: None,
        };
        let runs = 1_000;
        let mut verified = 0;
        let mut judged = 0;
        for _ in 0..runs {
            // The same failure rate on both sides: whatever moves is chance.
            let rate = 0.1 + 0.5 * rng.next_f64();
            let before = 30 + rng.below(120) as i64;
            let after = 30 + rng.below(120) as i64;
            let mut rows = Vec::new();
            for i in 0..before {
                rows.push(row("a", t0 - 5 * DAY_MS + i, 60.0, !rng.chance(rate)));
            }
            for i in 0..after {
                rows.push(row("a", t0 + i, 60.0, !rng.chance(rate)));
            }
            let impact = deployment_impact(&deployment, t0 + 5 * DAY_MS, &rows, &[]);
            if impact.verification_status != VerificationStatus::Monitoring {
                judged += 1;
            }
            if impact.verification_status == VerificationStatus::Verified {
                verified += 1;
            }
        }
        assert_eq!(judged, runs);
        let rate = verified as f64 / runs as f64;
        eprintln!("no-effect changes verified: {verified} of {runs}");
        assert!(rate <= 0.05, "{rate}");
    }

    #[test]
    fn a_halving_on_a_handful_of_conversations_is_still_monitoring() {
        let t0 = 100 * DAY_MS;
        let mut rows = Vec::new();
        for i in 0..10 {
            rows.push(row("a", t0 - DAY_MS + i, 60.0, i % 2 == 0));
            rows.push(row("a", t0 + i, 60.0, i != 0));
        }
        let deployment = Deployment {
            agent_id: "a",
            agent_name: "A",
            version: 2,
            deployed_at: t0,
            previous_deployed_at: None,
            next_deployed_at: None,
        };
        let impact = deployment_impact(&deployment, t0 + DAY_MS, &rows, &[]);
        assert_eq!(impact.reduction_percent, 80.0);
        assert_eq!(impact.verification_status, VerificationStatus::Monitoring);
        assert_eq!(impact.p_value, None);
    }

    #[test]
    fn fleet_ranks_agents_by_quality_and_names_better_agents() {
        let rows = vec![
            row("a", 1, 50.0, true),
            row("b", 2, 80.0, true),
            row("c", 3, 65.0, false),
        ];
        let names: BTreeMap<String, String> = [("a", "A"), ("b", "B"), ("c", "C")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let input = AgentInsightsInput {
            agent_id: "a",
            days: 30,
            from_ms: 0,
            now_ms: DAY_MS,
            facts: &[],
            fleet_rows: &rows,
            fleet_issues: &[],
            agent_names: &names,
            value_per_conversation: Some(10.0),
            currency: "USD",
        };
        let insights = agent_insights(&input);
        let fleet = insights.fleet_intelligence;
        assert_eq!(fleet.rank, Some(3));
        assert_eq!(fleet.total_agents, 3);
        assert_eq!(fleet.fleet_average_score, Some(65.0));
        assert!(fleet.best_practices_from.iter().all(|b| b.agent_id == "b"));
        assert_eq!(insights.business_impact.conversations_affected, 0);
    }
}
