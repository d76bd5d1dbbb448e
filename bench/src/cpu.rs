//! CPU time of the stack's processes, from /proc, so a figure can say where the time went.

/// The processes the stack started, as (pid, name) in start order, from `$RUN/pids`
/// (scripts/lib.sh `start`).
fn stack_pids() -> Vec<(u32, String)> {
    let pids = std::env::var("RUN").ok().and_then(|run| std::fs::read_to_string(format!("{run}/pids")).ok());
    pids.unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (pid, name) = line.split_once(' ')?;
            Some((pid.parse().ok()?, name.to_string()))
        })
        .collect()
}

/// Pid of a process the stack started, by its name in `$RUN/pids`.
fn stack_pid(name: &str) -> Option<u32> {
    stack_pids().into_iter().find_map(|(pid, n)| (n == name).then_some(pid))
}

/// User plus system CPU of a process so far, in ms (Linux counts in USER_HZ = 100 ticks a second).
pub fn cpu_ms(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

/// CPU of the emulators, read before and after a phase.
#[derive(Clone, Copy, Default)]
pub struct Emulators {
    pub dynamodb: f64,
    pub moto: f64,
}

impl Emulators {
    pub fn now() -> Emulators {
        let of = |name| stack_pid(name).map(cpu_ms).unwrap_or(0.0);
        Emulators { dynamodb: of("dynamodb"), moto: of("moto") }
    }

    pub fn since(&self, before: Emulators) -> Emulators {
        Emulators { dynamodb: self.dynamodb - before.dynamodb, moto: self.moto - before.moto }
    }
}

/// CPU so far of every process on the machine but this one, by pid, with its name: the stack's
/// own processes by their names in `$RUN/pids` and their command (`watch (cargo-lambda)`, which
/// tells the DynamoDB proxy from this `bench`), the others by command (a function instance under
/// `cargo lambda watch` is its binary's name), in ms.
pub fn processes() -> std::collections::HashMap<u32, (String, f64)> {
    let own = std::process::id();
    let named: std::collections::HashMap<u32, String> = stack_pids().into_iter().collect();
    let mut out = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid == own {
            continue;
        }
        let comm =
            std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string();
        let name = match named.get(&pid) {
            Some(name) if *name != comm => format!("{name} ({comm})"),
            _ => comm,
        };
        out.insert(pid, (name, cpu_ms(pid)));
    }
    out
}

/// CPU per request by process name between two readings of [`processes`] (a process new since
/// the first counted from zero, one ended meanwhile lost), those of at least 0.05 ms.
pub fn per_request_by_process(
    before: &std::collections::HashMap<u32, (String, f64)>,
    after: &std::collections::HashMap<u32, (String, f64)>,
    requests: f64,
) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for (pid, (name, ms)) in after {
        let was = before.get(pid).map(|(_, ms)| *ms).unwrap_or(0.0);
        *out.entry(name.clone()).or_insert(0.0) += ms - was;
    }
    out.into_iter()
        .map(|(name, ms)| (name, crate::stats::round(ms / requests)))
        .filter(|(_, ms)| *ms >= 0.05)
        .collect()
}
