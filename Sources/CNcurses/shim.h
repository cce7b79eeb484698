#ifndef PGREEL_CNCURSES_SHIM_H
#define PGREEL_CNCURSES_SHIM_H

#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

// ncurses exposes COLS, LINES and stdscr as mutable globals, which Swift 6 strict concurrency rejects.
// These inline accessors are the only way the Swift side reads them.
static inline int pgreel_cols(void) { return COLS; }
static inline int pgreel_lines(void) { return LINES; }
static inline WINDOW *pgreel_stdscr(void) { return stdscr; }

#endif
