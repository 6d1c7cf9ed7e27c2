/*
 * contain_exec.c - running a containment program (see contain_run.h).
 *
 * posix_spawn with an argument vector: no shell ever sees the arguments.
 * The child leads its own process group, so that a timeout reaches what
 * it started too (a script's `sleep`), starts with an empty signal mask
 * and default dispositions (the agent blocks SIGTERM, SIGINT and SIGHUP
 * for its signalfd, and a blocked SIGTERM would outlive exec), and holds
 * no descriptor of the agent's beyond its stdin (/dev/null) and its stdout
 * and stderr (one pipe).
 *
 * The end of the child is seen through a pidfd (pollable, no SIGCHLD
 * handler to share with live.c's signalfd); without one (an old kernel)
 * the run is looked at again every CHECK_US. The pipe is read while the
 * child runs and once more after it is reaped; a grandchild that keeps
 * the pipe open does not hold the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contain_run.h"

#define CHECK_US 20000
/* After SIGKILL, a program that is still not reaped (stuck in the kernel)
 * is looked at this often. */
#define KILL_WAIT_US 1000000

static void drain(struct contain_run *r)
{
	char buf[4096];
	ssize_t n;

	while (r->out_fd >= 0) {
		n = read(r->out_fd, buf, sizeof(buf));
		if (n > 0) {
			contain_run_output(r, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(r->out_fd);
			r->out_fd = -1;
		}
		break;
	}
}

static const char *sig_name(int sig)
{
	const char *s = sigabbrev_np(sig);

	return s != NULL ? s : "?";
}

/* The outcome of a reaped child with wait status ws. */
static void finish(struct contain_run *r, int ws)
{
	double secs = (double)r->timeout_us / 1e6;

	if (r->stage != EXEC_RUNNING) {
		r->status = "timeout";
		if (WIFSIGNALED(ws))
			snprintf(r->detail, sizeof(r->detail),
				 "timeout after %g s: killed by SIG%s%s", secs,
				 sig_name(WTERMSIG(ws)),
				 r->stage == EXEC_KILL_SENT
					 ? " (it outlived SIGTERM)"
					 : "");
		else
			snprintf(r->detail, sizeof(r->detail),
				 "timeout after %g s: exit %d after SIGTERM",
				 secs, WEXITSTATUS(ws));
	} else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		r->status = "ok";
		snprintf(r->detail, sizeof(r->detail), "exit 0");
	} else if (WIFEXITED(ws)) {
		r->status = "failed";
		snprintf(r->detail, sizeof(r->detail), "exit %d",
			 WEXITSTATUS(ws));
	} else {
		r->status = "failed";
		snprintf(r->detail, sizeof(r->detail), "killed by SIG%s",
			 sig_name(WIFSIGNALED(ws) ? WTERMSIG(ws) : 0));
	}
	contain_run_excerpt(r, "output");
	if (r->pidfd >= 0) {
		close(r->pidfd);
		r->pidfd = -1;
	}
	if (r->out_fd >= 0) {
		close(r->out_fd);
		r->out_fd = -1;
	}
	r->pid = 0;
	r->done = true;
}

int contain_exec_start(struct contain_run *r, int64_t now_mono, char *why,
		       size_t why_size)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int fds[2] = { -1, -1 }, rc;
	pid_t pid;

	r->pid = 0;
	r->pidfd = -1;
	r->out_fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, why_size, "cannot run %s: pipe: %s",
			 r->req.argv[0], strerror(errno));
		return -1;
	}
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					      POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawn_file_actions_addchdir_np(&fa, "/");
	rc = posix_spawn(&pid, r->req.argv[0], &fa, &at, r->req.argv,
			 r->req.envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		snprintf(why, why_size, "cannot run %s: %s", r->req.argv[0],
			 strerror(rc));
		return -1;
	}
	r->pid = pid;
	r->out_fd = fds[0];
	if (fcntl(r->out_fd, F_SETFL, O_NONBLOCK) < 0) {
		/* Reading could block the agent: do without the output. */
		close(r->out_fd);
		r->out_fd = -1;
	}
	r->pidfd = pidfd_open(pid, 0);
	r->stage = EXEC_RUNNING;
	r->deadline_mono = now_mono + r->timeout_us;
	r->recheck_mono = now_mono + CHECK_US;
	return 0;
}

size_t contain_exec_pollfds(const struct contain_run *r, struct pollfd *pfd)
{
	size_t n = 0;

	if (r->out_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->out_fd, .events = POLLIN };
	if (r->pidfd >= 0)
		pfd[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
	return n;
}

int64_t contain_exec_deadline(const struct contain_run *r)
{
	if (r->pidfd < 0 && r->recheck_mono < r->deadline_mono)
		return r->recheck_mono;
	return r->deadline_mono;
}

void contain_exec_process(struct contain_run *r, int64_t now_mono)
{
	pid_t got;
	int ws;

	if (r->done)
		return;
	drain(r);
	got = waitpid(r->pid, &ws, WNOHANG);
	if (got == r->pid) {
		drain(r); /* what it wrote just before it ended */
		finish(r, ws);
		return;
	}
	if (got < 0 && errno != EINTR) {
		/* Not our child any more (reaped elsewhere): nothing to wait
		 * for. */
		int e = errno;

		finish(r, 0);
		r->status = "failed";
		snprintf(r->detail, sizeof(r->detail),
			 "lost track of the program: waitpid: %s",
			 strerror(e));
		return;
	}
	r->recheck_mono = now_mono + CHECK_US;
	if (now_mono < r->deadline_mono)
		return;
	switch (r->stage) {
	case EXEC_RUNNING:
		kill(-r->pid, SIGTERM);
		r->stage = EXEC_TERM_SENT;
		r->deadline_mono = now_mono + r->grace_us;
		break;
	case EXEC_TERM_SENT:
	case EXEC_KILL_SENT:
		kill(-r->pid, SIGKILL);
		r->stage = EXEC_KILL_SENT;
		r->deadline_mono = now_mono + KILL_WAIT_US;
		break;
	}
}

void contain_exec_kill(struct contain_run *r)
{
	int ws = 0;

	if (r->done || r->pid <= 0)
		return;
	kill(-r->pid, SIGKILL);
	while (waitpid(r->pid, &ws, 0) < 0 && errno == EINTR)
		;
	drain(r);
	finish(r, ws);
}
