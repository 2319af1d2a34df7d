//! The body of each forgot-password step: its explanation and its form.

use leptos::prelude::*;

use super::StepAction;
use crate::{
    api::{
        password::{PasswordRecoveryView, RecoveryMethod, RecoveryStep},
        portal::PortalContext,
    },
    components::{
        client::LoadClient,
        form::{Choice, StepFormBody, TextField},
        identity_fields::{EmployeePinFields, IdentityFields},
        password_checklist::NewPasswordFields,
        push_reports::PushReports,
    },
    i18n::Msg,
    t, use_locale,
};

/// The field's error text when the step's refusal concerns it.
fn field_error(state: &PasswordRecoveryView, field: &str) -> Option<String> {
    let locale = use_locale();
    state
        .error
        .as_ref()
        .filter(|e| e.field.as_deref() == Some(field))
        .map(|e| e.text(locale))
}

/// The ids of the answers to security questions (at most five are set up).
const ANSWER_IDS: [&str; 5] = ["answer_0", "answer_1", "answer_2", "answer_3", "answer_4"];

/// The radio button's id: the first one is `method`, where the error summary points.
fn method_field_id(index: usize, method: RecoveryMethod) -> &'static str {
    if index == 0 {
        return "method";
    }
    match method {
        RecoveryMethod::Questions => "method-questions",
        RecoveryMethod::EmailCode => "method-email_code",
        RecoveryMethod::Authenticator => "method-totp",
        RecoveryMethod::EmployeePin => "method-pin",
        RecoveryMethod::Attributes => "method-identity",
    }
}

#[component]
pub fn StepBody(
    state: PasswordRecoveryView,
    flow_id: String,
    action: StepAction,
    portal: PortalContext,
) -> impl IntoView {
    let locale = use_locale();
    let step = state.step;
    match step {
        RecoveryStep::Identify => view! {
            <p>{t(Msg::RecoveryIdentifyIntro)}</p>
            <StepForm action flow_id=String::new() step submit=Msg::RecoveryContinue>
                <TextField
                    id="identifier"
                    name="form[identifier]"
                    label=Msg::RecoveryIdentifierLabel
                    hint=Msg::RecoveryIdentifierHint
                    autocomplete="username"
                    autocapitalize_off=true
                    error=field_error(&state, "identifier")
                    value=state.identifier.clone()
                />
            </StepForm>
            <p><a href="/forgot-username">{t(Msg::SigninForgotUsername)}</a></p>
        }
        .into_any(),
        RecoveryStep::Choose => {
            let error = field_error(&state, "method");
            let described_by = error.is_some().then_some("method-error");
            let intro = if state.another_proof {
                Msg::RecoveryChooseMoreIntro
            } else {
                Msg::RecoveryChooseIntro
            };
            let only_one = state.methods.len() == 1;
            view! {
                <p>{t(intro)}</p>
                <StepForm action flow_id step submit=Msg::RecoveryContinue>
                    <fieldset class="field choices" aria-describedby=described_by>
                        <legend class="field__label">{t(Msg::RecoveryChooseLegend)}</legend>
                        {error.map(|e| view! { <p class="field__error" id="method-error">{e}</p> })}
                        {state
                            .methods
                            .iter()
                            .enumerate()
                            .map(|(index, method)| view! {
                                <Choice
                                    id=method_field_id(index, *method)
                                    name="form[method]"
                                    value=method.code()
                                    kind="radio"
                                    label=method.label()
                                    checked=only_one
                                />
                            })
                            .collect_view()}
                    </fieldset>
                </StepForm>
            }
            .into_any()
        }
        RecoveryStep::Prove(RecoveryMethod::EmployeePin) => view! {
            <p>{t(Msg::RecoveryPinIntro)}</p>
            <StepForm action flow_id=flow_id.clone() step submit=Msg::RecoveryContinue>
                <EmployeePinFields employee_number=state.employee_number.clone() error=state.error.clone()/>
            </StepForm>
            <OtherMethod action flow_id step/>
        }
        .into_any(),
        RecoveryStep::Prove(RecoveryMethod::Attributes) => view! {
            <p>{t(Msg::RecoveryIdentityIntro)}</p>
            <StepForm action flow_id=flow_id.clone() step submit=Msg::RecoveryContinue>
                <IdentityFields
                    first_name=state.first_name.clone()
                    last_name=state.last_name.clone()
                    date_of_birth=state.date_of_birth.clone()
                    error=state.error.clone()
                />
            </StepForm>
            <OtherMethod action flow_id step/>
        }
        .into_any(),
        RecoveryStep::Prove(RecoveryMethod::EmailCode) => {
            let sends_left = state.sends_left;
            view! {
                <p>{locale.format(Msg::RecoveryEmailCodeIntro, &[("minutes", &state.code_minutes.to_string())])}</p>
                <p class="field__hint">{t(Msg::RecoveryEmailCodeLate)}</p>
                <StepForm action flow_id=flow_id.clone() step submit=Msg::RecoveryContinue>
                    <TextField
                        id="code"
                        name="form[code]"
                        label=Msg::RecoveryCodeLabel
                        hint=Msg::RecoveryCodeHint
                        autocomplete="one-time-code"
                        inputmode="numeric"
                        autocapitalize_off=true
                        error=field_error(&state, "code")
                    />
                </StepForm>
                {(sends_left > 0).then(|| view! {
                    <StepForm action flow_id=flow_id.clone() step intent="resend" submit=Msg::RecoveryResend secondary=true>
                        <p class="field__hint" id="resend">
                            {locale.format(Msg::RecoverySendsLeft, &[("count", &sends_left.to_string())])}
                        </p>
                    </StepForm>
                })}
                <OtherMethod action flow_id step/>
            }
            .into_any()
        }
        RecoveryStep::Prove(RecoveryMethod::Questions) => {
            let fields = state
                .questions
                .iter()
                .enumerate()
                .take(ANSWER_IDS.len())
                .map(|(i, question)| {
                    let id = ANSWER_IDS[i];
                    let error = field_error(&state, id);
                    let error_id = format!("{id}-error");
                    view! {
                        <div class=if error.is_some() { "field field--error" } else { "field" }>
                            <label class="field__label" for=id>{question.clone()}</label>
                            {error.clone().map(|e| view! { <p class="field__error" id=error_id.clone()>{e}</p> })}
                            <input
                                class="field__input"
                                id=id
                                name=format!("form[answers][{i}]")
                                type="text"
                                autocomplete="off"
                                spellcheck="false"
                                required=true
                                aria-invalid=error.is_some().then_some("true")
                                aria-describedby=error.is_some().then_some(error_id)
                            />
                        </div>
                    }
                })
                .collect_view();
            view! {
                <p>{t(Msg::RecoveryQuestionsIntro)}</p>
                <StepForm action flow_id=flow_id.clone() step submit=Msg::RecoveryContinue>
                    {fields}
                </StepForm>
                <OtherMethod action flow_id step/>
            }
            .into_any()
        }
        RecoveryStep::Prove(RecoveryMethod::Authenticator) => view! {
            <p>{t(Msg::RecoveryAuthenticatorIntro)}</p>
            <StepForm action flow_id=flow_id.clone() step submit=Msg::RecoveryContinue>
                <TextField
                    id="code"
                    name="form[code]"
                    label=Msg::RecoveryAuthenticatorLabel
                    hint=Msg::RecoveryAuthenticatorHint
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    autocapitalize_off=true
                    error=field_error(&state, "code")
                />
            </StepForm>
            <OtherMethod action flow_id step/>
        }
        .into_any(),
        RecoveryStep::NewPassword => view! {
            <LoadClient/>
            <p>{t(Msg::RecoveryNewPasswordIntro)}</p>
            <StepForm action flow_id step submit=Msg::RecoverySavePassword>
                <input type="hidden" name="form[identifier]" autocomplete="username" value=state.identifier.clone()/>
                <NewPasswordFields
                    policy=portal.password_policy
                    error=field_error(&state, "new_password")
                    confirm_error=field_error(&state, "new_password_confirmation")
                />
            </StepForm>
        }
        .into_any(),
        RecoveryStep::Done => view! {
            <p class="lead">{t(Msg::RecoveryDoneIntro)}</p>
            <PushReports reports=state.pushes.clone()/>
            <p><a class="button" href="/signin">{t(Msg::RecoverySignIn)}</a></p>
        }
        .into_any(),
        RecoveryStep::Helpdesk => {
            let institution = portal.institution;
            view! {
                <p>{t(Msg::RecoveryHelpdeskIntro)}</p>
                <p class="lead">
                    {locale.format(
                        Msg::RecoveryHelpdeskContact,
                        &[("phone", &institution.helpdesk_phone), ("hours", institution.helpdesk_hours.get(locale))],
                    )}
                </p>
            }
            .into_any()
        }
        RecoveryStep::Expired => view! {
            <p>{t(Msg::RecoveryExpiredText)}</p>
            <p><a class="button" href="/forgot-password">{t(Msg::RecoveryStartAgain)}</a></p>
        }
        .into_any(),
    }
}

/// "Use another way": back to the choice page.
#[component]
fn OtherMethod(action: StepAction, flow_id: String, step: RecoveryStep) -> impl IntoView {
    view! {
        <StepForm action flow_id step intent="other_method" submit=Msg::RecoveryOtherMethod secondary=true/>
    }
}

/// A step's form: its fields inside the flow's hidden fields and its button.
#[component]
fn StepForm(
    action: StepAction,
    flow_id: String,
    step: RecoveryStep,
    submit: Msg,
    #[prop(optional)] children: Option<Children>,
    #[prop(optional)] intent: Option<&'static str>,
    #[prop(optional)] secondary: bool,
) -> impl IntoView {
    view! {
        <ActionForm action attr:class="form" attr:novalidate="">
            <StepFormBody flow_id step=step.code() submit intent secondary>
                {children.map(|children| children())}
            </StepFormBody>
        </ActionForm>
    }
}
