//! The pages as lazily loaded routes: built with `cargo leptos build --split`, each area's
//! code (sign-in, account, helpdesk, recovery, activation, sign-up) is a WASM chunk of its
//! own, fetched when one of its pages is first shown, so the first page of a visit does not
//! pay for every flow. Without `--split` (tests, `cargo check`) they are ordinary routes.
//!
//! One split point per area, not per page: wasm-split puts the code that several split
//! points share into chunks of its own, one per set of sharers. With a split point per page
//! that was 153 chunks for the forgot-password page, each a `<link rel=preload>` in the
//! served page and a fetch in the browser. Pages of one area share most of their code: an
//! area now loads as its module and 22 to 28 shared chunks.
//!
//! The home page is not here: signing out lands on it while the page being left learns
//! that nobody is signed in any more. Were home a chunk still loading, the account page
//! would send the person to the sign-in page first.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::pages;

/// Declares one area: an enum naming its pages, the lazily loaded function that renders
/// one of them (`$area`, whose loader wasm-split names `$preload`), and a route type per
/// page that renders it through that function.
macro_rules! lazy_area {
    ($area:ident, $preload:ident, $pages:ident { $($route:ident => $page:path,)* }) => {
        // Variants are named after the route types, which carry their area's name.
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum $pages {
            $($route,)*
        }

        #[leptos::lazy]
        fn $area(page: $pages) -> AnyView {
            match page {
                $($pages::$route => $page().into_any(),)*
            }
        }

        $(
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $area($pages::$route).await
                }

                // Starts fetching the area's chunk while the router matches, as
                // `#[lazy_route]` does.
                async fn preload() {
                    #[cfg(feature = "hydrate")]
                    $preload().await;
                }
            }
        )*
    };
}

lazy_area!(signin_area, __preload_signin_area, SignInPages {
    SignIn => pages::signin::SignInPage,
    SignInTerms => pages::signin_terms::SignInTermsPage,
});

lazy_area!(account_area, __preload_account_area, AccountPages {
    Account => pages::account::AccountPage,
    AccountQuestions => pages::account_questions::AccountQuestionsPage,
    AccountAuthenticator => pages::account_authenticator::AccountAuthenticatorPage,
    AccountEmail => pages::account_email::AccountEmailPage,
    AccountPassword => pages::account_password::AccountPasswordPage,
    AccountSessions => pages::account_sessions::AccountSessionsPage,
    AccountLinked => pages::account_linked::AccountLinkedPage,
});

lazy_area!(helpdesk_area, __preload_helpdesk_area, HelpdeskPages {
    HelpdeskSearch => pages::helpdesk::HelpdeskSearchPage,
    HelpdeskPerson => pages::helpdesk::HelpdeskPersonPage,
    HelpdeskLetter => pages::helpdesk::HelpdeskLetterPage,
    HelpdeskInvitation => pages::helpdesk::HelpdeskInvitationPage,
});

lazy_area!(recovery_area, __preload_recovery_area, RecoveryPages {
    ForgotUsername => pages::forgot_username::ForgotUsernamePage,
    ForgotPassword => pages::forgot_password::ForgotPasswordPage,
    RecoveryLink => pages::forgot_password::RecoveryLinkPage,
});

lazy_area!(activation_area, __preload_activation_area, ActivationPages {
    Activate => pages::activate::ActivatePage,
    ActivationLink => pages::activate::ActivationLinkPage,
});

lazy_area!(signup_area, __preload_signup_area, SignUpPages {
    SignUp => pages::signup::SignUpPage,
    SignUpLink => pages::signup::SignUpLinkPage,
    CantSignIn => pages::signup::CantSignInPage,
    Terms => pages::signup::TermsPage,
    Privacy => pages::signup::PrivacyPage,
});
