/* SPDX-License-Identifier: MIT */
/* fd_check.h - a fuzz target's guard against leaked file descriptors across inputs. */
#ifndef LOOM_TESTS_FUZZ_FD_CHECK_H
#define LOOM_TESTS_FUZZ_FD_CHECK_H

#include <dirent.h>
#include <stdlib.h>

/*
 * Call at the end of every input, after the target released what it made.
 * Counts the open descriptors (/proc/self/fd): a leak makes the count grow
 * input after input, whereas the lowest free number may not move (the
 * leaked ones sit above descriptors that are freed). The slack absorbs
 * what the fuzzing engine holds open for a while. Both the libFuzzer run
 * and the corpus replay (all inputs in one process) then catch a
 * descriptor that outlives its input.
 */
static inline void fd_check_no_leak(void)
{
	enum { SLACK = 8 };
	static int first = -1;
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		abort();	/* out of descriptors: leaked, surely */
	while ((de = readdir(d)))
		n++;
	closedir(d);
	if (first < 0)
		first = n;
	else if (n > first + SLACK)
		abort();
}

#endif
