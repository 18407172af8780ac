//! The load side of auto-provisioned identities: an index, written once per refresh, from which
//! one identity is found without reading the others.
//!
//! An organisation of 500 accounts × 20 permission sets gives 10,000 identities; building all of
//! them on every `credential-process` call made the cached path grow with the organisation. The
//! index is one private file per provider (0600, written atomically, in the realm's
//! `provisioned` cache directory, named after the provider's session so another endpoint's
//! list is never read): a header, an `fst` map from each identity name folded to ASCII lower
//! case to the offset of its record, then the records, one JSON line each, in the order the
//! portal listed them. Resolving one name reads the file and looks up one key; `list` and the
//! other commands that show every identity read every record.
//!
//! The rules are those of the whole list, decided when the index is written where they
//! concern the list alone: names made safe and unique (`provision::usable`), assignments whose
//! account id is not one skipped, and of names differing only in case the first kept, the
//! others remembered (`also`) so a written identity clashing with any of them is still an error.
//! Rules involving the profile are applied at load, the same way for one name as for all: a
//! written identity wins over provisioned ones of its name; one differing from a provisioned
//! name only in case is an error; between providers, the first provider (by name) keeps a name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;

use serde::{Deserialize, Serialize};

use super::provision::{self, Assignment, usable};
use crate::config::{
    AccountId, AccountRef, Config, ConfigError, Diagnostic, Identity, IdentityCenter, IdentityKind,
    Provider, ProviderKind, name_problem,
};
use crate::fs::{DirFile, PRIVATE_FILE_MODE};
use crate::paths;
use crate::provider::{ProviderError, sso};
use crate::secret::Secret;

/// The first bytes of an index file; a file that does not start with them is not read.
const MAGIC: &[u8] = b"atmos-auth provisioned identities 1\n";

/// One provisioned identity as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    name: String,
    account_id: String,
    permission_set: String,
    /// Other provisioned names equal to `name` ignoring case (later in the list, so unused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    also: Vec<String>,
}

/// Which provisioned identities a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted<'a> {
    /// Every one (`list`, `exec`'s generated AWS config, tags).
    All,
    /// Only the one this name or alias would select, if any (the cached path).
    Named(&'a str),
    /// None beyond the checks against the profile's identities (the default identity is
    /// always a written one).
    Nothing,
}

/// Fetch every assignment through the portal (`provision::fetch`) and cache it as the
/// provider's index; the number of assignments listed.
pub async fn refresh(
    provider: &IdentityCenter,
    portal: &sso::Portal,
    token: &Secret<String>,
) -> Result<usize, ProviderError> {
    let assignments = provision::fetch(portal, token).await?;
    save(provider, &assignments).map_err(ProviderError::CacheDir)?;
    Ok(assignments.len())
}

/// The cache file of a provider's index, bound like its session to the endpoints that listed
/// the assignments.
fn index_file(provider: &IdentityCenter) -> io::Result<DirFile> {
    let dir = paths::cache_subdir("provisioned")?;
    let session = sso::session_id(provider, &sso::endpoints_of(provider));
    Ok(dir.file(format!("{}.index", paths::file_name_for(&session))))
}

/// The JSON list earlier versions kept instead of the index, read while no index exists.
fn legacy_file(provider: &IdentityCenter) -> io::Result<DirFile> {
    let dir = paths::cache_subdir("provisioned")?;
    let session = sso::session_id(provider, &sso::endpoints_of(provider));
    Ok(dir.file(format!("{}.json", paths::file_name_for(&session))))
}

/// Write the index of `assignments` for `provider`, replacing the previous one.
pub fn save(provider: &IdentityCenter, assignments: &[Assignment]) -> io::Result<()> {
    index_file(provider)?.write_atomic(&build(assignments), PRIVATE_FILE_MODE)?;
    legacy_file(provider)?.remove()
}

/// The index file's bytes for `assignments`.
fn build(assignments: &[Assignment]) -> Vec<u8> {
    let mut records: Vec<Record> = Vec::new();
    let mut by_folded: HashMap<String, usize> = HashMap::new();
    for (name, assignment) in usable(assignments) {
        if assignment.account_id.parse::<AccountId>().is_err() {
            continue;
        }
        let folded = name.to_ascii_lowercase();
        match by_folded.get(&folded) {
            Some(&index) => {
                let record = &mut records[index];
                if record.name != name && !record.also.contains(&name) {
                    record.also.push(name);
                }
            }
            None => {
                by_folded.insert(folded, records.len());
                records.push(Record {
                    name,
                    account_id: assignment.account_id.clone(),
                    permission_set: assignment.permission_set.clone(),
                    also: Vec::new(),
                });
            }
        }
    }
    let mut lines = Vec::new();
    let mut keys: Vec<(String, u64)> = Vec::with_capacity(records.len());
    for record in &records {
        let offset = lines.len() as u64;
        serde_json::to_writer(&mut lines, record).expect("records serialize");
        let length = lines.len() as u64 - offset;
        lines.push(b'\n');
        // A record too long to address (16 MiB) is left out of the map: found by no name.
        if length < 1 << LENGTH_BITS {
            keys.push((
                record.name.to_ascii_lowercase(),
                offset << LENGTH_BITS | length,
            ));
        }
    }
    keys.sort();
    let map = fst::Map::from_iter(keys).expect("keys are sorted and unique");
    let map = map.into_fst().into_inner();
    let mut bytes = Vec::with_capacity(HEADER + map.len() + lines.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(map.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&map);
    bytes.extend_from_slice(&lines);
    bytes
}

/// The header: `MAGIC`, then the length of the map in 8 bytes, little-endian.
const HEADER: usize = MAGIC.len() + 8;

/// A map value is a record's offset from the first record, shifted left by this many bits,
/// joined with its length in bytes (without the newline).
const LENGTH_BITS: u32 = 24;

/// One provider's index, read.
struct Index {
    map: fst::Map<Vec<u8>>,
    records: Records,
}

/// Where an index's records are read from.
enum Records {
    /// All of them in memory, from the first record on.
    Memory(Vec<u8>),
    /// The open file, records starting at `start`: one identity reads one record.
    File { file: std::fs::File, start: u64 },
}

impl Index {
    /// Reads the whole index from `bytes`; `None` when they are not one.
    fn parse(mut bytes: Vec<u8>) -> Option<Self> {
        let map_length = map_length(bytes.get(..HEADER)?)?;
        let end = HEADER
            .checked_add(map_length)
            .filter(|end| *end <= bytes.len())?;
        let map = Self::map(bytes[HEADER..end].to_vec())?;
        let records = Records::Memory(bytes.split_off(end));
        Some(Self { map, records })
    }

    /// Reads the header and the map from `file`, leaving the records in it.
    fn read_map(mut file: std::fs::File) -> Option<Self> {
        use std::io::Read as _;

        let mut header = [0; HEADER];
        file.read_exact(&mut header).ok()?;
        let map_length = map_length(&header)?;
        let size = file.metadata().ok()?.len();
        if (HEADER as u64).checked_add(map_length as u64)? > size {
            return None;
        }
        let mut map = vec![0; map_length];
        file.read_exact(&mut map).ok()?;
        let map = Self::map(map)?;
        let start = (HEADER + map_length) as u64;
        Some(Self {
            map,
            records: Records::File { file, start },
        })
    }

    fn map(bytes: Vec<u8>) -> Option<fst::Map<Vec<u8>>> {
        let map = fst::Map::new(bytes).ok()?;
        // A damaged map could make a lookup panic; its checksum is cheap next to a process start.
        map.as_fst().verify().ok()?;
        Some(map)
    }

    /// The provider's index: from its file (only the map and what is looked up, unless `whole`),
    /// else from the list an earlier version kept, else none (no list yet, or one unreadable,
    /// which `list --refresh` or `login` replaces).
    fn load(provider: &IdentityCenter, whole: bool) -> Option<Self> {
        let file = index_file(provider).ok()?;
        let opened = if whole {
            file.read().map(Self::parse)
        } else {
            file.open_read().map(Self::read_map)
        };
        match opened {
            Ok(index) => index,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let bytes = legacy_file(provider).ok()?.read().ok()?;
                let assignments: Vec<Assignment> = serde_json::from_slice(&bytes).ok()?;
                Self::parse(build(&assignments))
            }
            Err(error) => {
                tracing::debug!(%error, "provisioned identities unreadable");
                None
            }
        }
    }

    /// The record whose name equals `name` ignoring ASCII case.
    fn get(&self, name: &str) -> Option<Record> {
        let value = self.map.get(name.to_ascii_lowercase())?;
        let offset = value >> LENGTH_BITS;
        let length = usize::try_from(value & ((1 << LENGTH_BITS) - 1)).ok()?;
        let line = match &self.records {
            Records::Memory(lines) => {
                let offset = usize::try_from(offset).ok()?;
                lines.get(offset..offset.checked_add(length)?)?.to_vec()
            }
            Records::File { file, start } => {
                use std::io::{Read as _, Seek as _, SeekFrom};

                let mut file = file;
                file.seek(SeekFrom::Start(start.checked_add(offset)?))
                    .ok()?;
                let mut line = vec![0; length];
                file.read_exact(&mut line).ok()?;
                line
            }
        };
        serde_json::from_slice(&line).ok()
    }

    /// Every record, in the order the portal listed them (none when only the map was read).
    fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let lines = match &self.records {
            Records::Memory(lines) => lines.as_slice(),
            Records::File { .. } => &[],
        };
        lines
            .split(|&byte| byte == b'\n')
            .filter_map(|line| serde_json::from_slice(line).ok())
    }
}

/// The length of the map from an index's header; `None` when `header` is not one.
fn map_length(header: &[u8]) -> Option<usize> {
    let length: [u8; 8] = header.strip_prefix(MAGIC)?.try_into().ok()?;
    usize::try_from(u64::from_le_bytes(length)).ok()
}

/// The index of every auto-provisioning provider, in provider order: whole, or only the maps.
fn indexes(config: &Config, whole: bool) -> Vec<(&Provider, Index)> {
    config
        .auth
        .providers
        .values()
        .filter_map(|provider| match &provider.kind {
            ProviderKind::IdentityCenter(sso) if sso.auto_provision_identities => {
                Some((provider, Index::load(sso, whole)?))
            }
            _ => None,
        })
        .collect()
}

/// Add the provisioned identities `wanted` names to `config`, and return the names added.
/// A written identity of the same name wins; one whose name differs from a provisioned one only
/// in case is an error at the written name, as two written names differing only in case are
/// (lookup ignores case). That check covers every written identity, whatever is wanted.
pub fn extend(config: &mut Config, wanted: Wanted<'_>) -> Result<Vec<String>, ConfigError> {
    let indexes = indexes(config, wanted == Wanted::All);
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let mut clashes = Vec::new();
    for written in config.auth.identities.values() {
        for (_, index) in &indexes {
            let Some(record) = index.get(&written.name) else {
                continue;
            };
            for name in std::iter::once(&record.name).chain(&record.also) {
                if *name != written.name {
                    clashes.push(Diagnostic::new(
                        written.location.clone(),
                        format!(
                            "identity `{}` differs from the provisioned identity `{name}` only in case",
                            written.name
                        ),
                        Some(format!(
                            "rename it, or name it `{name}` to replace the provisioned one"
                        )),
                    ));
                }
            }
        }
    }
    if !clashes.is_empty() {
        return Err(ConfigError::Invalid {
            diagnostics: clashes,
        });
    }
    let written: HashSet<String> = config
        .auth
        .identities
        .keys()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    let mut taken = HashSet::new();
    let mut new: BTreeMap<String, Identity> = BTreeMap::new();
    let mut added = Vec::new();
    let mut add = |provider: &Provider, record: Record| {
        let folded = record.name.to_ascii_lowercase();
        if written.contains(&folded) || name_problem(&record.name).is_some() {
            return;
        }
        // Two providers listing names that differ only in case: the first keeps the name.
        if let Some(identity) = identity(provider, record)
            && taken.insert(folded)
        {
            added.push(identity.name.clone());
            new.insert(identity.name.clone(), identity);
        }
    };
    match wanted {
        Wanted::All => {
            for (provider, index) in &indexes {
                for record in index.records() {
                    add(provider, record);
                }
            }
        }
        Wanted::Named(name) => {
            if let Some((provider, record)) = indexes
                .iter()
                .find_map(|(provider, index)| Some((*provider, index.get(name)?)))
            {
                add(provider, record);
            }
        }
        Wanted::Nothing => {}
    }
    config.auth.identities.extend(new);
    Ok(added)
}

/// The identity a record stands for, through `provider`; `None` when the record is not valid.
fn identity(provider: &Provider, record: Record) -> Option<Identity> {
    let account_id: AccountId = record.account_id.parse().ok()?;
    Some(Identity {
        kind: IdentityKind::PermissionSet {
            provider: provider.name.clone(),
            account: AccountRef::Id(account_id),
            permission_set: record.permission_set.clone(),
        },
        default: false,
        alias: None,
        env: BTreeMap::new(),
        region: None,
        // The permission set's name may hold a comma, which no tag can.
        tags: ["provisioned", record.permission_set.as_str()]
            .into_iter()
            .filter(|tag| crate::config::is_tag(tag))
            .map(str::to_owned)
            .collect(),
        location: provider.location.clone(),
        name: record.name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        Index::parse(build(&[
            Assignment::new("111111111111", "plat-dev", "Admin"),
            // Permission sets of one account whose names differ only in case. (Accounts whose
            // names do are told apart by their ids: `provision::usable`.)
            Assignment::new("222222222222", "plat-dev2", "Read"),
            Assignment::new("222222222222", "plat-dev2", "read"),
            Assignment::new("not-an-id", "broken", "Admin"),
        ]))
        .expect("an index")
    }

    #[test]
    fn one_name_is_found_in_any_case_with_the_names_it_hides() {
        let index = index();
        let record = index.get("PLAT-DEV2/READ").expect("found");
        assert_eq!(
            record,
            Record {
                name: "plat-dev2/Read".into(),
                account_id: "222222222222".into(),
                permission_set: "Read".into(),
                also: vec!["plat-dev2/read".into()],
            }
        );
        assert_eq!(
            index.get("plat-dev/Admin").unwrap().account_id,
            "111111111111"
        );
        assert_eq!(index.get("broken/Admin"), None, "not an account id");
        assert_eq!(index.get("plat-dev"), None, "no prefix matches");
    }

    #[test]
    fn from_a_file_only_the_map_and_the_record_asked_for_are_read() {
        use std::io::{Seek as _, Write as _};

        let mut file = tempfile::tempfile().unwrap();
        let mut bytes = build(&[
            Assignment::new("111111111111", "plat-dev", "Admin"),
            Assignment::new("222222222222", "plat-prod", "Read"),
        ]);
        // A record the lookup does not need is not read: damaging it changes nothing else.
        let first = bytes
            .windows(8)
            .position(|window| window == br#"{"name":"#)
            .unwrap();
        bytes[first..first + 8].copy_from_slice(b"XXXXXXXX");
        file.write_all(&bytes).unwrap();
        file.rewind().unwrap();
        let index = Index::read_map(file).expect("an index");
        assert_eq!(
            index.get("PLAT-PROD/read").unwrap().account_id,
            "222222222222"
        );
        assert_eq!(index.get("plat-dev/Admin"), None, "the damaged one");
        assert_eq!(index.records().count(), 0, "records are not read");
    }

    #[test]
    fn every_record_is_read_in_the_order_listed() {
        let names: Vec<String> = index().records().map(|record| record.name).collect();
        assert_eq!(names, ["plat-dev/Admin", "plat-dev2/Read"]);
    }

    #[test]
    fn bytes_that_are_not_an_index_are_not_read() {
        let good = build(&[Assignment::new("111111111111", "plat-dev", "Admin")]);
        assert!(Index::parse(b"[]".to_vec()).is_none());
        assert!(Index::parse(good[..MAGIC.len() + 4].to_vec()).is_none());
        let mut long = good.clone();
        long[MAGIC.len()..MAGIC.len() + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Index::parse(long).is_none(), "a length past the end");
        let mut bad_map = good;
        bad_map[MAGIC.len() + 8..MAGIC.len() + 12].fill(0xff);
        assert!(Index::parse(bad_map).is_none(), "a damaged map");
    }
}
