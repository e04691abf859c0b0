//! The store conformance suite: the same expectations of `Store` on SQLite and on
//! Postgres, through the public domain functions.

mod common;

use common::{Backend, TestEnv};
use tessera::domain::client_cache::ClientCache;
use tessera::domain::clients::{self, ClientType, GrantType, NewClient};
use tessera::domain::scope::ScopeModel;
use tessera::domain::users::{self, NewUser};
use tessera::domain::{apps, DomainError};
use tessera::store::{ChangeCounter, Store, StoreError};
use tessera::tokens::secret::{self, Secret};

on_both_backends!(
    migrations_seed_the_default_application_and_are_idempotent,
    clients_round_trip_with_only_a_hash_of_the_secret,
    client_changes_bump_the_counter_and_clear_caches,
    usernames_are_unique_per_application,
    signing_keys_are_sealed_and_one_is_active,
    clients_of_an_unknown_application_are_refused,
);

async fn open(backend: Backend) -> Option<(TestEnv, Store, ScopeModel, tessera::config::Config)> {
    let env = TestEnv::new(backend).await?;
    let config = env.config(0).unwrap();
    let store = Store::connect(&config.database).await.unwrap();
    store.migrate().await.unwrap();
    let scopes = ScopeModel::new(&config.scopes).unwrap();
    Some((env, store, scopes, config))
}

async fn close(env: TestEnv, store: Store) {
    store.close().await;
    env.finish().await;
}

fn new_client(app: &str, kind: ClientType) -> NewClient {
    NewClient {
        app_id: app.into(),
        name: "robot".into(),
        client_type: kind,
        redirect_uris: vec!["https://app.example.com/cb".into()],
        post_logout_redirect_uris: vec![],
        grants: vec![],
        scopes: vec!["mobile".into(), "places:create".into()],
    }
}

async fn migrations_seed_the_default_application_and_are_idempotent(backend: Backend) {
    let Some((env, store, _, _)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let default = store.get_app("default").await.unwrap().unwrap();
    assert_eq!(default.name, "default");
    let created = apps::create(&store, "shop", 100).await.unwrap();
    let app = &created.app;
    // Its master token is stored as a hash only, and found by it.
    let master = created.master_token.expose();
    assert!(master.starts_with("tsm_") && master.len() == 53, "{master}");
    let found =
        store.find_platform_token(&tessera::tokens::secret::hash(master.as_bytes())).await.unwrap().unwrap();
    assert_eq!((found.kind.name(), found.app_id.as_str()), ("master", app.id.as_str()));
    assert!(store.find_platform_token(master.as_bytes()).await.unwrap().is_none());
    let list = store.list_apps().await.unwrap();
    assert_eq!(list.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), vec!["default", app.id.as_str()]);
    assert!(matches!(apps::create(&store, "  ", 1).await, Err(DomainError::Invalid(_))));
    close(env, store).await;
}

async fn clients_round_trip_with_only_a_hash_of_the_secret(backend: Backend) {
    let Some((env, store, scopes, _)) = open(backend).await else { return };
    let created =
        clients::create(&store, &scopes, new_client("default", ClientType::Confidential), 7).await.unwrap();
    let secret = created.secret.unwrap();
    let stored = store.find_client(&created.client.id).await.unwrap().unwrap();
    assert_eq!(stored, created.client);
    assert_eq!(stored.grants, vec![GrantType::ClientCredentials]);
    assert_eq!(stored.scope, "mobile places:create");
    let hash = stored.secret_hash.clone().unwrap();
    assert_eq!(hash.len(), 32);
    assert_ne!(hash, secret.expose().as_bytes());
    assert!(secret::verify(secret.expose().as_bytes(), &hash));
    assert!(!format!("{stored:?}").contains(secret.expose()));

    let public =
        clients::create(&store, &scopes, new_client("default", ClientType::Mobile), 8).await.unwrap();
    assert!(public.secret.is_none());
    let stored = store.find_client(&public.client.id).await.unwrap().unwrap();
    assert_eq!(stored.secret_hash, None);
    assert_eq!(stored.grants, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    assert_eq!(store.list_clients("default").await.unwrap().len(), 2);
    assert!(store.find_client("missing").await.unwrap().is_none());
    close(env, store).await;
}

async fn client_changes_bump_the_counter_and_clear_caches(backend: Backend) {
    let Some((env, store, scopes, _)) = open(backend).await else { return };
    let cache = ClientCache::default();
    assert!(cache.refresh(&store).await.unwrap(), "the first refresh takes the version");
    let before = store.change_version(ChangeCounter::Clients).await.unwrap();
    let a =
        clients::create(&store, &scopes, new_client("default", ClientType::Confidential), 1).await.unwrap();
    assert_eq!(store.change_version(ChangeCounter::Clients).await.unwrap(), before + 1);
    assert!(cache.refresh(&store).await.unwrap(), "the change is noticed");
    let cached = cache.get(&store, &scopes, &a.client.id).await.unwrap().unwrap();
    assert_eq!(cached.allowed, scopes.parse("mobile places:create").unwrap());
    assert_eq!(cache.len(), 1);
    assert!(!cache.refresh(&store).await.unwrap());
    assert_eq!(cache.len(), 1);
    clients::create(&store, &scopes, new_client("default", ClientType::Confidential), 2).await.unwrap();
    assert!(cache.refresh(&store).await.unwrap());
    assert!(cache.is_empty());
    assert!(cache.get(&store, &scopes, "missing").await.unwrap().is_none());
    close(env, store).await;
}

async fn usernames_are_unique_per_application(backend: Backend) {
    let Some((env, store, _, config)) = open(backend).await else { return };
    let user = |app: &str| NewUser {
        app_id: app.into(),
        username: "ada".into(),
        email: Some("ada@example.com".into()),
        password: Secret::new("correct horse battery".into()),
        department: Some("north".into()),
        user_type: Some("operator".into()),
        is_admin: false,
    };
    store.insert_department("default", "north", 1).await.unwrap();
    let made = users::create(&store, &config, user("default"), 1).await.unwrap();
    let found = store.find_user("default", "ada").await.unwrap().unwrap();
    assert_eq!(found, made);
    assert!(found.password_hash.starts_with("$argon2id$"));
    assert!(users::verify_password(&found.password_hash, "correct horse battery"));
    match users::create(&store, &config, user("default"), 2).await {
        Err(DomainError::Store(StoreError::Conflict(what))) => assert!(what.contains("ada")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let other = apps::create(&store, "other", 3).await.unwrap();
    store.insert_department(&other.app.id, "north", 3).await.unwrap();
    users::create(&store, &config, user(&other.app.id), 4).await.unwrap();
    close(env, store).await;
}

async fn signing_keys_are_sealed_and_one_is_active(backend: Backend) {
    use tessera::domain::keys::{self as keyring, KeyState};
    use tessera::tokens::keys::{generate_in_memory, KeyOrigin};
    use tessera::tokens::sealed::DataKeys;
    let Some((env, store, _, _)) = open(backend).await else { return };
    let data_keys = DataKeys::new(&[[7u8; 32]]);
    let rng = ring::rand::SystemRandom::new();
    let first = generate_in_memory(KeyOrigin::Cli, 100, &rng).unwrap();
    keyring::store_key(&store, &data_keys, &first, true, 100).await.unwrap();
    let second = keyring::rotate(&store, &data_keys, 200).await.unwrap();
    let rows = store.list_keys().await.unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let sealed = row.private_key.as_deref().unwrap();
        assert!(!sealed.windows(32).any(|w| first.pkcs8().windows(32).any(|p| p == w)), "sealed, not plain");
    }
    // What tokens a key signed live 600 s: a retired key is published that long.
    assert_eq!(rows[0].state(250, 600), KeyState::Retired);
    assert_eq!(rows[1].state(250, 600), KeyState::Active);
    assert_eq!(rows[0].state(801, 600), KeyState::Expired);
    let dir = std::path::Path::new("keys");
    let loaded = keyring::load(&store, &data_keys, 250, 600, dir).await.unwrap().unwrap();
    assert_eq!(loaded.set.active().kid, second.kid);
    assert_eq!(loaded.set.keys().len(), 2);
    assert_eq!(loaded.next_change, Some(800));
    let later = keyring::load(&store, &data_keys, 801, 600, dir).await.unwrap().unwrap();
    assert_eq!(later.set.keys().len(), 1);
    assert_eq!(later.next_change, None);
    // Another data key opens none of them.
    assert!(keyring::load(&store, &DataKeys::new(&[[8u8; 32]]), 250, 600, dir).await.is_err());
    // Importing a known key changes nothing; an older file does not take over.
    assert!(keyring::import(&store, &data_keys, vec![], 300).await.unwrap().is_empty());
    let old_file = generate_in_memory(KeyOrigin::Imported, 50, &rng).unwrap();
    keyring::import(&store, &data_keys, vec![old_file], 300).await.unwrap();
    let now_active = keyring::load(&store, &data_keys, 300, 600, dir).await.unwrap().unwrap();
    assert_eq!(now_active.set.active().kid, second.kid);
    close(env, store).await;
}

async fn clients_of_an_unknown_application_are_refused(backend: Backend) {
    let Some((env, store, scopes, _)) = open(backend).await else { return };
    match clients::create(&store, &scopes, new_client("nope", ClientType::Confidential), 1).await {
        Err(DomainError::NotFound(what)) => assert!(what.contains("nope")),
        other => panic!("expected not found, got {other:?}"),
    }
    let mut bad_scope = new_client("default", ClientType::Confidential);
    bad_scope.scopes = vec!["cars:read".into()];
    assert!(matches!(clients::create(&store, &scopes, bad_scope, 1).await, Err(DomainError::Invalid(_))));
    close(env, store).await;
}
