/*
 * The status channel: the launcher's only way to talk to Java.
 *
 * Every fact the launcher applied and every setup failure is one line appended to the status
 * file (opened O_APPEND, so lines written by the supervisor, by init and by the command's
 * pre-exec child never interleave). Nothing is ever written to the command's stdout or stderr:
 * those belong to the command, and a command could imitate any text we put there. The status
 * fd is close-on-exec and init is not dumpable, so the sandboxed command can neither inherit nor
 * reopen it; an "error" line is therefore always ours.
 *
 * Line grammar (space separated, one fact per line):
 *   <key> <value>...                       a fact, for example "landlock 7 14"
 *   error <step> <errno> <message>         a setup failure; the command did not start
 */
#ifndef KAVACH_LOG_H
#define KAVACH_LOG_H

#include <errno.h>

/* Exit status of the launcher when setup fails. Not distinctive on its own (a command may exit
 * 125 too): Java decides by the "error" line on the status channel, never by this number. */
#define EXIT_SETUP_FAILED 125

/* Opens the status channel; returns -1 and sets errno on failure. */
int status_open(const char *path);

/* The status fd (-1 before status_open), so init can close or keep it. */
int status_fd(void);

/* Removes the run directory the status file is in (if it is one of ours, "kavach-*"): for when
 * the JVM is gone and nobody will read it, so nothing of the launch stays in /dev/shm. */
void status_abandon(void);

/* Appends one fact line. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends "error <step> <err> <message>" and exits with EXIT_SETUP_FAILED. */
void fail(const char *step, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* fail() with the current errno. */
#define DIE(step, ...) fail((step), errno, __VA_ARGS__)

#endif
