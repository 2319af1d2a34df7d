//! The institution's rule for a person's category: which combinations of proofs let them
//! choose a new password, and what to ask next when one proof is not enough.

use std::collections::BTreeSet;

use app::api::password::RecoveryMethod;

use crate::config::{RecoveryConfig, RecoveryRule};

/// What the flow does once a proof is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Enough is proven: the new password.
    NewPassword,
    /// One of these (in the institution's order) is still needed.
    Prove(Vec<RecoveryMethod>),
    /// Nothing the person has set up can complete a combination: the helpdesk.
    Helpdesk,
}

/// The rule for `category`: the first naming it, else the first naming `*`.
pub fn rule_for<'c>(config: &'c RecoveryConfig, category: &str) -> Option<&'c RecoveryRule> {
    config
        .rules
        .iter()
        .find(|rule| rule.categories.iter().any(|c| c == category))
        .or_else(|| {
            config
                .rules
                .iter()
                .find(|rule| rule.categories.iter().any(|c| c == "*"))
        })
}

fn methods(codes: &[String]) -> BTreeSet<RecoveryMethod> {
    codes
        .iter()
        .filter_map(|code| RecoveryMethod::from_code(code))
        .collect()
}

/// Decides what follows, given the methods the person can use (`available`) and those
/// already `proven`. `order` is the order to offer methods in.
pub fn next(
    rule: Option<&RecoveryRule>,
    available: &BTreeSet<RecoveryMethod>,
    proven: &BTreeSet<RecoveryMethod>,
    order: &[RecoveryMethod],
) -> Next {
    let Some(rule) = rule else {
        return Next::Helpdesk;
    };
    // Methods the person has set up that the rule adds to every combination.
    let mandatory: BTreeSet<RecoveryMethod> = methods(&rule.plus_if_enrolled)
        .intersection(available)
        .copied()
        .collect();
    let combinations: Vec<BTreeSet<RecoveryMethod>> = rule
        .sufficient
        .iter()
        .map(|combination| methods(combination))
        .filter(|combination| !combination.is_empty())
        .collect();
    let satisfied = |combination: &BTreeSet<RecoveryMethod>| {
        combination.is_subset(proven) && mandatory.is_subset(proven)
    };
    if combinations.iter().any(satisfied) {
        return Next::NewPassword;
    }
    // What each combination the person can complete still lacks; the nearest ones
    // decide what to offer (a method that leaves two more to go is not offered when
    // another leaves none).
    let lacking: Vec<BTreeSet<RecoveryMethod>> = combinations
        .iter()
        .filter(|combination| combination.is_subset(available))
        .map(|combination| {
            combination
                .union(&mandatory)
                .filter(|method| !proven.contains(method))
                .copied()
                .collect()
        })
        .collect();
    let nearest = lacking.iter().map(BTreeSet::len).min().unwrap_or(0);
    let missing: BTreeSet<RecoveryMethod> = lacking
        .into_iter()
        .filter(|methods| methods.len() == nearest)
        .flatten()
        .collect();
    if missing.is_empty() {
        return Next::Helpdesk;
    }
    let mut offered: Vec<RecoveryMethod> = order
        .iter()
        .copied()
        .filter(|method| missing.contains(method))
        .collect();
    // Methods the rule needs but the first page does not list still come last.
    offered.extend(missing.iter().filter(|m| !order.contains(m)));
    Next::Prove(offered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecoveryMethod::*;

    fn set(methods: &[RecoveryMethod]) -> BTreeSet<RecoveryMethod> {
        methods.iter().copied().collect()
    }

    const ORDER: [RecoveryMethod; 5] =
        [Questions, EmailCode, Authenticator, EmployeePin, Attributes];

    #[test]
    fn each_category_finds_its_rule_or_the_default() {
        let config = RecoveryConfig::default();
        let retiree = rule_for(&config, "retiree").map(|r| r.categories.clone());
        assert_eq!(retiree, Some(vec!["retiree".to_owned()]));
        let staff = rule_for(&config, "permanent-staff").map(|r| r.categories.clone());
        assert_eq!(staff, Some(vec!["*".to_owned()]));
        let none = RecoveryConfig {
            rules: Vec::new(),
            ..RecoveryConfig::default()
        };
        assert_eq!(rule_for(&none, "retiree"), None);
        assert_eq!(
            next(None, &set(&[EmailCode]), &set(&[EmailCode]), &ORDER),
            Next::Helpdesk
        );
    }

    #[test]
    fn a_retiree_with_no_email_resets_with_the_pin_alone() {
        let config = RecoveryConfig::default();
        let rule = rule_for(&config, "retiree");
        let available = set(&[EmployeePin, Attributes]);
        assert_eq!(
            next(rule, &available, &set(&[EmployeePin]), &ORDER),
            Next::NewPassword
        );
        assert_eq!(
            next(rule, &available, &set(&[Attributes]), &ORDER),
            Next::NewPassword
        );
    }

    #[test]
    fn staff_need_the_email_code_or_the_app_and_their_questions() {
        let config = RecoveryConfig::default();
        let rule = rule_for(&config, "permanent-staff");
        // No questions set up: the email code is enough.
        assert_eq!(
            next(rule, &set(&[EmailCode]), &set(&[EmailCode]), &ORDER),
            Next::NewPassword
        );
        // Questions set up: they are asked too, whichever came first.
        let enrolled = set(&[EmailCode, Questions, Authenticator]);
        assert_eq!(
            next(rule, &enrolled, &set(&[EmailCode]), &ORDER),
            Next::Prove(vec![Questions])
        );
        assert_eq!(
            next(rule, &enrolled, &set(&[Questions]), &ORDER),
            Next::Prove(vec![EmailCode, Authenticator])
        );
        assert_eq!(
            next(rule, &enrolled, &set(&[Questions, Authenticator]), &ORDER),
            Next::NewPassword
        );
        // A PIN proves nothing the rule asks for: the code is still needed.
        assert_eq!(
            next(
                rule,
                &set(&[EmailCode, EmployeePin]),
                &set(&[EmployeePin]),
                &ORDER
            ),
            Next::Prove(vec![EmailCode])
        );
    }

    #[test]
    fn nothing_usable_leads_to_the_helpdesk() {
        let config = RecoveryConfig::default();
        let rule = rule_for(&config, "student");
        // Proved the PIN, but has neither an address nor the app.
        assert_eq!(
            next(rule, &set(&[EmployeePin]), &set(&[EmployeePin]), &ORDER),
            Next::Helpdesk
        );
    }
}
