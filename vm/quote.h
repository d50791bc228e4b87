/* quote: an argv vector as one command line for the guest's POSIX shell,
 * which is what an SSH "exec" request hands it. Each word is quoted once, at
 * the SSH boundary (vm/ssh.c), so that the remote shell splits the line back
 * into exactly the same argv: no word is expanded, globbed or split again.
 * Nothing else in berth builds a remote command line. */
#ifndef BERTH_VM_QUOTE_H
#define BERTH_VM_QUOTE_H

struct strbuf;

/* Appends arg as one shell word (an argument, not the command name). Words made
 * only of characters that no POSIX shell treats specially ([A-Za-z0-9_@%+=:,./-])
 * are left bare for readability; anything else (spaces, quotes, $, `, \,
 * newlines, globs, ~, #, UTF-8, the empty string) is put in single quotes, with
 * each ' written as '\''. Bytes are passed through unchanged. */
void vm_quote_arg(struct strbuf *out, const char *arg);
/* Appends the words of the NULL-terminated argv separated by single spaces.
 * The first word is also quoted when it contains '=' (it would be a variable
 * assignment) or is a reserved word such as "if" (it would be a keyword). */
void vm_quote_argv(struct strbuf *out, const char *const *argv);

#endif
