//! What an answer cost: its recorded tokens at the user's own prices (SPEC §10). No
//! price is built in; a model without one costs `—` (unknown), never 0, and a cost that
//! rests on duel's own token estimate says so (`≈`). Costs are computed when shown,
//! from today's price table, so a corrected price corrects every figure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::Answer;
use crate::votes::SideRecord;

/// A model's price per million tokens, in its vendor's currency.
#[derive(Clone, Debug, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Input read from the provider's prompt cache; `None`: billed as input.
    pub cached_input: Option<f64>,
    /// Reasoning tokens; `None`: billed as output.
    pub reasoning: Option<f64>,
    pub currency: String,
}

/// `[report]`: the currency every cost is shown in, and the user's own fixed rates
/// into it (`rates = { USD = 7.12 }`: 1 USD is 7.12 of the report currency).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Money {
    /// `None` until a model has a price: then the report currency, or the one currency
    /// every priced model shares.
    pub currency: Option<String>,
    pub rates: BTreeMap<String, f64>,
}

impl Money {
    /// How many units of the report currency one unit of `currency` is.
    pub fn rate(&self, currency: &str) -> Option<f64> {
        match &self.currency {
            Some(report) if report == currency => Some(1.0),
            _ => self.rates.get(currency).copied(),
        }
    }
}

/// The tokens an answer was billed for, as its record has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cached_input: Option<u64>,
    pub reasoning: Option<u64>,
    /// Some count is duel's estimate (the server sent none).
    pub estimated: bool,
}

impl Tokens {
    /// An answer's tokens: the provider's counts, else duel's output estimate; a
    /// prompt whose input count never came is estimated from `sent_chars` (the
    /// characters sent), counted only then.
    pub fn of(side: &SideRecord, sent_chars: impl FnOnce() -> usize) -> Self {
        let estimate = side.output_tokens_estimate.as_ref().map(|e| e.tokens);
        Tokens {
            input: side
                .input_tokens
                .or_else(|| Some(estimate_tokens(sent_chars()))),
            output: side.output_tokens.or(estimate),
            cached_input: side.cached_input_tokens,
            reasoning: side.reasoning_tokens,
            estimated: side.input_tokens.is_none() || side.output_tokens.is_none(),
        }
    }
}

impl Tokens {
    /// A live answer's tokens, as `of` reads its record.
    pub fn of_answer(answer: &Answer, sent_chars: impl FnOnce() -> usize) -> Self {
        let (output, exact) = answer.output_tokens();
        let usage = answer.usage;
        Tokens {
            input: usage
                .input_tokens
                .or_else(|| Some(estimate_tokens(sent_chars()))),
            output: Some(output),
            cached_input: usage.cached_input_tokens,
            reasoning: usage.reasoning_tokens,
            estimated: usage.input_tokens.is_none() || !exact,
        }
    }
}

/// Tokens for `chars` characters of text, where no count came: about one token for
/// every three characters of mixed Chinese and English text (a Chinese character is
/// about one token, an English word of five letters about one and a half).
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(3)
}

/// A cost in the report currency.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cost {
    pub amount: f64,
    /// Rests on an estimated token count.
    pub estimated: bool,
}

impl Cost {
    /// The sum of `costs`; `None` if any is unknown (a sum that leaves one out would
    /// understate).
    pub fn sum(costs: impl IntoIterator<Item = Option<Cost>>) -> Option<Cost> {
        costs.into_iter().try_fold(
            Cost {
                amount: 0.0,
                estimated: false,
            },
            |total, cost| {
                let cost = cost?;
                Some(Cost {
                    amount: total.amount + cost.amount,
                    estimated: total.estimated || cost.estimated,
                })
            },
        )
    }
}

/// What `tokens` cost at `price`, converted by `rate` (units of the report currency
/// per unit of the price's). Reasoning counts as output unless it has a price of its
/// own; cached input at its price where there is one. `None` when no output count or
/// estimate exists at all.
pub fn cost(tokens: &Tokens, price: &Price, rate: f64) -> Option<Cost> {
    let input = tokens.input.unwrap_or(0);
    let output = tokens.output?;
    let cached = tokens.cached_input.unwrap_or(0).min(input);
    let reasoning = match price.reasoning {
        Some(_) => tokens.reasoning.unwrap_or(0).min(output),
        None => 0,
    };
    let per_million = (input - cached) as f64 * price.input
        + cached as f64 * price.cached_input.unwrap_or(price.input)
        + (output - reasoning) as f64 * price.output
        + reasoning as f64 * price.reasoning.unwrap_or(price.output);
    Some(Cost {
        amount: per_million / 1e6 * rate,
        estimated: tokens.estimated,
    })
}

/// Every configured model's price, with its rate into the report currency.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prices {
    /// The report currency; `None` when no model has a price.
    pub currency: Option<String>,
    by_model: BTreeMap<String, (Price, f64)>,
}

impl Prices {
    /// From the models' prices and `[report]`; a price whose currency has no rate is
    /// left out (config validation has refused such a file already).
    pub fn new<'a>(models: impl IntoIterator<Item = (&'a str, &'a Price)>, money: &Money) -> Self {
        let by_model = models
            .into_iter()
            .filter_map(|(name, price)| {
                let rate = money.rate(&price.currency)?;
                Some((name.to_owned(), (price.clone(), rate)))
            })
            .collect();
        Prices {
            currency: money.currency.clone(),
            by_model,
        }
    }

    /// Whether `model` has a price.
    pub fn knows(&self, model: &str) -> bool {
        self.by_model.contains_key(model)
    }

    /// What `tokens` of `model` cost; `None` for a model without a price.
    pub fn cost(&self, model: &str, tokens: &Tokens) -> Option<Cost> {
        let (price, rate) = self.by_model.get(model)?;
        cost(tokens, price, *rate)
    }

    /// What the answer in `side` cost; `sent_chars` counts what was sent, where the
    /// input count is missing.
    pub fn of_side(&self, side: &SideRecord, sent_chars: impl FnOnce() -> usize) -> Option<Cost> {
        self.cost(&side.model, &Tokens::of(side, sent_chars))
    }

    /// `cost` as shown: `¥0.0123`, `≈$1.20`, `0.50 GBP`; `—` when unknown.
    pub fn show(&self, cost: Option<Cost>) -> String {
        match (cost, &self.currency) {
            (Some(cost), Some(currency)) => show(cost, currency),
            _ => "—".into(),
        }
    }
}

/// An amount in `currency`, with as many decimals as a small amount needs to show
/// (answers cost fractions of a cent), `≈` before an estimate.
pub fn show(cost: Cost, currency: &str) -> String {
    let amount = cost.amount;
    let decimals = if amount == 0.0 || amount >= 1.0 {
        2
    } else if amount >= 0.01 {
        3
    } else {
        4
    };
    let approx = if cost.estimated { "≈" } else { "" };
    let number = format!("{amount:.decimals$}");
    match symbol(currency) {
        Some(symbol) => format!("{approx}{symbol}{number}"),
        None => format!("{approx}{number} {currency}"),
    }
}

/// The sign a currency is written with, where it has one everyone reads the same.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "CNY" | "JPY" => "¥",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        _ => return None,
    })
}

/// Whether `code` looks like an ISO 4217 currency code: three capital letters.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qwen() -> Price {
        // qwen-plus, CNY per million: input 0.8, output 2.0, cached input 0.16.
        Price {
            input: 0.8,
            output: 2.0,
            cached_input: Some(0.16),
            reasoning: None,
            currency: "CNY".into(),
        }
    }

    fn tokens(input: u64, output: u64) -> Tokens {
        Tokens {
            input: Some(input),
            output: Some(output),
            ..Tokens::default()
        }
    }

    /// Worked by hand: 1,000 in at 0.8 and 500 out at 2.0 per million is
    /// 0.0008 + 0.001 = 0.0018.
    #[test]
    fn input_and_output_at_their_prices() {
        let c = cost(&tokens(1_000, 500), &qwen(), 1.0).unwrap();
        assert!((c.amount - 0.0018).abs() < 1e-12, "{c:?}");
        assert!(!c.estimated);
    }

    /// 1,000 in of which 800 cached: 200 × 0.8 + 800 × 0.16 = 160 + 128 = 288 per
    /// million, plus 500 out × 2.0 = 1,000: 0.001288.
    #[test]
    fn cached_input_at_its_own_price() {
        let t = Tokens {
            cached_input: Some(800),
            ..tokens(1_000, 500)
        };
        let c = cost(&t, &qwen(), 1.0).unwrap();
        assert!((c.amount - 0.001_288).abs() < 1e-12, "{c:?}");
        // Without a cached price, cached input is input.
        let plain = Price {
            cached_input: None,
            ..qwen()
        };
        let c = cost(&t, &plain, 1.0).unwrap();
        assert!((c.amount - 0.0018).abs() < 1e-12, "{c:?}");
    }

    /// 500 out of which 300 reasoning, reasoning priced 8.0: 200 × 2.0 + 300 × 8.0 =
    /// 2,800 per million, plus 1,000 in × 0.8 = 800: 0.0036. Unpriced, reasoning is
    /// output: 0.0018.
    #[test]
    fn reasoning_counts_as_output_unless_priced() {
        let t = Tokens {
            reasoning: Some(300),
            ..tokens(1_000, 500)
        };
        let c = cost(&t, &qwen(), 1.0).unwrap();
        assert!((c.amount - 0.0018).abs() < 1e-12, "{c:?}");
        let priced = Price {
            reasoning: Some(8.0),
            ..qwen()
        };
        let c = cost(&t, &priced, 1.0).unwrap();
        assert!((c.amount - 0.0036).abs() < 1e-12, "{c:?}");
    }

    /// gpt-4o-mini at $0.15 / $0.60 per million, shown in CNY at 7.12: 1,000 in and
    /// 1,000 out cost $0.00075, ¥0.00534.
    #[test]
    fn a_foreign_price_is_converted_at_the_user_s_rate() {
        let money = Money {
            currency: Some("CNY".into()),
            rates: BTreeMap::from([("USD".into(), 7.12)]),
        };
        let mini = Price {
            input: 0.15,
            output: 0.60,
            cached_input: None,
            reasoning: None,
            currency: "USD".into(),
        };
        let prices = Prices::new([("gpt-4o-mini", &mini), ("qwen-plus", &qwen())], &money);
        let c = prices.cost("gpt-4o-mini", &tokens(1_000, 1_000)).unwrap();
        assert!((c.amount - 0.005_34).abs() < 1e-12, "{c:?}");
        assert_eq!(prices.show(Some(c)), "¥0.0053");
        assert_eq!(
            prices.cost("ernie-4.5", &tokens(1, 1)),
            None,
            "no price: unknown"
        );
        assert_eq!(prices.show(None), "—");
    }

    /// A server that sent no usage: the output is duel's estimate and the cost says so.
    #[test]
    fn a_cost_from_estimated_tokens_is_marked() {
        let t = Tokens {
            input: Some(estimate_tokens(30)),
            output: Some(40),
            estimated: true,
            ..Tokens::default()
        };
        let c = cost(&t, &qwen(), 1.0).unwrap();
        assert!(c.estimated);
        assert_eq!(show(c, "CNY"), "≈¥0.0001");
        assert_eq!(
            show(
                Cost {
                    amount: 1.5,
                    estimated: false
                },
                "USD"
            ),
            "$1.50"
        );
        assert_eq!(
            show(
                Cost {
                    amount: 0.25,
                    estimated: false
                },
                "CHF"
            ),
            "0.250 CHF"
        );
    }

    #[test]
    fn a_sum_with_an_unknown_part_is_unknown() {
        let known = Some(Cost {
            amount: 1.0,
            estimated: false,
        });
        let guessed = Some(Cost {
            amount: 0.5,
            estimated: true,
        });
        let sum = Cost::sum([known, guessed]).unwrap();
        assert_eq!((sum.amount, sum.estimated), (1.5, true));
        assert_eq!(Cost::sum([known, None]), None);
    }
}
