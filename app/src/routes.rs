//! The pages as lazily loaded routes: built with `cargo leptos build --split`, each page's
//! code is a WASM chunk of its own, fetched when the page is first shown (with the chunks
//! it shares with other pages), so the first page of a visit does not pay for every flow.
//! Without `--split` (tests, `cargo check`) they are ordinary routes.
//!
//! The home page is not here: signing out lands on it while the page being left learns
//! that nobody is signed in any more. Were home a chunk still loading, the account page
//! would send the person to the sign-in page first.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::pages;

/// A route whose whole view (the page component) is loaded lazily; pages load their own
/// data through resources, so the route itself has none.
macro_rules! lazy_page {
    ($($route:ident => $page:path,)*) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_page! {
    SignIn => pages::signin::SignInPage,
    SignInTerms => pages::signin_terms::SignInTermsPage,
    Account => pages::account::AccountPage,
    AccountQuestions => pages::account_questions::AccountQuestionsPage,
    AccountAuthenticator => pages::account_authenticator::AccountAuthenticatorPage,
    AccountEmail => pages::account_email::AccountEmailPage,
    AccountPassword => pages::account_password::AccountPasswordPage,
    AccountSessions => pages::account_sessions::AccountSessionsPage,
    AccountLinked => pages::account_linked::AccountLinkedPage,
    HelpdeskSearch => pages::helpdesk::HelpdeskSearchPage,
    HelpdeskPerson => pages::helpdesk::HelpdeskPersonPage,
    HelpdeskLetter => pages::helpdesk::HelpdeskLetterPage,
    HelpdeskInvitation => pages::helpdesk::HelpdeskInvitationPage,
    ForgotUsername => pages::forgot_username::ForgotUsernamePage,
    ForgotPassword => pages::forgot_password::ForgotPasswordPage,
    RecoveryLink => pages::forgot_password::RecoveryLinkPage,
    Activate => pages::activate::ActivatePage,
    ActivationLink => pages::activate::ActivationLinkPage,
    SignUp => pages::signup::SignUpPage,
    SignUpLink => pages::signup::SignUpLinkPage,
    CantSignIn => pages::signup::CantSignInPage,
    Terms => pages::signup::TermsPage,
    Privacy => pages::signup::PrivacyPage,
}
