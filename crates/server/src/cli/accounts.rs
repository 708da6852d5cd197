//! `accounts list` and `accounts set-limits`: what an operator sees of every account, and
//! how one account's limits are lifted or lowered (the spec sets enterprise limits per
//! account; a plan's are the default).

use clap::{Args, Subcommand};
use converra_api::PlanLimits;

use super::DbArgs;
use crate::clock::{Clock, SystemClock};
use crate::store::accounts::AccountRecord;
use crate::store::usage::AccountUsage;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Every account with its plan, its limits and this month's usage.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Sets one account's own limits; limits not named keep their value. They hold from the
    /// account's next request.
    SetLimits {
        #[command(flatten)]
        db: DbArgs,
        /// The account's name.
        #[arg(long)]
        account: String,
        #[command(flatten)]
        change: LimitChange,
        /// Back to the plan's own limits.
        #[arg(long, conflicts_with_all = ["requests_per_minute", "agents", "conversations_per_month", "optimizations_per_month", "tokens_per_month"])]
        reset: bool,
    },
}

/// The limits `set-limits` changes; each absent one stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct LimitChange {
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub requests_per_minute: Option<u32>,
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub agents: Option<u32>,
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub conversations_per_month: Option<u32>,
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub optimizations_per_month: Option<u32>,
    /// A number, or `unlimited`.
    #[arg(long, value_parser = parse_token_limit)]
    pub tokens_per_month: Option<TokenLimit>,
}

/// `--tokens-per-month`: a positive number, or no limit at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimit {
    At(u64),
    Unlimited,
}

fn parse_token_limit(text: &str) -> Result<TokenLimit, String> {
    match text.trim() {
        "unlimited" => Ok(TokenLimit::Unlimited),
        number => match number.replace('_', "").parse::<u64>() {
            Ok(0) | Err(_) => Err(format!(
                "'{text}' is neither a positive whole number nor 'unlimited'"
            )),
            Ok(n) => Ok(TokenLimit::At(n)),
        },
    }
}

impl LimitChange {
    pub fn is_empty(&self) -> bool {
        *self == LimitChange::default()
    }

    /// `limits` with this change made; `prompts` follows `agents`, its older name.
    pub fn applied_to(&self, mut limits: PlanLimits) -> PlanLimits {
        if let Some(n) = self.requests_per_minute {
            limits.requests_per_minute = n;
        }
        if let Some(n) = self.agents {
            limits.agents = n;
            limits.prompts = n;
        }
        if let Some(n) = self.conversations_per_month {
            limits.conversations_per_month = n;
        }
        if let Some(n) = self.optimizations_per_month {
            limits.optimizations_per_month = n;
        }
        match self.tokens_per_month {
            Some(TokenLimit::At(n)) => limits.tokens_per_month = Some(n),
            Some(TokenLimit::Unlimited) => limits.tokens_per_month = None,
            None => {}
        }
        limits
    }
}

pub async fn run(command: AccountsCommand) -> anyhow::Result<()> {
    match command {
        AccountsCommand::List { db } => {
            let store = Store::connect(&db.db, db.durability).await?;
            let now = SystemClock.now_ms();
            let accounts = store.accounts().await?;
            if accounts.is_empty() {
                println!("no accounts yet: `keys create --account NAME` makes one");
            }
            for account in accounts {
                let usage = store.account_usage(&account.id, now).await?;
                println!("{}", describe(&account, &usage));
            }
            Ok(())
        }
        AccountsCommand::SetLimits {
            db,
            account,
            change,
            reset,
        } => {
            anyhow::ensure!(
                reset || !change.is_empty(),
                "name at least one limit to set (or --reset)"
            );
            let store = Store::connect(&db.db, db.durability).await?;
            let current = store
                .accounts()
                .await?
                .into_iter()
                .find(|a| a.name == account)
                .ok_or_else(|| anyhow::anyhow!("no account is called '{account}'"))?;
            let limits = (!reset).then(|| change.applied_to(current.limits.clone()));
            let updated = store
                .set_account_limits(&account, limits.as_ref())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account is called '{account}'"))?;
            let usage = store
                .account_usage(&updated.id, SystemClock.now_ms())
                .await?;
            println!("{}", describe(&updated, &usage));
            Ok(())
        }
    }
}

/// An account's block in `accounts list`: its name, plan and whose limits, then each limit
/// beside this month's use of it.
fn describe(account: &AccountRecord, usage: &AccountUsage) -> String {
    let limits = &account.limits;
    let whose = if *limits == account.plan.default_limits() {
        "the plan's limits"
    } else {
        "limits set for this account"
    };
    let totals = &usage.period.totals;
    let tokens = limits
        .tokens_per_month
        .map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    format!(
        "{name} ({id}), plan {plan}, {whose}\n  \
         requests/minute      {rpm}\n  \
         agents               {agents} of {agent_limit}\n  \
         conversations/month  {conversations} of {conversation_limit}\n  \
         optimizations/month  {optimizations} of {optimization_limit} ({benchmarks} benchmarks)\n  \
         tokens/month         {tokens_used} of {tokens}\n  \
         requests this month  {requests} (as recorded; a running server adds its last seconds)",
        name = account.name,
        id = account.id,
        plan = account.plan.as_str(),
        rpm = limits.requests_per_minute,
        agents = usage.agents,
        agent_limit = limits.agents,
        conversations = totals.conversations,
        conversation_limit = limits.conversations_per_month,
        optimizations = totals.optimizations,
        optimization_limit = limits.optimizations_per_month,
        benchmarks = totals.benchmarks,
        tokens_used = totals.tokens,
        requests = totals.requests,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::PlanId;

    #[test]
    fn a_change_sets_only_what_it_names() {
        let pro = PlanId::Pro.default_limits();
        assert_eq!(LimitChange::default().applied_to(pro.clone()), pro);
        let lifted = LimitChange {
            requests_per_minute: Some(5_000),
            agents: Some(1_000),
            tokens_per_month: Some(TokenLimit::At(2_000_000)),
            ..LimitChange::default()
        }
        .applied_to(pro.clone());
        assert_eq!(lifted.requests_per_minute, 5_000);
        assert_eq!((lifted.agents, lifted.prompts), (1_000, 1_000));
        assert_eq!(lifted.tokens_per_month, Some(2_000_000));
        assert_eq!(lifted.conversations_per_month, pro.conversations_per_month);
        let unlimited = LimitChange {
            tokens_per_month: Some(TokenLimit::Unlimited),
            ..LimitChange::default()
        }
        .applied_to(lifted);
        assert_eq!(unlimited.tokens_per_month, None);
    }

    #[test]
    fn a_token_limit_is_a_positive_number_or_unlimited() {
        assert_eq!(parse_token_limit("unlimited"), Ok(TokenLimit::Unlimited));
        assert_eq!(
            parse_token_limit("1_000_000"),
            Ok(TokenLimit::At(1_000_000))
        );
        for bad in ["0", "-5", "lots", ""] {
            assert!(parse_token_limit(bad).is_err(), "{bad}");
        }
    }
}
