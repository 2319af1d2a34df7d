//! Answers to security questions: compared without case, accents, spaces or punctuation,
//! and long enough not to be guessed in a few tries.

use super::names::fold_name;
use crate::i18n::Msg;

/// The fewest letters or digits an answer may have.
pub const MIN_ANSWER_CHARS: usize = 3;
/// The most characters a question written by the person may have.
pub const MAX_QUESTION_CHARS: usize = 200;

/// The form an answer is hashed and compared in: "Saint-Jean-sur-Richelieu" and
/// "saint jean sur richelieu" are the same answer.
pub fn normalize_answer(answer: &str) -> String {
    fold_name(answer).replace(['-', '.'], "")
}

/// Why an answer cannot be kept, if it cannot.
pub fn check_answer(answer: &str) -> Result<(), Msg> {
    if normalize_answer(answer).chars().count() < MIN_ANSWER_CHARS {
        return Err(Msg::QuestionsAnswerTooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_ignore_case_accents_spaces_and_punctuation() {
        assert_eq!(
            normalize_answer("  Saint-Jean-sur-Richelieu "),
            normalize_answer("saint jean sur richelieu")
        );
        assert_eq!(normalize_answer("Éloïse"), "eloise");
        assert_ne!(normalize_answer("Rex"), normalize_answer("Rox"));
    }

    #[test]
    fn short_answers_are_refused() {
        assert_eq!(check_answer(" a-b "), Err(Msg::QuestionsAnswerTooShort));
        assert_eq!(check_answer("Rex"), Ok(()));
    }
}
