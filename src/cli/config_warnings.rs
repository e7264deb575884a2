//! What `config check` warns about without failing: things that look wrong
//! from the checking shell but may be fine for the service (a token
//! variable systemd sets), and things that parse but will not work when
//! the `User=masterkassa` service starts (a token file everyone can read, a
//! port that does not exist or that the service user may not open).
//!
//! The checks are pure over [`FileFacts`] and [`ServiceUser`]; [`host`]
//! reads them from this machine.

use std::path::Path;

/// Owner and mode of a file (stat, following symlinks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The service's identity: user `masterkassa`, its groups, and the
/// unit's `Group=masterkassa` / `SupplementaryGroups=dialout`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUser {
    /// None when the user does not exist on this machine (yet).
    pub uid: Option<u32>,
    pub gids: Vec<u32>,
}

/// Name of the service user and the groups its unit runs with.
pub const SERVICE_USER: &str = "masterkassa";
const SERVICE_GROUPS: [&str; 2] = ["masterkassa", "dialout"];

/// A token file others may read.
pub fn token_file(path: &Path, facts: FileFacts) -> Option<String> {
    (facts.mode & 0o004 != 0).then(|| {
        format!(
            "файл токена {} читают все пользователи (права {:04o}): \
             chmod 0640 {0}; chown root:{SERVICE_USER} {0}",
            path.display(),
            facts.mode & 0o7777
        )
    })
}

/// A port that is missing, or that the service user may not open.
/// `present` lists the serial ports that do exist, for the hint.
pub fn port(
    path: &Path,
    facts: Option<FileFacts>,
    service: &ServiceUser,
    present: &[String],
) -> Option<String> {
    let Some(facts) = facts else {
        let seen = if present.is_empty() {
            "сейчас нет ни одного".to_string()
        } else {
            format!("сейчас есть: {}", present.join(", "))
        };
        return Some(format!(
            "порт {} не существует ({seen}; проверьте: ls /dev/ttyUSB* /dev/ttyACM*, \
             подключена ли ККТ и включена ли)",
            path.display()
        ));
    };
    let rw = |shift: u32| (facts.mode >> shift) & 0o6 == 0o6;
    let allowed = rw(0)
        || (service.uid == Some(facts.uid) && rw(6))
        || (service.gids.contains(&facts.gid) && rw(3));
    (!allowed).then(|| {
        format!(
            "порт {} недоступен службе (пользователь {SERVICE_USER}, группы {}): \
             владелец uid {} gid {}, права {:04o}. Дайте группе dialout чтение и запись \
             (правило udev из systemd/99-masterkassa.rules) или добавьте пользователя в группу \
             порта: sudo usermod -aG <группа> {SERVICE_USER}",
            path.display(),
            SERVICE_GROUPS.join(", "),
            facts.uid,
            facts.gid,
            facts.mode & 0o7777
        )
    })
}

/// Facts read from this machine.
pub mod host {
    use super::{FileFacts, SERVICE_GROUPS, SERVICE_USER, ServiceUser};
    use std::path::Path;

    pub fn facts(path: &Path) -> Option<FileFacts> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileFacts {
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
        })
    }

    /// The service user from /etc/passwd and /etc/group.
    pub fn service_user() -> ServiceUser {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
        let mut user = ServiceUser::default();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 3 && f[0] == SERVICE_USER {
                user.uid = f[2].parse().ok();
                if let Ok(gid) = f[3].parse() {
                    user.gids.push(gid);
                }
            }
        }
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 4 {
                continue;
            }
            let member = f[3].split(',').any(|m| m.trim() == SERVICE_USER);
            if (SERVICE_GROUPS.contains(&f[0]) || member)
                && let Ok(gid) = f[2].parse()
            {
                user.gids.push(gid);
            }
        }
        user
    }

    /// /dev/ttyUSB* and /dev/ttyACM* that exist now.
    pub fn serial_ports() -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir("/dev")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("ttyUSB") || n.starts_with("ttyACM"))
            .map(|n| format!("/dev/{n}"))
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> ServiceUser {
        ServiceUser {
            uid: Some(990),
            gids: vec![990, 20],
        }
    }

    #[test]
    fn a_world_readable_token_file_is_warned_about() {
        let f = |mode: u32| FileFacts {
            mode: 0o100000 | mode,
            uid: 0,
            gid: 990,
        };
        let w = token_file(Path::new("/etc/masterkassa/t"), f(0o644)).unwrap();
        assert!(w.contains("читают все пользователи (права 0644)"), "{w}");
        assert!(w.contains("chmod 0640 /etc/masterkassa/t"), "{w}");
        assert_eq!(token_file(Path::new("/t"), f(0o640)), None);
        assert_eq!(token_file(Path::new("/t"), f(0o600)), None);
    }

    #[test]
    fn ports_missing_or_closed_to_the_service_are_warned_about() {
        let w = port(
            Path::new("/dev/ttyACM3"),
            None,
            &service(),
            &["/dev/ttyACM0".into()],
        )
        .unwrap();
        assert!(w.contains("порт /dev/ttyACM3 не существует"), "{w}");
        assert!(w.contains("сейчас есть: /dev/ttyACM0"), "{w}");
        assert!(w.contains("ls /dev/ttyUSB* /dev/ttyACM*"), "{w}");
        let dev = |mode: u32, gid: u32| FileFacts {
            mode: 0o20000 | mode,
            uid: 0,
            gid,
        };
        // dialout (20), 0660: fine.
        assert_eq!(
            port(
                Path::new("/dev/kkt0"),
                Some(dev(0o660, 20)),
                &service(),
                &[]
            ),
            None
        );
        // root:root 0660: the service cannot open it.
        let w = port(Path::new("/dev/kkt0"), Some(dev(0o660, 0)), &service(), &[]).unwrap();
        assert!(w.contains("недоступен службе"), "{w}");
        assert!(w.contains("права 0660"), "{w}");
        // Group may only read.
        assert!(
            port(
                Path::new("/dev/kkt0"),
                Some(dev(0o640, 20)),
                &service(),
                &[]
            )
            .is_some()
        );
        // Everyone may write.
        assert_eq!(
            port(Path::new("/dev/kkt0"), Some(dev(0o666, 0)), &service(), &[]),
            None
        );
    }
}
