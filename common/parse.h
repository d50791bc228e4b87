/* Checked parsers for the numbers, durations and sizes found in compose files
 * and engine output. Each returns 0 or BERTH_E_INVALID and writes *out only
 * on success. */
#ifndef BERTH_PARSE_H
#define BERTH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* Whole string must be a base-10 integer (optional sign) within [min, max]. */
int parse_int64(int64_t *out, const char *s, int64_t min, int64_t max);
/* A TCP/UDP port 0..65535. */
int parse_port(int *out, const char *s);
/* Go time.ParseDuration syntax ("1m30s", "500ms", "1.5h"); result in nanoseconds. */
int parse_duration(int64_t *out_ns, const char *s);
/* Formats nanoseconds as Go's time.Duration.String() does ("1m30s", "500ms", "0s"). */
void format_duration(struct strbuf *out, int64_t ns);
/* Docker's units.RAMInBytes: "512m", "1.5g", "100" (bytes), "1kb"; binary multiples. */
int parse_bytes(int64_t *out, const char *s);
/* A float as strconv.ParseFloat accepts it (the whole string). */
int parse_double(double *out, const char *s);
/* Formats a double as Go's strconv.FormatFloat(f, 'g', -1, 64) would for JSON output. */
void format_double(struct strbuf *out, double d);
/* True when s is valid UTF-8 of length len. */
bool utf8_valid(const char *s, size_t len);

#endif
