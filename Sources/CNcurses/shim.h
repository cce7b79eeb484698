#ifndef PGREEL_CNCURSES_SHIM_H
#define PGREEL_CNCURSES_SHIM_H

#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// ncurses exposes COLS, LINES and stdscr as mutable globals, which Swift 6 strict concurrency rejects.
// These inline accessors are the only way the Swift side reads them.
static inline int pgreel_cols(void) { return COLS; }
static inline int pgreel_lines(void) { return LINES; }
static inline WINDOW *pgreel_stdscr(void) { return stdscr; }

// Swift cannot import function-like macros (attributes, mouse masks, the stdscr shorthands), and the C library's
// stdin/stdout are mutable globals too: these wrappers stand in for them.

/// A terminal on the process's own stdin/stdout, or NULL when curses cannot drive it (unknown TERM ...).
static inline SCREEN *pgreel_newterm(void) { return newterm(NULL, stdout, stdin); }
/// The character set the current locale encodes text in ("UTF-8", "ANSI_X3.4-1968" ...).
static inline const char *pgreel_codeset(void) { return nl_langinfo(CODESET); }

static inline attr_t pgreel_attr_normal(void) { return A_NORMAL; }
static inline attr_t pgreel_attr_bold(void) { return A_BOLD; }
static inline attr_t pgreel_attr_dim(void) { return A_DIM; }
static inline attr_t pgreel_attr_reverse(void) { return A_REVERSE; }
static inline attr_t pgreel_attr_underline(void) { return A_UNDERLINE; }
static inline attr_t pgreel_attr_italic(void) { return A_ITALIC; }

/// Sets the attributes and colour pair for the text written next.
static inline int pgreel_set_attributes(attr_t attributes, short pair) {
    return wattr_set(stdscr, attributes, pair, NULL);
}

/// Writes `count` wide characters at row `y`, column `x` of the standard screen.
static inline int pgreel_put(int y, int x, const wchar_t *text, int count) {
    if (wmove(stdscr, y, x) == ERR) return ERR;
    return waddnwstr(stdscr, text, count);
}

/// Makes the next refresh repaint the whole screen (Ctrl-L, or after something else drew over it).
static inline int pgreel_force_repaint(void) { return clearok(curscr, TRUE); }

static inline mmask_t pgreel_mouse_events(void) { return BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED; }
static inline mmask_t pgreel_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t pgreel_button1_double_clicked(void) { return BUTTON1_DOUBLE_CLICKED; }
static inline mmask_t pgreel_wheel_up(void) { return BUTTON4_PRESSED; }
static inline mmask_t pgreel_wheel_down(void) { return BUTTON5_PRESSED; }

#endif
