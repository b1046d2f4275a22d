/* The spec files Java leaves in the private run directory: read once, then unlinked, so a
 * secret lives on tmpfs only for the milliseconds between Java writing it and us reading it. */
#ifndef KAVACH_RUNFILES_H
#define KAVACH_RUNFILES_H

#include <stddef.h>
#include <sys/types.h>

struct blob {
  char *data;
  size_t len;
};

struct secret {
  const char *path; /* absolute path inside the sandbox */
  mode_t mode;
  const char *data;
  size_t len;
};

#define MAX_SECRETS 64

/* Reads a whole file (at most max bytes) and unlinks it. Fails the launch on any error. */
struct blob read_and_unlink(const char *step, const char *path, size_t max);

/* Splits a NUL-separated K=V list into a NULL-terminated envp. */
char **parse_env(struct blob b);

/* Parses secret records "<octal mode> <length> <path>\n<bytes>"; returns the count. */
int parse_secrets(struct blob b, struct secret *out, int max);

#endif
