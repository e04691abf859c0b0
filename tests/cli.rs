//! The `tessera` command line, run as a separate process against the same database
//! a server would use.

mod common;

use common::{Backend, TestEnv};

on_both_backends!(
    app_create_prints_an_id_that_clients_and_users_accept,
    user_create_reads_the_password_from_stdin_only,
    keys_generate_and_list_show_the_same_key,
    bad_input_is_a_clear_error_and_a_failing_exit,
);

async fn app_create_prints_an_id_that_clients_and_users_accept(backend: Backend) {
    let Some(env) = TestEnv::new(backend).await else { return };
    let app = env.cli_json(&["app", "create", "--name", "shop", "--json"]);
    let id = app["id"].as_str().unwrap();
    assert_eq!(app["name"], "shop");
    // The master token is printed here, once.
    assert!(app["master_token"].as_str().unwrap().starts_with("tsm_"));
    let list = env.cli_json(&["app", "list", "--json"]);
    assert!(!list.to_string().contains("tsm_"), "a list never shows a secret");
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["default", id]);

    let client = env.cli_json(&[
        "client",
        "create",
        "--name",
        "app",
        "--type",
        "mobile",
        "--redirect-uri",
        "http://127.0.0.1:7777/cb",
        "--scope",
        "mobile",
        "--app",
        id,
        "--json",
    ]);
    assert_eq!(client["app"], id);
    assert_eq!(client["type"], "mobile");
    assert!(client.get("client_secret").is_none(), "a mobile client has no secret: {client}");
    assert_eq!(client["grants"], serde_json::json!(["authorization_code", "refresh_token"]));
    env.finish().await;
}

async fn user_create_reads_the_password_from_stdin_only(backend: Backend) {
    let Some(env) = TestEnv::new(backend).await else { return };
    let args = [
        "user",
        "create",
        "--username",
        "ada",
        "--email",
        "ada@example.com",
        "--department",
        "north",
        "--user-type",
        "operator",
        "--admin",
        "--password-stdin",
        "--json",
    ];
    let out = env.cli(&args, Some("correct horse battery\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["username"], "ada");
    assert_eq!(user["department"], "north");
    assert_eq!(user["user_type"], "operator");
    assert_eq!(user["admin"], true);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("correct horse") && !printed.contains("argon2"), "{printed}");

    // The same username again is a conflict, not a second user.
    let again = env.cli(&args, Some("another password\n"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Without a password on stdin, nothing is created.
    let empty = env.cli(&["user", "create", "--username", "bob", "--password-stdin"], Some(""));
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no password"));
    let short = env.cli(&["user", "create", "--username", "bob", "--password-stdin"], Some("short\n"));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    env.finish().await;
}

async fn keys_generate_and_list_show_the_same_key(backend: Backend) {
    let Some(env) = TestEnv::new(backend).await else { return };
    let first = env.cli_json(&["keys", "generate", "--json"]);
    let second = env.cli_json(&["keys", "generate", "--json"]);
    let list = env.cli_json(&["keys", "list", "--json"]);
    let keys = list.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&first["kid"].as_str().unwrap()));
    let active: Vec<&serde_json::Value> = keys.iter().filter(|k| k["active"] == true).collect();
    assert_eq!(active.len(), 1);
    assert!(keys.iter().all(|k| k["origin"] == "cli" && k["alg"] == "ES256"));
    let _ = second;

    // The key file holds the private key and is readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = first["path"].as_str().unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let migrate = env.cli(&["migrate"], None);
    assert!(migrate.status.success());
    env.finish().await;
}

async fn bad_input_is_a_clear_error_and_a_failing_exit(backend: Backend) {
    let Some(env) = TestEnv::new(backend).await else { return };
    let cases: &[(&[&str], &str)] = &[
        (&["client", "create", "--name", "x", "--type", "robot", "--scope", "mobile"], "unknown client type"),
        (
            &[
                "client",
                "create",
                "--name",
                "x",
                "--type",
                "confidential",
                "--grant",
                "password",
                "--scope",
                "mobile",
            ],
            "unknown grant type",
        ),
        (
            &["client", "create", "--name", "x", "--type", "confidential", "--scope", "cars:read"],
            "unknown scope",
        ),
        (&["client", "create", "--name", "x", "--type", "confidential"], "at least one --scope"),
        (&["client", "create", "--name", "x", "--type", "public", "--scope", "mobile"], "redirect-uri"),
        (
            &[
                "client",
                "create",
                "--name",
                "x",
                "--type",
                "public",
                "--redirect-uri",
                "http://example.com/cb",
                "--scope",
                "mobile",
            ],
            "https",
        ),
        (
            &[
                "client",
                "create",
                "--name",
                "x",
                "--type",
                "confidential",
                "--scope",
                "mobile",
                "--app",
                "nope",
            ],
            "application `nope` not found",
        ),
    ];
    for (args, message) in cases {
        let out = env.cli(args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(message), "{args:?}: expected `{message}` in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("migrate")
        .env("TESSERA_ENV", "moon")
        .env("TESSERA_CONFIG_DIR", TestEnv::config_dir())
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown environment `moon`"));
    env.finish().await;
}
