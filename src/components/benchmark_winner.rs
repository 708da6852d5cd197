//! The winner of a benchmark as people read it, for the list and the result page.

use converra_api::benchmarks::Benchmark;

/// The winner's name, from the results (the API names the winner by agent id).
pub fn winner_name(benchmark: &Benchmark) -> Option<String> {
    let winner = benchmark.winner.as_deref()?;
    let name = benchmark
        .results
        .iter()
        .flatten()
        .find(|r| r.agent_id == winner)
        .map(|r| match &r.model {
            Some(model) => format!("{} on {model}", r.agent_name),
            None => r.agent_name.clone(),
        });
    Some(name.unwrap_or_else(|| winner.to_owned()))
}
