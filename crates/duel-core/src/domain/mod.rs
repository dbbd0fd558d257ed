//! The language of the whole program: messages, stream events, answers, turns and
//! votes. Every other module speaks it; it imports nothing of duel.

mod error;
mod message;
mod stream;
mod turn;
mod verdict;
mod vote;

pub use error::{ErrorKind, ProviderError};
pub use message::{Message, Role};
pub use stream::{Finish, Retry, StreamEvent, Usage};
pub use turn::{Answer, AnswerState, Attempt, ModelRef, Side, Turn};
pub use verdict::{Verdict, read_verdicts};
pub use vote::Vote;
