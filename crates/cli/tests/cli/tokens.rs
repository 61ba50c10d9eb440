//! `hearth token show | rotate` and `hearth secret set | delete`.

use expect_test::expect;

use crate::support::{Hearth, check};

/// A Hearth token: `hth_` and 64 lowercase hex digits, alone on stdout.
#[track_caller]
fn token(output: &crate::support::Output) -> String {
    output.assert_code(0);
    let token = output.raw_stdout.strip_suffix('\n').unwrap_or_default();
    let hex = token.strip_prefix("hth_").unwrap_or_default();
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "not a token:\n{output}"
    );
    token.to_owned()
}

#[test]
fn token_show_creates_once_and_rotate_replaces() {
    let hearth = Hearth::new("token");
    hearth.run(&["config", "init"]).assert_code(0);
    let first = hearth.run(&["token", "show"]);
    let admin = token(&first);
    assert_eq!(first.stderr, "", "init created it already");
    assert_eq!(
        hearth.secret("hearth.admin").as_deref(),
        Some(admin.as_str())
    );
    assert_eq!(token(&hearth.run(&["token", "show"])), admin);

    let rotate = hearth.run(&["token", "rotate"]);
    let rotated = token(&rotate);
    assert_ne!(rotated, admin);
    check(
        &hearth.run(&["token", "rotate"]),
        expect![[r#"
        $ hearth token rotate
        $TOKEN
        [stderr]
        rotated the admin token (`keychain:hearth.admin`); the old one no longer works
        [exit 0]
    "#]],
    );
    let current = token(&hearth.run(&["token", "show"]));
    assert_ne!(current, admin);
    assert_eq!(
        hearth.secret("hearth.admin").as_deref(),
        Some(current.as_str())
    );

    let client = token(&hearth.run(&["token", "show", "--client", "default"]));
    assert_ne!(client, current);
    assert_eq!(
        hearth.secret("hearth.client.default").as_deref(),
        Some(client.as_str())
    );
    // No token is ever written into the file.
    for value in [&admin, &rotated, &current, &client] {
        assert!(!hearth.config_text().contains(value.as_str()));
    }
}

#[test]
fn token_show_creates_the_token_on_first_use() {
    let hearth = Hearth::new("token-first-use");
    let output = hearth.run(&["token", "show", "--client", "default"]);
    let created = token(&output);
    check(
        &output,
        expect![[r#"
        $ hearth token show --client default
        $TOKEN
        [stderr]
        created the client `default` token as `keychain:hearth.client.default`
        [exit 0]
    "#]],
    );
    assert_eq!(
        output.noted_volatile_store,
        crate::support::volatile_store_note().is_some()
    );
    assert_eq!(
        token(&hearth.run(&["token", "show", "--client", "default"])),
        created
    );
    assert!(
        !hearth.config_file().exists(),
        "showing a token writes no file"
    );
}

#[test]
fn token_of_an_unknown_client_is_an_error() {
    let hearth = Hearth::new("token-unknown");
    hearth.run(&["config", "init"]).assert_code(0);
    check(
        &hearth.run(&["token", "show", "--client", "nobody"]),
        expect![[r#"
            $ hearth token show --client nobody
            [stderr]
            hearth: there is no client `nobody`; clients: default
            [exit 1]
        "#]],
    );
    check(
        &hearth.run(&["token", "rotate", "--client", "defualt"]),
        expect![[r#"
            $ hearth token rotate --client defualt
            [stderr]
            hearth: there is no client `defualt`; did you mean `default`?
            [exit 1]
        "#]],
    );
}

#[test]
fn secret_set_reads_standard_input() {
    let hearth = Hearth::new("secret");
    hearth.forget_on_drop("anthropic");
    check(
        &hearth.run_with_stdin(&["secret", "set", "anthropic"], "sk-ant-test-value"),
        expect![[r#"
            $ hearth secret set anthropic
            [stderr]
            stored; refer to it as `keychain:anthropic`
            [exit 0]
        "#]],
    );
    assert_eq!(
        hearth.secret("anthropic").as_deref(),
        Some("sk-ant-test-value")
    );
    // `echo value | hearth secret set` sends a newline, which is not part of the secret.
    hearth
        .run_with_stdin(&["secret", "set", "anthropic"], "sk-ant-second\n")
        .assert_code(0);
    assert_eq!(hearth.secret("anthropic").as_deref(), Some("sk-ant-second"));

    check(
        &hearth.run_with_stdin(&["secret", "set", "anthropic"], ""),
        expect![[r#"
            $ hearth secret set anthropic
            [stderr]
            hearth: standard input was empty; pipe the secret in, e.g. `printf %s "$API_KEY" | hearth secret set NAME`
            [exit 1]
        "#]],
    );
    assert_eq!(
        hearth.secret("anthropic").as_deref(),
        Some("sk-ant-second"),
        "an empty stdin leaves the secret alone"
    );

    check(
        &hearth.run(&["secret", "delete", "anthropic"]),
        expect![[r#"
            $ hearth secret delete anthropic
            [stderr]
            deleted `keychain:anthropic`
            [exit 0]
        "#]],
    );
    assert_eq!(hearth.secret("anthropic"), None);
    hearth
        .run(&["secret", "delete", "anthropic"])
        .assert_code(0);
}

/// A name a `keychain:` reference cannot spell is the user's mistake (exit 1, as README's
/// "invalid input"), not a failure of the environment (exit 3).
#[test]
fn secret_set_with_a_bad_name_is_invalid_input() {
    let hearth = Hearth::new("secret-bad-name");
    check(
        &hearth.run_with_stdin(&["secret", "set", "bad name"], "value"),
        expect![[r#"
            $ hearth secret set bad name
            [stderr]
            hearth: `bad name` is not a valid secret name (letters, digits, `.`, `_`, `-`; at most 128)
            [exit 1]
        "#]],
    );
}
