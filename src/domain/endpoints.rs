//! Integration endpoints secured by tokens (the seed 002). An endpoint has one
//! primary token per method it accepts (POST and GET, and DELETE when it allows
//! deleting); an application's secondary endpoint tokens, one per integrating
//! party, are mapped to some of an endpoint's methods, so that each party's calls
//! can be told apart and one party switched off alone.
//!
//! Invariants: endpoint tokens are kinds of the registry (`TokenKind::
//! EndpointPrimary`, `EndpointSecondary`), made only through it, stored as SHA-256
//! and sealed for reveal; the endpoint check reads only the in-memory
//! `CheckIndex`, swapped whole after every change (the `endpoints` change counter),
//! and writes nothing: calls go to a bounded `CallLog`, identical calls of one
//! second counted together, flushed in batches; its overflow is counted, never
//! waited for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::platform_tokens::{self, NewToken, PlatformToken, Prepared, TokenKind};
use super::DomainError;
use crate::config::Config;
use crate::store::{ChangeCounter, EndpointChanges, Store, StoreError};
use crate::tokens::sealed::DataKeys;
use crate::tokens::secret::{self, Secret};

/// The methods an endpoint protects with tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Post,
    Get,
    Delete,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Post, Method::Get, Method::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Get => "GET",
            Method::Delete => "DELETE",
        }
    }

    /// `POST`, `GET` or `DELETE`, in any case.
    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(text))
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of methods, as a mapping holds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Methods(u8);

impl Methods {
    pub fn of(methods: &[Method]) -> Methods {
        Methods(methods.iter().fold(0, |bits, m| bits | m.bit()))
    }

    pub fn contains(self, method: Method) -> bool {
        self.0 & method.bit() != 0
    }

    pub fn list(self) -> Vec<Method> {
        Method::ALL.into_iter().filter(|m| self.contains(*m)).collect()
    }

    /// `POST,GET`: how the store keeps it.
    pub fn to_text(self) -> String {
        self.list().iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",")
    }

    pub fn from_text(text: &str) -> Option<Methods> {
        let methods: Option<Vec<Method>> =
            text.split(',').filter(|m| !m.is_empty()).map(Method::parse).collect();
        methods.map(|m| Methods::of(&m))
    }
}

/// An endpoint whose authentication is by token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub path: String,
    pub allow_delete: bool,
    pub created_at: i64,
}

impl Endpoint {
    /// The methods it has primary tokens for.
    pub fn methods(&self) -> Vec<Method> {
        methods_for(self.allow_delete)
    }
}

fn methods_for(allow_delete: bool) -> Vec<Method> {
    Method::ALL.into_iter().filter(|m| *m != Method::Delete || allow_delete).collect()
}

/// A secondary token mapped to an endpoint for some methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub app_id: String,
    pub endpoint_id: String,
    pub token_id: String,
    pub methods: Methods,
    pub enabled: bool,
    pub created_at: i64,
}

/// One call the endpoint check answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EndpointCall {
    pub app_id: Arc<str>,
    pub endpoint_id: Arc<str>,
    pub at: i64,
    pub method: Method,
    pub allowed: bool,
    pub reason: Option<Reason>,
    pub token: Option<CallToken>,
}

/// Identical calls in one second, as the store keeps them and the data viewer
/// shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedCalls {
    pub call: EndpointCall,
    pub calls: i64,
}

/// The token a call presented, when it was one of the endpoint's application.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallToken {
    pub id: Arc<str>,
    pub kind: TokenKind,
    pub name: Arc<str>,
}

/// Calls of one token on one day (UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallCount {
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    /// Unix day: seconds / 86,400.
    pub day: i64,
    pub calls: i64,
    pub allowed: i64,
}

/// Why the endpoint check refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    UnknownEndpoint,
    MalformedToken,
    UnknownToken,
    /// A primary token of this endpoint, for another method.
    TokenForAnotherMethod,
    /// The endpoint has no token for this method (DELETE without allow_delete).
    MethodNotAvailable,
    TokenDisabled,
    NotAssigned,
    AssignmentDisabled,
    MethodNotAssigned,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::UnknownEndpoint,
        Reason::MalformedToken,
        Reason::UnknownToken,
        Reason::TokenForAnotherMethod,
        Reason::MethodNotAvailable,
        Reason::TokenDisabled,
        Reason::NotAssigned,
        Reason::AssignmentDisabled,
        Reason::MethodNotAssigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownEndpoint => "unknown_endpoint",
            Reason::MalformedToken => "malformed_token",
            Reason::UnknownToken => "unknown_token",
            Reason::TokenForAnotherMethod => "token_for_another_method",
            Reason::MethodNotAvailable => "method_not_available",
            Reason::TokenDisabled => "token_disabled",
            Reason::NotAssigned => "not_assigned",
            Reason::AssignmentDisabled => "assignment_disabled",
            Reason::MethodNotAssigned => "method_not_assigned",
        }
    }

    pub fn parse(text: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What the endpoint check answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed(CallToken),
    Denied(Reason),
}

/// What a new endpoint is made of.
#[derive(Debug)]
pub struct NewEndpoint<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub allow_delete: bool,
}

/// An endpoint just made or changed, with the primary tokens made for it, shown
/// only now.
#[derive(Debug)]
pub struct EndpointWithTokens {
    pub endpoint: Endpoint,
    pub primaries: Vec<(Method, Secret)>,
}

/// An endpoint path: `/` then up to 2,000 printable characters without spaces.
pub fn valid_path(path: &str) -> Result<String, DomainError> {
    let path = path.trim();
    if !path.starts_with('/') || path.len() > 2000 || !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::Invalid(
            "path must start with / and hold up to 2000 printable characters without spaces".into(),
        ));
    }
    Ok(path.to_owned())
}

async fn prepare_primary(
    store: &Store,
    config: &Config,
    data_keys: &DataKeys,
    endpoint: &Endpoint,
    method: Method,
    now: i64,
) -> Result<Prepared, DomainError> {
    let name = format!("{} {}", method.as_str(), endpoint.name);
    let new = NewToken {
        name: &name,
        endpoint: Some((&endpoint.id, method)),
        description: None,
        ..NewToken::default()
    };
    platform_tokens::prepare(store, config, data_keys, TokenKind::EndpointPrimary, &endpoint.app_id, new, now)
        .await
}

/// Makes an endpoint with its primary tokens, in one transaction.
pub async fn create(
    store: &Store,
    config: &Config,
    data_keys: &DataKeys,
    app_id: &str,
    new: NewEndpoint<'_>,
    now: i64,
) -> Result<EndpointWithTokens, DomainError> {
    let endpoint = Endpoint {
        id: secret::generate_id(&ring::rand::SystemRandom::new())?,
        app_id: app_id.to_owned(),
        name: platform_tokens::valid_name(new.name)?,
        path: valid_path(new.path)?,
        allow_delete: new.allow_delete,
        created_at: now,
    };
    let mut prepared = Vec::new();
    for method in endpoint.methods() {
        prepared.push(prepare_primary(store, config, data_keys, &endpoint, method, now).await?);
    }
    store.insert_endpoint(&endpoint, &prepared).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            DomainError::Conflict(format!("the application has an endpoint at {} already", endpoint.path))
        }
        other => other.into(),
    })?;
    let primaries = prepared.into_iter().filter_map(|p| Some((p.record.method?, p.value.token))).collect();
    Ok(EndpointWithTokens { endpoint, primaries })
}

/// What an endpoint update changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct EndpointUpdate<'a> {
    pub name: Option<&'a str>,
    pub path: Option<&'a str>,
    pub allow_delete: Option<bool>,
}

/// Changes an endpoint. Turning `allow_delete` on makes its DELETE primary (in
/// the answer, once); off removes it. `None` when the application has no such
/// endpoint.
pub async fn update(
    store: &Store,
    config: &Config,
    data_keys: &DataKeys,
    app_id: &str,
    id: &str,
    update: EndpointUpdate<'_>,
    now: i64,
) -> Result<Option<EndpointWithTokens>, DomainError> {
    let Some(current) = store.get_endpoint(app_id, id).await? else {
        return Ok(None);
    };
    let name = update.name.map(platform_tokens::valid_name).transpose()?;
    let path = update.path.map(valid_path).transpose()?;
    let delete_primary = match update.allow_delete {
        Some(true) => Some(prepare_primary(store, config, data_keys, &current, Method::Delete, now).await?),
        _ => None,
    };
    let changes = EndpointChanges {
        name: name.as_deref(),
        path: path.as_deref(),
        allow_delete: update.allow_delete,
        delete_primary: delete_primary.as_ref(),
    };
    let Some((endpoint, made)) = store.update_endpoint(app_id, id, changes).await.map_err(|e| match e {
        StoreError::Conflict(_) => DomainError::Conflict(
            "another endpoint of the application has this path, or the endpoint changed meanwhile".into(),
        ),
        other => other.into(),
    })?
    else {
        return Ok(None);
    };
    let primaries = match (made, delete_primary) {
        (true, Some(p)) => vec![(Method::Delete, p.value.token)],
        _ => Vec::new(),
    };
    Ok(Some(EndpointWithTokens { endpoint, primaries }))
}

/// What to do with a primary token's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimaryValue {
    /// Decrypt the stored value.
    Reveal,
    /// Give it a new value; the old one stops at once.
    Regenerate,
}

/// The value of the endpoint's primary token for `method`, revealed or
/// regenerated; `None` when the endpoint has no token for the method.
pub async fn primary_value(
    store: &Store,
    data_keys: &DataKeys,
    app_id: &str,
    endpoint_id: &str,
    method: Method,
    action: PrimaryValue,
) -> Result<Option<Secret>, DomainError> {
    let Some(primary) = store.primary_token(app_id, endpoint_id, method).await? else {
        return Ok(None);
    };
    let kind = TokenKind::EndpointPrimary;
    match action {
        PrimaryValue::Reveal => platform_tokens::reveal(store, data_keys, kind, app_id, &primary.id).await,
        PrimaryValue::Regenerate => {
            platform_tokens::regenerate(store, data_keys, kind, app_id, &primary.id).await
        }
    }
}

/// Maps the secondary token `token_id` to `methods` of the endpoint (replacing
/// an earlier mapping). Methods the endpoint has no token for are refused.
pub async fn assign(
    store: &Store,
    app_id: &str,
    endpoint_id: &str,
    token_id: &str,
    methods: &[Method],
    enabled: bool,
    now: i64,
) -> Result<Assignment, DomainError> {
    let endpoint = store
        .get_endpoint(app_id, endpoint_id)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("endpoint `{endpoint_id}`")))?;
    store
        .get_platform_token(app_id, TokenKind::EndpointSecondary, token_id)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("endpoint token `{token_id}`")))?;
    if methods.is_empty() {
        return Err(DomainError::Invalid("methods must name at least one of POST, GET, DELETE".into()));
    }
    let available = endpoint.methods();
    if let Some(missing) = methods.iter().find(|m| !available.contains(m)) {
        return Err(DomainError::Unprocessable(format!(
            "the endpoint has no {} token (allow deleting to map DELETE)",
            missing.as_str()
        )));
    }
    let assignment = Assignment {
        app_id: app_id.to_owned(),
        endpoint_id: endpoint.id,
        token_id: token_id.to_owned(),
        methods: Methods::of(methods),
        enabled,
        created_at: now,
    };
    if !store.put_assignment(&assignment).await? {
        // The endpoint or the token went away meanwhile.
        return Err(DomainError::NotFound(format!("endpoint `{endpoint_id}` or token `{token_id}`")));
    }
    Ok(assignment)
}

/// An application's secondary token with its mapping to one endpoint, if any.
#[derive(Clone, Debug)]
pub struct TokenAssignment {
    pub token: PlatformToken,
    pub assignment: Option<Assignment>,
}

/// Everything the endpoint check needs, of every application, as loaded at one
/// version of the `endpoints` counter.
#[derive(Default)]
pub struct CheckIndex {
    endpoints: HashMap<String, IndexedEndpoint>,
    /// Secondary tokens by the SHA-256 of their value.
    secondaries: HashMap<[u8; 32], IndexedToken>,
}

struct IndexedEndpoint {
    app_id: Arc<str>,
    id: Arc<str>,
    primaries: Vec<(Method, [u8; 32], CallToken)>,
    /// Mappings by secondary token id: (methods, enabled).
    assignments: HashMap<Arc<str>, (Methods, bool)>,
}

struct IndexedToken {
    app_id: Arc<str>,
    token: CallToken,
    enabled: bool,
}

/// What `CheckIndex::load` reads: every endpoint, every endpoint token with the
/// hash of its value, every mapping.
pub struct IndexRows {
    pub endpoints: Vec<Endpoint>,
    pub tokens: Vec<(PlatformToken, Vec<u8>)>,
    pub assignments: Vec<Assignment>,
}

impl CheckIndex {
    pub fn build(rows: IndexRows) -> CheckIndex {
        let mut endpoints: HashMap<String, IndexedEndpoint> = rows
            .endpoints
            .into_iter()
            .map(|e| {
                let indexed = IndexedEndpoint {
                    app_id: e.app_id.as_str().into(),
                    id: e.id.as_str().into(),
                    primaries: Vec::new(),
                    assignments: HashMap::new(),
                };
                (e.id, indexed)
            })
            .collect();
        let mut secondaries = HashMap::new();
        for (token, hash) in rows.tokens {
            let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else { continue };
            let call_token = CallToken {
                id: token.id.as_str().into(),
                kind: token.kind,
                name: token.name.as_str().into(),
            };
            match token.kind {
                TokenKind::EndpointPrimary => {
                    let (Some(endpoint_id), Some(method)) = (&token.endpoint_id, token.method) else {
                        continue;
                    };
                    if let Some(endpoint) = endpoints.get_mut(endpoint_id) {
                        if *endpoint.app_id == *token.app_id {
                            endpoint.primaries.push((method, hash, call_token));
                        }
                    }
                }
                TokenKind::EndpointSecondary => {
                    let indexed = IndexedToken {
                        app_id: token.app_id.as_str().into(),
                        token: call_token,
                        enabled: token.enabled,
                    };
                    secondaries.insert(hash, indexed);
                }
                _ => {}
            }
        }
        for a in rows.assignments {
            if let Some(endpoint) = endpoints.get_mut(&a.endpoint_id) {
                if *endpoint.app_id == *a.app_id {
                    endpoint.assignments.insert(a.token_id.as_str().into(), (a.methods, a.enabled));
                }
            }
        }
        CheckIndex { endpoints, secondaries }
    }

    /// Whether `token` may call `method` at `endpoint_id`, and the call to record
    /// (`None` for an unknown endpoint: nothing to record it under). The token is
    /// compared by its SHA-256: in constant time with the endpoint's primaries,
    /// by hash-map lookup for secondaries, so that no answer depends on how much
    /// of a guessed value is right.
    pub fn check(
        &self,
        endpoint_id: &str,
        method: Method,
        token: &str,
        now: i64,
    ) -> (Decision, Option<EndpointCall>) {
        let Some(endpoint) = self.endpoints.get(endpoint_id) else {
            return (Decision::Denied(Reason::UnknownEndpoint), None);
        };
        let (decision, presented) = endpoint.decide(self, method, token);
        let call = EndpointCall {
            app_id: endpoint.app_id.clone(),
            endpoint_id: endpoint.id.clone(),
            at: now,
            method,
            allowed: matches!(decision, Decision::Allowed(_)),
            reason: match decision {
                Decision::Denied(reason) => Some(reason),
                Decision::Allowed(_) => None,
            },
            token: presented,
        };
        (decision, Some(call))
    }

    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }
}

impl IndexedEndpoint {
    fn decide(&self, index: &CheckIndex, method: Method, token: &str) -> (Decision, Option<CallToken>) {
        if !platform_tokens::is_endpoint_token_form(token) {
            return (Decision::Denied(Reason::MalformedToken), None);
        }
        let hash = secret::hash(token.as_bytes());
        let primary = self.primaries.iter().find(|(_, stored, _)| secret::constant_time_eq(&hash, stored));
        if let Some((for_method, _, call_token)) = primary {
            let decision = if *for_method == method {
                Decision::Allowed(call_token.clone())
            } else {
                Decision::Denied(Reason::TokenForAnotherMethod)
            };
            return (decision, Some(call_token.clone()));
        }
        // A token of another application is unknown here, as a made-up one is.
        let Some(secondary) = index.secondaries.get(&hash).filter(|t| t.app_id == self.app_id) else {
            return (Decision::Denied(Reason::UnknownToken), None);
        };
        let presented = Some(secondary.token.clone());
        let reason = if !secondary.enabled {
            Reason::TokenDisabled
        } else if !self.primaries.iter().any(|(m, _, _)| *m == method) {
            Reason::MethodNotAvailable
        } else {
            match self.assignments.get(&secondary.token.id) {
                None => Reason::NotAssigned,
                Some((_, false)) => Reason::AssignmentDisabled,
                Some((methods, true)) if !methods.contains(method) => Reason::MethodNotAssigned,
                Some(_) => return (Decision::Allowed(secondary.token.clone()), presented),
            }
        };
        (Decision::Denied(reason), presented)
    }
}

/// Calls answered but not yet written, identical ones counted together. It
/// holds at most `capacity` distinct entries: a call like one already held only
/// raises its count, and a new kind of call that does not fit is counted as
/// dropped, so that a slow database never holds a request.
pub struct CallLog {
    pending: Mutex<HashMap<EndpointCall, i64>>,
    capacity: usize,
    dropped: AtomicU64,
}

impl CallLog {
    pub fn new(capacity: usize) -> CallLog {
        CallLog { pending: Mutex::new(HashMap::new()), capacity, dropped: AtomicU64::new(0) }
    }

    pub fn record(&self, call: EndpointCall) {
        let kept = match self.pending.lock() {
            Ok(mut pending) => {
                if let Some(calls) = pending.get_mut(&call) {
                    *calls += 1;
                    true
                } else if pending.len() < self.capacity {
                    pending.insert(call, 1);
                    true
                } else {
                    false
                }
            }
            Err(_) => false,
        };
        if !kept {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Everything recorded since the last drain, oldest first.
    pub fn drain(&self) -> Vec<RecordedCalls> {
        let pending = self.pending.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default();
        let mut calls: Vec<RecordedCalls> =
            pending.into_iter().map(|(call, calls)| RecordedCalls { call, calls }).collect();
        calls.sort_by_key(|c| c.call.at);
        calls
    }

    /// Puts back calls a failed write could not store, as far as they fit.
    fn restore(&self, calls: Vec<RecordedCalls>) {
        let mut lost = 0;
        if let Ok(mut pending) = self.pending.lock() {
            for RecordedCalls { call, calls } in calls {
                if let Some(held) = pending.get_mut(&call) {
                    *held += calls;
                } else if pending.len() < self.capacity {
                    pending.insert(call, calls);
                } else {
                    lost += calls as u64;
                }
            }
        }
        self.dropped.fetch_add(lost, Ordering::Relaxed);
    }

    /// Distinct entries waiting to be written.
    pub fn pending(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// How many calls were dropped since the last look.
    pub fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

/// The endpoint check's state: the index (swapped whole, read without a lock),
/// the version it was loaded at, and the calls not yet written.
pub struct EndpointGuard {
    index: ArcSwap<CheckIndex>,
    version: AtomicI64,
    reload: tokio::sync::Mutex<()>,
    /// One flush at a time: a reader that flushes first then sees every call
    /// answered before, in the order answered.
    flushing: tokio::sync::Mutex<()>,
    pub calls: CallLog,
}

impl EndpointGuard {
    pub fn new(call_buffer: usize) -> EndpointGuard {
        EndpointGuard {
            index: ArcSwap::from_pointee(CheckIndex::default()),
            version: AtomicI64::new(i64::MIN),
            reload: tokio::sync::Mutex::new(()),
            flushing: tokio::sync::Mutex::new(()),
            calls: CallLog::new(call_buffer),
        }
    }

    /// Answers a check from memory and records the call.
    pub fn check(&self, endpoint_id: &str, method: Method, token: &str, now: i64) -> Decision {
        let (decision, call) = self.index.load().check(endpoint_id, method, token, now);
        if let Some(call) = call {
            self.calls.record(call);
        }
        decision
    }

    /// Loads the index again, whatever the counter says (after a change made here).
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let _one = self.reload.lock().await;
        // Read the version first: a change after it moves the counter past it,
        // and the next refresh loads again.
        let version = store.change_version(ChangeCounter::Endpoints).await?;
        let index = CheckIndex::build(store.endpoint_index_rows().await?);
        self.index.store(Arc::new(index));
        self.version.store(version, Ordering::Release);
        Ok(())
    }

    /// Loads the index again when the `endpoints` counter moved; answers whether it did.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let version = store.change_version(ChangeCounter::Endpoints).await?;
        if self.version.load(Ordering::Acquire) == version {
            return Ok(false);
        }
        self.reload(store).await?;
        Ok(true)
    }

    /// Writes the recorded calls; answers how many calls they were.
    pub async fn flush(&self, store: &Store) -> Result<usize, StoreError> {
        let _one = self.flushing.lock().await;
        let calls = self.calls.drain();
        if calls.is_empty() {
            return Ok(0);
        }
        let n = calls.iter().map(|c| c.calls as usize).sum();
        if let Err(e) = store.insert_endpoint_calls(&calls, FLUSH_BATCH).await {
            // The transaction stored none of them: they wait for the next try.
            self.calls.restore(calls);
            return Err(e);
        }
        Ok(n)
    }
}

/// Deletes the calls recorded before `before`, in batches so that no lock is
/// held long; answers how many.
pub async fn sweep_calls(store: &Store, before: i64) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for (app_id, endpoint_id) in store.all_endpoint_ids().await? {
        loop {
            let n = store.sweep_endpoint_calls(&app_id, &endpoint_id, before, SWEEP_BATCH).await?;
            deleted += n;
            if n < SWEEP_BATCH as u64 {
                break;
            }
        }
    }
    Ok(deleted)
}

const SWEEP_BATCH: i64 = 1000;

/// Rows written per statement.
const FLUSH_BATCH: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    fn call(at: i64, token: Option<&str>) -> EndpointCall {
        EndpointCall {
            app_id: "a".into(),
            endpoint_id: "e".into(),
            at,
            method: Method::Post,
            allowed: token.is_some(),
            reason: if token.is_some() { None } else { Some(Reason::UnknownToken) },
            token: token.map(|id| CallToken {
                id: id.into(),
                kind: TokenKind::EndpointSecondary,
                name: id.into(),
            }),
        }
    }

    #[test]
    fn identical_calls_are_counted_together_and_overflow_is_counted_not_kept() {
        let log = CallLog::new(2);
        for _ in 0..5 {
            log.record(call(10, Some("erp")));
        }
        log.record(call(9, None));
        // A third kind of call does not fit; more of a held kind still do.
        log.record(call(11, Some("shop")));
        log.record(call(10, Some("erp")));
        let drained = log.drain();
        assert_eq!(
            drained,
            [
                RecordedCalls { call: call(9, None), calls: 1 },
                RecordedCalls { call: call(10, Some("erp")), calls: 6 }
            ]
        );
        assert_eq!(log.take_dropped(), 1);
        assert_eq!(log.take_dropped(), 0);
        assert!(log.drain().is_empty());

        // What a failed write puts back merges with what came meanwhile.
        log.record(call(10, Some("erp")));
        log.restore(drained);
        let again = log.drain();
        assert_eq!(again[1].calls, 7);
        assert_eq!(log.take_dropped(), 0);
    }

    #[test]
    fn methods_round_trip_through_their_text() {
        let methods = Methods::of(&[Method::Get, Method::Delete, Method::Get]);
        assert_eq!(methods.to_text(), "GET,DELETE");
        assert_eq!(Methods::from_text("GET,DELETE"), Some(methods));
        assert_eq!(Methods::from_text("GET,PUT"), None);
        assert_eq!(Method::parse("delete"), Some(Method::Delete));
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
    }
}
