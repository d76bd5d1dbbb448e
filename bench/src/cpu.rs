//! CPU time of the stack's processes, from /proc, so a figure can say where the time went.

/// Pid of a process the stack started, by its name in `$RUN/pids` (scripts/lib.sh `start`).
pub fn stack_pid(name: &str) -> Option<u32> {
    let run = std::env::var("RUN").ok()?;
    let pids = std::fs::read_to_string(format!("{run}/pids")).ok()?;
    pids.lines().find_map(|line| {
        let (pid, n) = line.split_once(' ')?;
        (n == name).then(|| pid.parse().ok()).flatten()
    })
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
