//! The scope algebra: configured objects, `<object>:<action>` scopes, the `master`
//! and `mobile` profiles, the separate `admin` scope and OpenID Connect's
//! identity scopes (`openid`, `email`, `profile`).
//!
//! Invariants: `mobile` never holds create or delete on a core object; no profile
//! holds `admin` or an identity scope; a granted set is always a subset of what
//! was allowed.

use std::fmt;

use crate::config::ScopesConfig;

/// Actions in their canonical order.
pub const ACTIONS: [&str; 4] = ["create", "read", "update", "delete"];

const CREATE: usize = 0;
const READ: usize = 1;
const UPDATE: usize = 2;
const DELETE: usize = 3;

/// Objects fit in the 124 low bits of a `u128` (four actions each); the four high
/// bits are the named scopes below.
const MAX_OBJECTS: usize = 31;
const OPENID_BIT: u128 = 1 << 124;
const EMAIL_BIT: u128 = 1 << 125;
const PROFILE_BIT: u128 = 1 << 126;
const ADMIN_BIT: u128 = 1 << 127;
const OBJECT_BITS: u128 = (1 << 124) - 1;

/// The scopes that name no object, in canonical order: OpenID Connect's identity
/// scopes (Core §5.4), then `admin`.
const NAMED: [(&str, u128); 4] =
    [("openid", OPENID_BIT), ("email", EMAIL_BIT), ("profile", PROFILE_BIT), ("admin", ADMIN_BIT)];

/// A named bundle of single scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Master,
    Mobile,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Master => "master",
            Profile::Mobile => "mobile",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope `{0}`")]
    Unknown(String),
    #[error("scope `{0}` is not allowed for this client")]
    NotAllowed(String),
    #[error("invalid scope configuration: {0}")]
    Config(String),
}

/// A set of scopes as a bit set over the configured objects and actions.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u128);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: ScopeSet) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    pub fn intersection(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    pub fn difference(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & !other.0)
    }

    pub fn has_admin(self) -> bool {
        self.0 & ADMIN_BIT != 0
    }

    /// `openid`: the client signs the person in (OpenID Connect Core §3.1.2.1).
    pub fn has_openid(self) -> bool {
        self.0 & OPENID_BIT != 0
    }

    /// `email`: the ID token and userinfo carry `email` and `email_verified`.
    pub fn has_email(self) -> bool {
        self.0 & EMAIL_BIT != 0
    }

    /// `profile`: the ID token and userinfo carry `preferred_username` and `name`.
    pub fn has_profile(self) -> bool {
        self.0 & PROFILE_BIT != 0
    }

    /// The object scopes alone, without `admin` or the identity scopes.
    pub fn objects(self) -> ScopeSet {
        ScopeSet(self.0 & OBJECT_BITS)
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({:#x})", self.0)
    }
}

/// The configured objects, and the profiles expanded over them.
#[derive(Clone, Debug)]
pub struct ScopeModel {
    /// Core objects first, then streams; an object's index gives its bits.
    objects: Vec<String>,
    core_count: usize,
    master: ScopeSet,
    mobile: ScopeSet,
}

impl ScopeModel {
    pub fn new(config: &ScopesConfig) -> Result<ScopeModel, ScopeError> {
        let objects: Vec<String> = config.core_objects.iter().chain(config.streams.iter()).cloned().collect();
        if objects.is_empty() {
            return Err(ScopeError::Config("no objects are configured".into()));
        }
        if objects.len() > MAX_OBJECTS {
            return Err(ScopeError::Config(format!("at most {MAX_OBJECTS} objects are supported")));
        }
        for (i, name) in objects.iter().enumerate() {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
            if !valid {
                return Err(ScopeError::Config(format!(
                    "object `{name}` must be lowercase letters, digits, `_` or `-`"
                )));
            }
            let reserved =
                matches!(name.as_str(), "master" | "mobile") || NAMED.iter().any(|(n, _)| n == name);
            if reserved || objects[..i].contains(name) {
                return Err(ScopeError::Config(format!("object `{name}` is reserved or repeated")));
            }
        }
        let core_count = config.core_objects.len();
        let mut master = ScopeSet::EMPTY;
        let mut mobile = ScopeSet::EMPTY;
        for object in 0..objects.len() {
            for action in 0..ACTIONS.len() {
                master = master.union(single(object, action));
            }
            // The mobile profile: read on core objects; read, create, update on streams.
            mobile = mobile.union(single(object, READ));
            if object >= core_count {
                mobile = mobile.union(single(object, CREATE)).union(single(object, UPDATE));
            }
        }
        Ok(ScopeModel { objects, core_count, master, mobile })
    }

    pub fn profile(&self, profile: Profile) -> ScopeSet {
        match profile {
            Profile::Master => self.master,
            Profile::Mobile => self.mobile,
        }
    }

    pub fn admin(&self) -> ScopeSet {
        ScopeSet(ADMIN_BIT)
    }

    /// `openid`, `email` and `profile`: what a person shares about themselves.
    /// A user type bounds object scopes, never these; consent governs them.
    pub fn identity(&self) -> ScopeSet {
        ScopeSet(OPENID_BIT | EMAIL_BIT | PROFILE_BIT)
    }

    /// Parses a space-separated scope string (RFC 6749 §3.3), expanding profiles.
    pub fn parse(&self, text: &str) -> Result<ScopeSet, ScopeError> {
        let mut set = ScopeSet::EMPTY;
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            set = set.union(self.parse_token(token)?);
        }
        Ok(set)
    }

    fn parse_token(&self, token: &str) -> Result<ScopeSet, ScopeError> {
        match token {
            "master" => return Ok(self.master),
            "mobile" => return Ok(self.mobile),
            _ => {}
        }
        if let Some((_, bit)) = NAMED.iter().find(|(name, _)| *name == token) {
            return Ok(ScopeSet(*bit));
        }
        let unknown = || ScopeError::Unknown(token.to_owned());
        let (object, action) = token.split_once(':').ok_or_else(unknown)?;
        let object = self.objects.iter().position(|o| o == object).ok_or_else(unknown)?;
        let action = ACTIONS.iter().position(|a| *a == action).ok_or_else(unknown)?;
        Ok(single(object, action))
    }

    /// The scopes granted for `requested` (or all of `allowed` when nothing was
    /// requested, RFC 6749 §3.3), refusing anything outside `allowed`.
    pub fn grant(&self, requested: Option<&str>, allowed: ScopeSet) -> Result<ScopeSet, ScopeError> {
        let Some(requested) = requested else {
            return Ok(allowed);
        };
        let mut set = ScopeSet::EMPTY;
        for token in requested.split(' ').filter(|t| !t.is_empty()) {
            let scopes = self.parse_token(token)?;
            if !allowed.contains(scopes) {
                return Err(ScopeError::NotAllowed(token.to_owned()));
            }
            set = set.union(scopes);
        }
        Ok(set)
    }

    /// The profile whose expansion is exactly `set`'s object scopes, if any.
    pub fn profile_of(&self, set: ScopeSet) -> Option<Profile> {
        let objects = set.objects();
        if objects == self.master {
            Some(Profile::Master)
        } else if objects == self.mobile {
            Some(Profile::Mobile)
        } else {
            None
        }
    }

    /// The single scopes of `set`, space separated in canonical order
    /// (configured object order, then create, read, update, delete; then
    /// `openid`, `email`, `profile` and `admin`).
    pub fn format(&self, set: ScopeSet) -> String {
        let mut out = String::with_capacity(256);
        for (object, name) in self.objects.iter().enumerate() {
            for (action, action_name) in ACTIONS.iter().enumerate() {
                if set.contains(single(object, action)) {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(name);
                    out.push(':');
                    out.push_str(action_name);
                }
            }
        }
        push_named(&mut out, set);
        out
    }

    /// `set` in the fewest tokens: a profile's name where the set's object scopes
    /// are exactly that profile, else its single scopes; then its named scopes.
    /// `parse` reads it back to `set`.
    pub fn format_compact(&self, set: ScopeSet) -> String {
        match self.profile_of(set) {
            Some(profile) => {
                let mut out = profile.name().to_owned();
                push_named(&mut out, set);
                out
            }
            None => self.format(set),
        }
    }

    /// Every scope a client may name: the profiles, the named scopes and every
    /// single scope.
    pub fn supported(&self) -> Vec<String> {
        let mut all = vec!["master".to_owned(), "mobile".to_owned()];
        all.extend(NAMED.iter().map(|(name, _)| (*name).to_owned()));
        all.extend(self.format(self.master).split(' ').map(str::to_owned));
        all
    }

    /// Whether `set` holds create or delete on any core object.
    pub fn writes_core_objects(&self, set: ScopeSet) -> bool {
        (0..self.core_count).any(|o| set.contains(single(o, CREATE)) || set.contains(single(o, DELETE)))
    }
}

/// Appends the named scopes of `set` to `out`, space separated.
fn push_named(out: &mut String, set: ScopeSet) {
    for (name, bit) in NAMED {
        if set.0 & bit != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
        }
    }
}

fn single(object: usize, action: usize) -> ScopeSet {
    ScopeSet(1u128 << (object * ACTIONS.len() + action))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ScopeModel {
        ScopeModel::new(&ScopesConfig {
            core_objects: ["places", "geofences", "floors", "beacons"].map(String::from).to_vec(),
            streams: ["positions", "events"].map(String::from).to_vec(),
        })
        .unwrap()
    }

    #[test]
    fn master_is_every_action_on_every_object() {
        let m = model();
        let master = m.format(m.profile(Profile::Master));
        assert_eq!(master.split(' ').count(), 6 * 4);
        assert!(master.starts_with("places:create places:read places:update places:delete"));
        assert!(!master.contains("admin"));
    }

    #[test]
    fn mobile_reads_core_objects_and_writes_streams_without_delete() {
        let m = model();
        assert_eq!(
            m.format(m.profile(Profile::Mobile)),
            "places:read geofences:read floors:read beacons:read \
             positions:create positions:read positions:update \
             events:create events:read events:update"
        );
        assert!(!m.writes_core_objects(m.profile(Profile::Mobile)));
        assert!(m.writes_core_objects(m.profile(Profile::Master)));
    }

    #[test]
    fn profiles_expand_and_are_recognised_again() {
        let m = model();
        let mobile = m.parse("mobile").unwrap();
        assert_eq!(m.profile_of(mobile), Some(Profile::Mobile));
        let spelled_out = m.parse(&m.format(mobile)).unwrap();
        assert_eq!(spelled_out, mobile);
        assert_eq!(m.profile_of(m.parse("places:read").unwrap()), None);
        assert_eq!(m.profile_of(m.parse("master admin").unwrap()), Some(Profile::Master));
    }

    #[test]
    fn compact_form_parses_back_to_the_same_set() {
        let m = model();
        for text in ["mobile", "master admin", "places:read events:create", "admin", "openid email mobile"] {
            let set = m.parse(text).unwrap();
            assert_eq!(m.parse(&m.format_compact(set)).unwrap(), set, "{text}");
        }
        assert_eq!(m.format_compact(m.parse("mobile").unwrap()), "mobile");
        assert_eq!(m.format_compact(m.parse("places:read").unwrap()), "places:read");
    }

    #[test]
    fn unknown_scopes_are_refused() {
        let m = model();
        assert_eq!(m.parse("places:write"), Err(ScopeError::Unknown("places:write".into())));
        assert_eq!(m.parse("cars:read"), Err(ScopeError::Unknown("cars:read".into())));
        assert_eq!(m.parse("places"), Err(ScopeError::Unknown("places".into())));
    }

    #[test]
    fn grant_defaults_to_the_registration_and_never_exceeds_it() {
        let m = model();
        let allowed = m.parse("mobile").unwrap();
        assert_eq!(m.grant(None, allowed), Ok(allowed));
        assert_eq!(m.grant(Some("places:read"), allowed), Ok(m.parse("places:read").unwrap()));
        assert_eq!(
            m.grant(Some("places:read places:delete"), allowed),
            Err(ScopeError::NotAllowed("places:delete".into()))
        );
        assert_eq!(m.grant(Some("master"), allowed), Err(ScopeError::NotAllowed("master".into())));
        assert_eq!(m.grant(Some("admin"), allowed), Err(ScopeError::NotAllowed("admin".into())));
    }

    #[test]
    fn admin_is_separate_from_profiles() {
        let m = model();
        let set = m.parse("admin").unwrap();
        assert!(set.has_admin());
        assert!(!m.profile(Profile::Master).contains(set));
        assert_eq!(m.format(set), "admin");
    }

    #[test]
    fn identity_scopes_are_named_apart_from_objects_and_profiles() {
        let m = model();
        let set = m.parse("profile openid mobile email").unwrap();
        assert!(set.has_openid() && set.has_email() && set.has_profile() && !set.has_admin());
        assert_eq!(m.profile_of(set), Some(Profile::Mobile));
        assert_eq!(m.format_compact(set), "mobile openid email profile");
        assert!(m.format(set).ends_with("events:update openid email profile"));
        assert_eq!(set.objects(), m.profile(Profile::Mobile));
        assert!(!m.profile(Profile::Master).contains(m.identity()));
        assert_eq!(m.format(m.identity()), "openid email profile");
        assert!(m.supported().iter().any(|s| s == "openid"));
    }

    #[test]
    fn configuration_rejects_reserved_and_repeated_objects() {
        for reserved in ["mobile", "openid", "admin"] {
            let bad = ScopesConfig { core_objects: vec![reserved.into()], streams: vec![] };
            assert!(ScopeModel::new(&bad).is_err(), "{reserved}");
        }
        let repeated = ScopesConfig { core_objects: vec!["a".into()], streams: vec!["a".into()] };
        assert!(ScopeModel::new(&repeated).is_err());
        let upper = ScopesConfig { core_objects: vec!["Places".into()], streams: vec![] };
        assert!(ScopeModel::new(&upper).is_err());
    }

    #[test]
    fn thirty_one_objects_fit_and_thirty_two_do_not() {
        let names = |n: usize| (0..n).map(|i| format!("o{i}")).collect::<Vec<_>>();
        let ok = ScopeModel::new(&ScopesConfig { core_objects: names(31), streams: vec![] }).unwrap();
        assert_eq!(ok.format(ok.profile(Profile::Master)).split(' ').count(), 124);
        assert!(ScopeModel::new(&ScopesConfig { core_objects: names(32), streams: vec![] }).is_err());
    }
}
