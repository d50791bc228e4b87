/* Included last by every berth source file: unsafe libc calls fail to compile.
 * Use strbuf, xstrfmt, parse_* helpers and the child-process API instead. */
#ifndef BERTH_BANNED_H
#define BERTH_BANNED_H

#define BANNED(fn) sorry_##fn##_is_banned_in_berth

#undef strcpy
#define strcpy(a, b) BANNED(strcpy)
#undef strcat
#define strcat(a, b) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(a, b) BANNED(strtok)
#undef atoi
#define atoi(a) BANNED(atoi)
#undef atol
#define atol(a) BANNED(atol)
#undef system
#define system(a) BANNED(system)
#undef popen
#define popen(a, b) BANNED(popen)
#undef gets
#define gets(a) BANNED(gets)

#endif
