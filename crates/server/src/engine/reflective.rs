//! The reflective optimizer, after GEPA (Agrawal et al., "GEPA: Reflective Prompt Evolution
//! Can Outperform Reinforcement Learning", arXiv 2507.19457), used when a model is configured.
//!
//! Instead of rewriting the prompt once from a list of issue kinds, it evolves candidates over
//! a few generations on *feedback cells*:
//! 1. every candidate plays the feedback cells and a blind judge scores each transcript and
//!    says what went wrong;
//! 2. a parent is drawn from the Pareto front over personas: a candidate stays on the front
//!    while it is the best for at least one persona, so a prompt that serves one kind of user
//!    well is not lost to one that is better only on average;
//! 3. the model reads the parent's worst transcripts with the judge's reasons and writes a
//!    mutation; a mutation that drops one of the agent's constraints is discarded unseen.
//!
//! What survives is tested afterwards against the control on *held-out* cells (other seeds)
//! with the same statistics as any optimization: the feedback cells chose the candidates, so
//! they cannot also judge them.

use std::collections::BTreeMap;

use converra_api::conversations::Message;
use converra_api::insights::Metric;

use super::personas::{Persona, Scenario};
use super::rng::SeededRng;
use super::{EngineError, EngineFuture, MetricScores, VariantProposal};

/// One simulated user the candidates meet during evolution.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackCell {
    pub persona: &'static Persona,
    pub scenario: &'static Scenario,
    pub seed: u64,
}

/// One candidate on one feedback cell: the transcript and the judge's reading of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub metrics: MetricScores,
    pub messages: Vec<Message>,
    /// What the judge says went wrong, in its words (empty when nothing did).
    pub reasons: Vec<String>,
    pub engine_tokens: u64,
}

/// Plays a prompt on a feedback cell and has it judged (blind): the job provides it, so that
/// evolution and the final test simulate and judge in exactly the same way.
pub trait TrialRunner: Send + Sync {
    fn run<'a>(&'a self, prompt: &'a str, cell: &'a FeedbackCell) -> EngineFuture<'a, Trial>;
}

/// What the model reads to write one mutation.
#[derive(Debug, Clone, Copy)]
pub struct ReflectionRequest<'a> {
    /// The parent prompt.
    pub prompt: &'a str,
    /// The parent's worst feedback trials, worst first.
    pub failures: &'a [&'a Trial],
    /// Lines every candidate must keep word for word.
    pub constraints: &'a [String],
    /// The team's objectives and KPIs, as they wrote them.
    pub objectives: Option<&'a str>,
    pub seed: u64,
}

/// An engine that can reflect on failures and write a mutation (the model engine).
pub trait Reflector: Send + Sync {
    fn reflect<'a>(&'a self, request: ReflectionRequest<'a>) -> EngineFuture<'a, VariantProposal>;
}

/// How a run evolves.
#[derive(Debug, Clone)]
pub struct EvolutionPlan {
    /// Generations of mutations (the run's `maxIterations`).
    pub generations: u32,
    /// Mutations written per generation.
    pub children_per_generation: usize,
    /// Candidates handed to the final test.
    pub survivors: usize,
    pub constraints: Vec<String>,
    /// The team's objectives and KPIs, shown to the model; they also set `weights`.
    pub objectives: Option<String>,
    pub weights: ScoreWeights,
    /// Worst trials shown to the model per reflection.
    pub failures_shown: usize,
    pub seed: u64,
}

/// What evolution produced, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Evolution {
    /// The survivors, best first (never the control itself).
    pub survivors: Vec<VariantProposal>,
    pub candidates_tried: usize,
    /// Mutations discarded because they dropped a constraint.
    pub discarded_for_constraints: usize,
    pub engine_tokens: u64,
}

/// How much each metric counts in a candidate's score. Neutral (all 1) unless the team's
/// objectives or KPIs name what matters to them, which then counts three times.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreWeights([f64; 11]);

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights([1.0; 11])
    }
}

/// Words in objectives and KPIs, and the metric each points at.
const METRIC_WORDS: [(&str, Metric); 14] = [
    ("complet", Metric::TaskCompletion),
    ("resolv", Metric::TaskCompletion),
    ("resolution", Metric::TaskCompletion),
    ("success", Metric::SuccessScore),
    ("conversion", Metric::SuccessScore),
    ("satisf", Metric::Sentiment),
    ("sentiment", Metric::Sentiment),
    ("csat", Metric::Sentiment),
    ("accura", Metric::HallucinationScore),
    ("hallucinat", Metric::HallucinationScore),
    ("concise", Metric::VerbosityScore),
    ("brief", Metric::VerbosityScore),
    ("clear", Metric::Clarity),
    ("relevan", Metric::AiRelevancy),
];

impl ScoreWeights {
    /// Reads the account's objectives and KPIs.
    pub fn from_objectives(text: &str) -> ScoreWeights {
        let lower = text.to_lowercase();
        let mut weights = [1.0; 11];
        for (word, metric) in METRIC_WORDS {
            if lower.contains(word) {
                weights[metric.index()] = 3.0;
            }
        }
        ScoreWeights(weights)
    }

    /// The weighted mean of the metrics (0..100).
    pub fn score(&self, metrics: &MetricScores) -> f64 {
        let total: f64 = self.0.iter().sum();
        self.0
            .iter()
            .zip(metrics.0.iter())
            .map(|(w, m)| w * m)
            .sum::<f64>()
            / total
    }
}

/// The agent's constraints, one per non-empty line, without list markers.
pub fn constraint_lines(constraints: Option<&str>) -> Vec<String> {
    constraints
        .unwrap_or_default()
        .lines()
        .map(|line| {
            line.trim()
                .trim_start_matches(['-', '*', '•'])
                .trim_start()
                .to_owned()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// Whether `prompt` states every constraint word for word (ignoring case and spacing).
pub fn keeps_constraints(prompt: &str, constraints: &[String]) -> bool {
    let squash = |text: &str| {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let prompt = squash(prompt);
    constraints.iter().all(|c| prompt.contains(&squash(c)))
}

struct Candidate {
    proposal: VariantProposal,
    trials: Vec<Trial>,
}

impl Candidate {
    fn mean(&self, weights: &ScoreWeights) -> f64 {
        let scores: Vec<f64> = self
            .trials
            .iter()
            .map(|t| weights.score(&t.metrics))
            .collect();
        scores.iter().sum::<f64>() / scores.len().max(1) as f64
    }

    fn by_persona(
        &self,
        cells: &[FeedbackCell],
        weights: &ScoreWeights,
    ) -> BTreeMap<&'static str, f64> {
        let mut sums: BTreeMap<&'static str, (f64, u32)> = BTreeMap::new();
        for (cell, trial) in cells.iter().zip(&self.trials) {
            let entry = sums.entry(cell.persona.id).or_default();
            entry.0 += weights.score(&trial.metrics);
            entry.1 += 1;
        }
        sums.into_iter()
            .map(|(persona, (sum, n))| (persona, sum / f64::from(n.max(1))))
            .collect()
    }
}

/// For each candidate, how many personas it is the best for (ties count for each).
fn front_wins(pool: &[Candidate], cells: &[FeedbackCell], weights: &ScoreWeights) -> Vec<usize> {
    let scores: Vec<BTreeMap<&'static str, f64>> =
        pool.iter().map(|c| c.by_persona(cells, weights)).collect();
    let mut wins = vec![0; pool.len()];
    let personas: Vec<&'static str> = scores
        .first()
        .map(|s| s.keys().copied().collect())
        .unwrap_or_default();
    for persona in personas {
        let best = scores
            .iter()
            .map(|s| s.get(persona).copied().unwrap_or(f64::NEG_INFINITY))
            .fold(f64::NEG_INFINITY, f64::max);
        for (index, s) in scores.iter().enumerate() {
            if s.get(persona).copied() == Some(best) {
                wins[index] += 1;
            }
        }
    }
    wins
}

/// Draws a parent from the front, in proportion to the personas each leads.
fn pick_parent(wins: &[usize], rng: &mut SeededRng) -> usize {
    let total: usize = wins.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut ticket = rng.below(total);
    for (index, &w) in wins.iter().enumerate() {
        if ticket < w {
            return index;
        }
        ticket -= w;
    }
    0
}

async fn play_all(
    runner: &dyn TrialRunner,
    prompt: &str,
    cells: &[FeedbackCell],
) -> Result<Vec<Trial>, EngineError> {
    let mut trials = Vec::with_capacity(cells.len());
    for cell in cells {
        trials.push(runner.run(prompt, cell).await?);
    }
    Ok(trials)
}

/// Evolution in progress, one generation at a time, so that the caller can record progress
/// and stop between generations.
pub struct Evolver<'a> {
    cells: &'a [FeedbackCell],
    plan: &'a EvolutionPlan,
    runner: &'a dyn TrialRunner,
    rng: SeededRng,
    /// The control first, then every candidate that kept the constraints.
    pool: Vec<Candidate>,
    engine_tokens: u64,
    discarded: usize,
}

impl<'a> Evolver<'a> {
    /// Plays the control on the feedback cells: generation 0.
    pub async fn start(
        control: &str,
        cells: &'a [FeedbackCell],
        plan: &'a EvolutionPlan,
        runner: &'a dyn TrialRunner,
    ) -> Result<Evolver<'a>, EngineError> {
        let control_trials = play_all(runner, control, cells).await?;
        let engine_tokens = control_trials
            .iter()
            .fold(0, |sum: u64, t| sum.saturating_add(t.engine_tokens));
        Ok(Evolver {
            cells,
            plan,
            runner,
            rng: SeededRng::derive(plan.seed, "reflective"),
            pool: vec![Candidate {
                proposal: VariantProposal {
                    content: control.to_owned(),
                    change_summary: String::new(),
                    addresses: Vec::new(),
                    engine_tokens: 0,
                },
                trials: control_trials,
            }],
            engine_tokens,
            discarded: 0,
        })
    }

    /// One generation: `plan.children_per_generation` mutations of parents drawn from the
    /// front, each played on the feedback cells unless it repeats a candidate or drops a
    /// constraint.
    pub async fn generation(&mut self, reflector: &dyn Reflector) -> Result<(), EngineError> {
        let plan = self.plan;
        for _ in 0..plan.children_per_generation {
            let wins = front_wins(&self.pool, self.cells, &plan.weights);
            let parent = &self.pool[pick_parent(&wins, &mut self.rng)];
            let mut worst: Vec<&Trial> = parent.trials.iter().collect();
            worst.sort_by(|a, b| {
                plan.weights
                    .score(&a.metrics)
                    .total_cmp(&plan.weights.score(&b.metrics))
            });
            worst.truncate(plan.failures_shown.max(1));
            let child = reflector
                .reflect(ReflectionRequest {
                    prompt: &parent.proposal.content,
                    failures: &worst,
                    constraints: &plan.constraints,
                    objectives: plan.objectives.as_deref(),
                    seed: self.rng.next_u64(),
                })
                .await?;
            self.engine_tokens = self.engine_tokens.saturating_add(child.engine_tokens);
            if self
                .pool
                .iter()
                .any(|c| c.proposal.content == child.content)
            {
                continue;
            }
            if !keeps_constraints(&child.content, &plan.constraints) {
                self.discarded += 1;
                continue;
            }
            let trials = play_all(self.runner, &child.content, self.cells).await?;
            self.engine_tokens = trials.iter().fold(self.engine_tokens, |sum, t| {
                sum.saturating_add(t.engine_tokens)
            });
            self.pool.push(Candidate {
                proposal: child,
                trials,
            });
        }
        Ok(())
    }

    /// The survivors: the front first, then by mean score.
    pub fn finish(self) -> Evolution {
        let plan = self.plan;
        let wins = front_wins(&self.pool, self.cells, &plan.weights);
        let mut ranked: Vec<(usize, f64, bool)> = (1..self.pool.len())
            .map(|i| (i, self.pool[i].mean(&plan.weights), wins[i] > 0))
            .collect();
        // A candidate off the front is only a stand-in.
        ranked.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.total_cmp(&a.1)));
        let candidates_tried = self.pool.len() - 1;
        let survivors = ranked
            .into_iter()
            .take(plan.survivors)
            .map(|(i, _, _)| self.pool[i].proposal.clone())
            .collect();
        Evolution {
            survivors,
            candidates_tried,
            discarded_for_constraints: self.discarded,
            engine_tokens: self.engine_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::personas::{personas, scenarios};

    /// A world with a known fix: answers are good only once the prompt states the return
    /// window, which the judge names when it is missing. Persona 2 also wants brevity.
    struct World;

    const FACT: &str = "Returns are accepted within 45 days.";

    impl TrialRunner for World {
        fn run<'a>(&'a self, prompt: &'a str, cell: &'a FeedbackCell) -> EngineFuture<'a, Trial> {
            Box::pin(async move {
                let knows = prompt.contains(FACT);
                let brief = prompt.contains("Be brief.");
                let brevity_matters = cell.persona.id == personas()[1].id;
                let mut score = if knows { 85.0 } else { 40.0 };
                if brevity_matters && brief {
                    score += 10.0;
                }
                let reasons = if knows {
                    Vec::new()
                } else {
                    vec!["The agent never said how many days a return is accepted (45).".to_owned()]
                };
                Ok(Trial {
                    metrics: MetricScores([score; 11]),
                    messages: Vec::new(),
                    reasons,
                    engine_tokens: 10,
                })
            })
        }
    }

    /// Writes the fix only when a failure's reasons reveal it; otherwise a harmless edit.
    struct Reader {
        drop_constraints: bool,
    }

    impl Reflector for Reader {
        fn reflect<'a>(
            &'a self,
            request: ReflectionRequest<'a>,
        ) -> EngineFuture<'a, VariantProposal> {
            Box::pin(async move {
                let revealed = request
                    .failures
                    .iter()
                    .any(|t| t.reasons.iter().any(|r| r.contains("45")));
                let mut content = if self.drop_constraints {
                    "A prompt without its rules.".to_owned()
                } else {
                    request.prompt.to_owned()
                };
                let edit = if revealed && !content.contains(FACT) {
                    FACT.to_owned()
                } else {
                    format!("Be brief. ({})", request.seed % 1000)
                };
                content.push(' ');
                content.push_str(&edit);
                Ok(VariantProposal {
                    content,
                    change_summary: edit,
                    addresses: Vec::new(),
                    engine_tokens: 5,
                })
            })
        }
    }

    fn cells() -> Vec<FeedbackCell> {
        (0..8)
            .map(|i| FeedbackCell {
                persona: &personas()[i % 2],
                scenario: &scenarios()[i % 3],
                seed: i as u64,
            })
            .collect()
    }

    fn plan(constraints: &[&str]) -> EvolutionPlan {
        EvolutionPlan {
            generations: 3,
            children_per_generation: 2,
            survivors: 2,
            constraints: constraints.iter().map(|c| c.to_string()).collect(),
            objectives: None,
            weights: ScoreWeights::default(),
            failures_shown: 3,
            seed: 1,
        }
    }

    const CONTROL: &str = "You help with returns. Never offer cash refunds.";

    async fn evolve(plan: &EvolutionPlan, reflector: &Reader) -> Evolution {
        let cells = cells();
        let mut evolver = Evolver::start(CONTROL, &cells, plan, &World).await.unwrap();
        for _ in 0..plan.generations {
            evolver.generation(reflector).await.unwrap();
        }
        evolver.finish()
    }

    #[tokio::test]
    async fn the_failures_lead_to_the_fix_and_it_survives_first() {
        let evolution = evolve(
            &plan(&["Never offer cash refunds."]),
            &Reader {
                drop_constraints: false,
            },
        )
        .await;
        assert!(
            evolution.survivors[0].content.contains(FACT),
            "{evolution:?}"
        );
        assert!(evolution
            .survivors
            .iter()
            .all(|s| s.content.contains("Never offer cash refunds.")));
        assert!(evolution.candidates_tried >= 2);
        assert!(evolution.engine_tokens > 0);
    }

    #[tokio::test]
    async fn a_mutation_that_drops_a_constraint_is_discarded() {
        let evolution = evolve(
            &plan(&["Never offer cash refunds."]),
            &Reader {
                drop_constraints: true,
            },
        )
        .await;
        assert!(evolution.survivors.is_empty());
        assert_eq!(evolution.discarded_for_constraints, 6);
    }

    #[test]
    fn a_candidate_best_for_one_persona_stays_on_the_front() {
        let cells = cells();
        let trial = |score: f64| Trial {
            metrics: MetricScores([score; 11]),
            messages: Vec::new(),
            reasons: Vec::new(),
            engine_tokens: 0,
        };
        let candidate = |scores: [f64; 2]| Candidate {
            proposal: VariantProposal {
                content: String::new(),
                change_summary: String::new(),
                addresses: Vec::new(),
                engine_tokens: 0,
            },
            trials: (0..cells.len()).map(|i| trial(scores[i % 2])).collect(),
        };
        // The second is better on average; the third only for the second persona.
        let pool = vec![
            candidate([50.0, 50.0]),
            candidate([90.0, 60.0]),
            candidate([40.0, 70.0]),
        ];
        assert_eq!(
            front_wins(&pool, &cells, &ScoreWeights::default()),
            vec![0, 1, 1]
        );
    }

    #[test]
    fn objectives_weigh_what_they_name_and_constraints_are_read_per_line() {
        let weights = ScoreWeights::from_objectives("Raise CSAT and first-contact resolution");
        let mut metrics = MetricScores([50.0; 11]);
        metrics.set(Metric::Sentiment, 100.0);
        assert!(weights.score(&metrics) > ScoreWeights::default().score(&metrics));
        assert_eq!(
            constraint_lines(Some(
                "- Never offer cash refunds.\n\n* Always answer in English.\n"
            )),
            vec!["Never offer cash refunds.", "Always answer in English."]
        );
        assert!(keeps_constraints(
            "Be kind.  never OFFER cash\nrefunds. Always answer in English.",
            &constraint_lines(Some("Never offer cash refunds.\nAlways answer in English."))
        ));
        assert!(!keeps_constraints(
            "Be kind.",
            &["Never offer cash refunds.".to_owned()]
        ));
    }
}
