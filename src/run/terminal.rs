//! The controlling terminal, when hb runs in its foreground: the job's process group
//! becomes the foreground group, so interactive jobs, Ctrl-C and Ctrl-Z behave as
//! without hb; hb takes the terminal back when the job ends or stops.

const STDIN: libc::c_int = 0;

pub(super) struct Terminal {
    own_group: libc::pid_t,
}

impl Terminal {
    /// `Some` when stdin is a terminal whose foreground group is hb's.
    pub(super) fn foreground() -> Option<Self> {
        // SAFETY: plain queries on fd 0.
        unsafe {
            if libc::isatty(STDIN) != 1 {
                return None;
            }
            let own_group = libc::getpgrp();
            (libc::tcgetpgrp(STDIN) == own_group).then_some(Terminal { own_group })
        }
    }

    pub(super) fn give_to(&self, group: libc::pid_t) {
        set_foreground(group);
    }

    pub(super) fn take_back(&self) {
        set_foreground(self.own_group);
    }

    /// In the child between fork and exec: become the foreground group at once, so
    /// a job reading the terminal first thing is not stopped by SIGTTIN.
    /// Only async-signal-safe calls.
    pub(super) fn take_in_child() {
        // SAFETY: setpgid/getpid/tcsetpgrp/sigaction are async-signal-safe.
        unsafe {
            libc::setpgid(0, 0);
            set_foreground(libc::getpid());
        }
    }

    /// The job stopped (Ctrl-Z): take the terminal back and stop hb too, so the
    /// shell sees a stopped job; on `fg`, hand the terminal over and continue the job.
    pub(super) fn suspend_with(&self, group: libc::pid_t) {
        self.take_back();
        // SAFETY: stopping ourselves; execution continues here on SIGCONT.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
        self.give_to(group);
        super::signals::send_to_group(group, libc::SIGCONT);
    }
}

/// tcsetpgrp from a background group raises SIGTTOU: ignore it meanwhile.
fn set_foreground(group: libc::pid_t) {
    // SAFETY: sigaction with valid structs; tcsetpgrp on fd 0.
    unsafe {
        let mut ignore: libc::sigaction = std::mem::zeroed();
        ignore.sa_sigaction = libc::SIG_IGN;
        let mut previous: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGTTOU, &ignore, &mut previous);
        libc::tcsetpgrp(STDIN, group);
        libc::sigaction(libc::SIGTTOU, &previous, std::ptr::null_mut());
    }
}
