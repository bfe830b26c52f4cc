/* SPDX-License-Identifier: MIT */
/*
 * Can this process start and join a thread? Multi-threaded tests ask first,
 * because an emulator may hang in pthread_create (an earlier qemu-aarch64
 * 7.2 build, the aarch64 cross build's exe_wrapper, did; Debian 12's 7.2.22
 * does not), and such a test then exits 77, which meson counts as skipped. The includer defines _POSIX_C_SOURCE (200809L)
 * before its first include.
 */
#ifndef TDP_TESTS_THREADS_PROBE_H
#define TDP_TESTS_THREADS_PROBE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void *tk_probe_thread(void *arg)
{
	return arg;
}

/* Tried in a child process, given 10 s; true when there is no way to tell. */
static inline bool tk_threads_work(void)
{
	const struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return true;
	if (pid == 0) {
		pthread_t pt;

		_exit(pthread_create(&pt, NULL, tk_probe_thread, NULL) || pthread_join(pt, NULL));
	}
	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (r < 0)
			return true;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return false;
}

#endif
