#ifndef QP_TEMPFILES_H
#define QP_TEMPFILES_H

/* Temporary files a process is writing, removed if the process is interrupted.
 *
 * A writer registers the name of a temporary file while the name exists; on SIGINT, SIGTERM,
 * SIGHUP or SIGQUIT the handler unlinks every registered name (unlink is async-signal-safe) and
 * then lets the signal take its default action, so the exit status still says what killed the
 * process. SIGKILL cannot be caught: there the writers keep the named window as short as they can. */

/* Installs the handlers once (later calls do nothing). Signals the process ignores stay ignored. */
void qp_tempfiles_install(void);

/* Registers `path` (copied); returns a slot for qp_tempfiles_forget, or -1 when the path is too
 * long or every slot is taken (the file is then simply not cleaned on a signal). */
int qp_tempfiles_remember(const char *path);

/* Forgets a slot (after the file was renamed or removed). -1 is accepted and ignored. */
void qp_tempfiles_forget(int slot);

/* How many names are registered (for tests). */
int qp_tempfiles_count(void);

#endif
