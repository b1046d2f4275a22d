#ifndef KAVACH_SESSION_H
#define KAVACH_SESSION_H

/* Serves one connection: reads one request, runs the command, streams its output and exit status
 * back, and leaves no process of the command behind. Returns when done; closes nothing. */
void serve_session(int conn);

#endif
