//! The bot check inside a form: the server's challenge and, once the browser has solved it
//! (in the background, a few milliseconds of work at a time), the solution. No puzzle and
//! nothing to do (WCAG 2.2 3.3.8): the person never sees or hears it. Without JavaScript
//! the solution stays empty and the server applies stricter limits instead.

use leptos::prelude::*;

/// Hidden fields `form[bot_challenge]` and `form[bot_solution]`, to put inside the
/// caller's `<form>`. The wrapper's `data-bot-check` says `pending` or `solved`, and
/// `data-solve-ms` the search's duration once solved (end-to-end tests wait for and
/// print them; the wrapper is `hidden`, so wait for it attached, not visible). An island:
/// the page step that renders it renders `LoadClient` too.
#[island]
pub fn BotCheck(challenge: String) -> impl IntoView {
    let solution = RwSignal::new(String::new());
    let solve_ms = RwSignal::new(None::<u64>);
    {
        let challenge = challenge.clone();
        // Effects run only in the browser, once the island is hydrated; this one tracks
        // nothing, so it runs once.
        Effect::new(move |_| start_solving(challenge.clone(), solution, solve_ms));
    }
    view! {
        <div
            class="bot-check"
            hidden
            data-bot-check=move || if solve_ms.get().is_some() { "solved" } else { "pending" }
            data-solve-ms=move || solve_ms.get().map(|ms| ms.to_string())
        >
            <input type="hidden" name="form[bot_challenge]" value=challenge/>
            <input type="hidden" name="form[bot_solution]" value=move || solution.get()/>
        </div>
    }
}

#[cfg(not(feature = "hydrate"))]
fn start_solving(
    _challenge: String,
    _solution: RwSignal<String>,
    _solve_ms: RwSignal<Option<u64>>,
) {
}

/// Searches in chunks of about [`solver::CHUNK_MS`], yielding to the event loop between
/// them so the page stays responsive, then fills in the solution.
#[cfg(feature = "hydrate")]
fn start_solving(challenge: String, solution: RwSignal<String>, solve_ms: RwSignal<Option<u64>>) {
    // A malformed challenge (none issued): nothing to solve, the server will say so.
    let Some(difficulty) = crate::pow::difficulty(&challenge) else {
        return;
    };
    let search = solver::Search {
        challenge,
        difficulty,
        next: 0,
        budget: solver::FIRST_BUDGET,
        started_ms: solver::now_ms(),
        solution,
        solve_ms,
    };
    search.step_later();
}

#[cfg(feature = "hydrate")]
mod solver {
    use std::time::Duration;

    use leptos::prelude::*;

    use crate::pow;

    /// Work per chunk: short enough that typing and scrolling stay smooth (a "long task"
    /// is 50 ms), long enough that the pauses between chunks cost little.
    pub const CHUNK_MS: f64 = 30.0;
    /// Candidates in the first chunk; later chunks are sized from the measured speed.
    pub const FIRST_BUDGET: u64 = 5_000;
    const MIN_BUDGET: f64 = 1_000.0;
    const MAX_BUDGET: f64 = 4_000_000.0;

    pub struct Search {
        pub challenge: String,
        pub difficulty: u32,
        pub next: u64,
        pub budget: u64,
        pub started_ms: f64,
        pub solution: RwSignal<String>,
        pub solve_ms: RwSignal<Option<u64>>,
    }

    pub fn now_ms() -> f64 {
        web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.now())
            .unwrap_or(0.0)
    }

    impl Search {
        pub fn step_later(self) {
            set_timeout(move || self.step(), Duration::ZERO);
        }

        fn step(mut self) {
            // The form is gone (the person moved on): stop searching.
            if self.solution.is_disposed() {
                return;
            }
            let chunk_started = now_ms();
            match pow::solve(&self.challenge, self.difficulty, self.next, self.budget) {
                Some(found) => {
                    let elapsed = (now_ms() - self.started_ms).max(0.0).round() as u64;
                    self.solution.try_set(found.to_string());
                    self.solve_ms.try_set(Some(elapsed));
                }
                None => {
                    self.next = self.next.saturating_add(self.budget);
                    let took = (now_ms() - chunk_started).max(1.0);
                    self.budget =
                        (self.budget as f64 * CHUNK_MS / took).clamp(MIN_BUDGET, MAX_BUDGET) as u64;
                    self.step_later();
                }
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_server_renders_the_challenge_hidden_and_pending() {
        let owner = Owner::new();
        let html = owner.with(|| {
            view! { <form><BotCheck challenge="v1.18.1795000000.abc.def".to_owned()/></form> }
                .to_html()
        });
        assert!(html.contains("data-bot-check=\"pending\""), "{html}");
        assert!(!html.contains("data-solve-ms"), "{html}");
        assert!(html.contains(" hidden"), "{html}");
        assert!(
            html.contains("name=\"form[bot_challenge]\" value=\"v1.18.1795000000.abc.def\""),
            "{html}"
        );
        assert!(
            html.contains("name=\"form[bot_solution]\" value=\"\""),
            "{html}"
        );
    }
}
