/*
 * timeshift.c: an LD_PRELOAD library that shifts a process's wall clock by
 * KSK_TIMESHIFT seconds (a signed decimal integer) and leaves its
 * monotonic clocks alone. The resolver tests run Unbound and named with
 * it at the dates of a signed rollover.
 *
 * Why not libfaketime: BIND's named (and Knot Resolver) are linked with
 * jemalloc, whose start-up calls clock_gettime before libfaketime has
 * resolved its own symbols with dlsym, which allocates: libfaketime
 * detects the recursion and returns -1 for ever (libfaketime issues #130,
 * #327, #478, unresolved). This library never calls dlsym or malloc: it
 * reads the variable once with getenv and asks the kernel for the time
 * with the clock_gettime system call.
 *
 * Build: cc -shared -fPIC -O2 -o timeshift.so timeshift.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long shift;

__attribute__((constructor)) static void timeshift_init(void) {
	const char *s = getenv("KSK_TIMESHIFT");
	if (s != NULL)
		shift = strtoll(s, NULL, 10);
}

static int is_wall(clockid_t id) {
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE ||
	       id == CLOCK_REALTIME_ALARM || id == CLOCK_TAI;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
	long r = syscall(SYS_clock_gettime, id, ts);
	if (r != 0)
		return -1; /* errno set by syscall */
	if (is_wall(id))
		ts->tv_sec += shift;
	return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
	struct timespec ts;
	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *out) {
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}

int timespec_get(struct timespec *ts, int base) {
	if (base != TIME_UTC || clock_gettime(CLOCK_REALTIME, ts) != 0)
		return 0;
	return base;
}
