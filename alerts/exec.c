/*
 * The exec sink: run a program on chosen transitions, never through a
 * shell. fork + execve with the configured argv, a clean environment
 * carrying the alert (DNSSECMON_*), the payload JSON on stdin (a memfd,
 * so a large payload cannot block us on a pipe), stdout and stderr into
 * one pipe read on the loop, kept up to OUTPUT_MAX bytes.
 *
 * The child leads its own process group: at its timeout the whole group
 * gets SIGTERM, KILL_GRACE_S later SIGKILL, so a script's own children
 * go with it. It is reaped by pid when SIGCHLD arrives (a libevent
 * signal event); nothing else is ever waited for.
 *
 * Exit 0 is delivered. Anything else (a status, a signal, the timeout)
 * is recorded with the output, and run again after a backoff up to
 * `retries` times, then given up so later transitions are not held back
 * for ever by a broken hook.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "alerts/internal.h"
#include "common/log.h"

#define OUTPUT_MAX	4096
#define KILL_GRACE_S	5
#define ENV_MAX		24

struct xhook {
	struct sink	*s;
	unsigned	 argc;
	char		*argv[ALERTS_MAX_ARGS + 1];
	long		 timeout_s;
	pid_t		 pid;		/* 0: nothing running */
	int		 out_fd;
	struct event	*out_ev, *timer;
	int		 signalled;	/* 0, SIGTERM or SIGKILL sent */
	char		 out[OUTPUT_MAX + 64];
	size_t		 out_len, dropped;
};

/* "NAME=value" into env[*n], from a JSON string (or ""). */
static void
env_add(char **env, unsigned *n, const char *name, const char *value)
{
	char	*e;

	if (*n >= ENV_MAX)
		return;
	if (asprintf(&e, "%s=%s", name, value != NULL ? value : "") != -1)
		env[(*n)++] = e;
}

/* The strings of a JSON array, one per line. Caller frees. */
static char *
lines(json_t *a)
{
	json_t	*v;
	size_t	 i, len = 0, n;
	char	*out = calloc(1, 1), *t;

	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || out == NULL)
			continue;
		n = strlen(s);
		if ((t = realloc(out, len + n + 2)) == NULL)
			break;
		out = t;
		snprintf(out + len, n + 2, "%s%s", len ? "\n" : "", s);
		len += n + (len ? 1 : 0);
	}
	return out;
}

static unsigned
build_env(const char *payload, char **env)
{
	json_t		*p;
	json_error_t	 jerr;
	unsigned	 n = 0;
	char		*add, *rem, num[32];

	env_add(env, &n, "PATH",
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if ((p = json_loads(payload, 0, &jerr)) == NULL)
		return n;
#define J(k)	json_string_value(json_object_get(p, k))
	env_add(env, &n, "DNSSECMON_DOMAIN", J("domain"));
	env_add(env, &n, "DNSSECMON_CODE", J("code"));
	env_add(env, &n, "DNSSECMON_TRANSITION", J("transition"));
	env_add(env, &n, "DNSSECMON_SEVERITY", J("severity"));
	env_add(env, &n, "DNSSECMON_STATE", J("state"));
	env_add(env, &n, "DNSSECMON_VALIDATION", J("validation"));
	env_add(env, &n, "DNSSECMON_MESSAGE", J("message"));
	env_add(env, &n, "DNSSECMON_DEADLINE", J("deadline"));
	env_add(env, &n, "DNSSECMON_TIME", J("time"));
#undef J
	add = lines(json_object_get(p, "ds_to_publish"));
	rem = lines(json_object_get(p, "ds_to_remove"));
	env_add(env, &n, "DNSSECMON_DS_ADD", add);
	env_add(env, &n, "DNSSECMON_DS_REMOVE", rem);
	free(add);
	free(rem);
	/* alerts.group: check: every code of the check, one a line; else
	 * the one code. */
	add = json_is_array(json_object_get(p, "codes")) ?
	    lines(json_object_get(p, "codes")) : NULL;
	env_add(env, &n, "DNSSECMON_CODES", add != NULL ? add :
	    json_string_value(json_object_get(p, "code")));
	free(add);
	if (json_is_integer(json_object_get(p, "seconds_left"))) {
		snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(json_object_get(p, "seconds_left")));
		env_add(env, &n, "DNSSECMON_SECONDS_LEFT", num);
	} else
		env_add(env, &n, "DNSSECMON_SECONDS_LEFT", "");
	snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(
	    json_object_get(p, "id")));
	env_add(env, &n, "DNSSECMON_ID", num);
	snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(
	    json_object_get(p, "alert_id")));
	env_add(env, &n, "DNSSECMON_ALERT_ID", num);
	json_decref(p);
	return n;
}

static void
drain(struct xhook *x)
{
	char	 buf[4096];
	ssize_t	 r;
	size_t	 take;

	if (x->out_fd < 0)
		return;
	while ((r = read(x->out_fd, buf, sizeof(buf))) > 0) {
		take = (size_t)r;
		if (take > OUTPUT_MAX - x->out_len)
			take = OUTPUT_MAX - x->out_len;
		memcpy(x->out + x->out_len, buf, take);
		x->out_len += take;
		x->dropped += (size_t)r - take;
	}
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR)) {
		event_free(x->out_ev);
		x->out_ev = NULL;
		close(x->out_fd);
		x->out_fd = -1;
	}
}

static void
on_output(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	drain(arg);
}

static void
finish(struct xhook *x, int status)
{
	char		 why[160];
	const char	*out;

	drain(x);
	if (x->out_ev != NULL)
		event_free(x->out_ev);
	if (x->out_fd >= 0)
		close(x->out_fd);
	x->out_ev = NULL;
	x->out_fd = -1;
	evtimer_del(x->timer);
	x->pid = 0;
	if (x->dropped > 0)
		snprintf(x->out + x->out_len, sizeof(x->out) - x->out_len,
		    "\n[%zu more bytes not kept]", x->dropped);
	else
		x->out[x->out_len] = '\0';
	out = x->out[0] ? x->out : NULL;
	if (x->signalled)
		snprintf(why, sizeof(why), "timed out after %ld s: killed "
		    "(%s)", x->timeout_s, x->signalled == SIGKILL ? "SIGKILL" :
		    "SIGTERM");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		sink_done(x->s, STORE_DELIVERY_DONE, NULL, out);
		return;
	} else if (WIFEXITED(status))
		snprintf(why, sizeof(why), "exit status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, sizeof(why), "ended with status 0x%x", status);
	sink_done(x->s, STORE_DELIVERY_RETRY, why, out);
}

void
exec_sink_sigchld(struct sink *s)
{
	struct xhook	*x = s->impl;
	int		 status;
	pid_t		 r;

	if (x == NULL || x->pid <= 0)
		return;
	while ((r = waitpid(x->pid, &status, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (r == x->pid)
		finish(x, status);
}

static void
on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct xhook	*x = arg;
	struct timeval	 grace = { KILL_GRACE_S, 0 };

	(void)fd; (void)ev;
	if (x->pid <= 0)
		return;
	if (x->signalled == 0) {
		log_warnx("%s: still running after %ld s: SIGTERM to process "
		    "group %ld", x->s->name, x->timeout_s, (long)x->pid);
		x->signalled = SIGTERM;
		kill(-x->pid, SIGTERM);
		evtimer_add(x->timer, &grace);
	} else {
		log_warnx("%s: still running %d s after SIGTERM: SIGKILL",
		    x->s->name, KILL_GRACE_S);
		x->signalled = SIGKILL;
		kill(-x->pid, SIGKILL);
	}
}

static void
exec_deliver(struct sink *s)
{
	struct xhook	*x = s->impl;
	struct timeval	 tv = { x->timeout_s, 0 };
	char		*env[ENV_MAX + 1], why[256];
	unsigned	 nenv, i;
	int		 memfd = -1, p[2] = { -1, -1 }, sig, fl;
	size_t		 len = strlen(s->row.payload), off = 0;
	ssize_t		 w;
	pid_t		 pid;
	sigset_t	 all;

	memset(env, 0, sizeof(env));
	nenv = build_env(s->row.payload, env);
	if ((memfd = memfd_create("dnssecmon-payload", MFD_CLOEXEC)) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1) {
		snprintf(why, sizeof(why), "cannot run %s: %s", x->argv[0],
		    strerror(errno));
		goto fail;
	}
	while (off < len && (w = write(memfd, s->row.payload + off,
	    len - off)) > 0)
		off += (size_t)w;
	if (off < len || lseek(memfd, 0, SEEK_SET) == -1) {
		snprintf(why, sizeof(why), "cannot stage the payload: %s",
		    strerror(errno));
		goto fail;
	}
	x->out_len = x->dropped = 0;
	x->signalled = 0;
	if ((pid = fork()) == -1) {
		snprintf(why, sizeof(why), "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here to execve. */
		setpgid(0, 0);
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (dup2(memfd, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(p[1], 2) == -1)
			_exit(126);
		close_range(3, ~0U, 0);
		execve(x->argv[0], x->argv, env);
		(void)!write(2, "dnssecmon: execve failed\n", 25);
		_exit(127);
	}
	setpgid(pid, pid);	/* also here: no race with kill(-pid) */
	x->pid = pid;
	close(memfd);
	close(p[1]);
	x->out_fd = p[0];
	if ((fl = fcntl(x->out_fd, F_GETFL)) != -1)
		fcntl(x->out_fd, F_SETFL, fl | O_NONBLOCK);
	if ((x->out_ev = event_new(s->a->base, x->out_fd, EV_READ | EV_PERSIST,
	    on_output, x)) != NULL)
		event_add(x->out_ev, NULL);
	evtimer_add(x->timer, &tv);
	log_info("%s: running %s for #%lld (%s), pid %ld", s->name,
	    x->argv[0], (long long)s->row.id, s->row.transition, (long)pid);
	for (i = 0; i < nenv; i++)
		free(env[i]);
	/* It may have exited before we watched: look now too. */
	exec_sink_sigchld(s);
	return;
fail:
	for (i = 0; i < nenv; i++)
		free(env[i]);
	if (memfd >= 0)
		close(memfd);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	sink_done(s, STORE_DELIVERY_RETRY, why, NULL);
}

static void
exec_destroy(struct sink *s)
{
	struct xhook	*x = s->impl;
	unsigned	 i;

	if (x == NULL)
		return;
	if (x->pid > 0) {
		/* Stopping: it runs again at the next start. */
		log_warnx("%s: stopping: killing pid %ld", s->name,
		    (long)x->pid);
		kill(-x->pid, SIGKILL);
		while (waitpid(x->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	if (x->out_ev != NULL)
		event_free(x->out_ev);
	if (x->out_fd >= 0)
		close(x->out_fd);
	if (x->timer != NULL)
		event_free(x->timer);
	for (i = 0; i < x->argc; i++)
		free(x->argv[i]);
	free(x);
	s->impl = NULL;
}

static const struct sink_ops exec_ops = {
	.kind = "exec",
	.deliver = exec_deliver,
	.destroy = exec_destroy,
};

int
exec_sink_init(struct sink *s, const struct alerts_exec_config *c, char *err,
    size_t errlen)
{
	struct xhook	*x;
	unsigned	 i;

	s->ops = &exec_ops;
	s->on = c->on;
	s->max_attempts = c->retries + 1;
	s->retry_max_s = 300;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		goto nomem;
	s->impl = x;
	x->s = s;
	x->out_fd = -1;
	x->timeout_s = c->timeout_s;
	for (i = 0; i < c->argc && i < ALERTS_MAX_ARGS; i++) {
		if ((x->argv[i] = strdup(c->argv[i])) == NULL)
			goto nomem;
		x->argc++;
	}
	if ((x->timer = evtimer_new(s->a->base, on_timeout, x)) == NULL)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", c->name);
	return -1;
}
