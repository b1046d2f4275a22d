#ifndef KAVACH_SESSION_H
#define KAVACH_SESSION_H

/* Serves one connection: reads one request, runs the command, streams its output and exit status
 * back, and leaves no process of the command behind. Returns when done; closes nothing. */
void serve_session(int conn);

/* Set by main when the agent is a guest's PID 1: each exec then ends with sync(), so the host can
 * read the workspace drive image as soon as the exit frame arrives. */
extern int guest_mode;

#endif
