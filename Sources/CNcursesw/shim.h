// The only C in Nanoscope: the parts of ncursesw that Swift 6 cannot import directly.
//
// `curses.h` exposes its screen size, colour counts and standard window as mutable globals
// (rejected by strict concurrency) and its attributes and some helpers as macros (not imported at
// all). Each gets a tiny `static inline` accessor here; everything else is called straight from Swift.
#ifndef NANOSCOPE_CNCURSESW_SHIM_H
#define NANOSCOPE_CNCURSESW_SHIM_H

// Without this, curses.h hides the wide-character API (cchar_t, setcchar, get_wch, add_wch).
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/curses.h>

static inline WINDOW *ns_stdscr(void) { return stdscr; }
static inline int ns_lines(void) { return LINES; }
static inline int ns_cols(void) { return COLS; }
static inline int ns_colors(void) { return COLORS; }
static inline int ns_color_pairs(void) { return COLOR_PAIRS; }

static inline attr_t ns_a_normal(void) { return A_NORMAL; }
static inline attr_t ns_a_bold(void) { return A_BOLD; }
static inline attr_t ns_a_dim(void) { return A_DIM; }
static inline attr_t ns_a_reverse(void) { return A_REVERSE; }
static inline attr_t ns_a_underline(void) { return A_UNDERLINE; }
static inline attr_t ns_a_italic(void) { return A_ITALIC; }

static inline void ns_getmaxyx(WINDOW *win, int *rows, int *cols) {
    int y, x;
    getmaxyx(win, y, x);
    *rows = y;
    *cols = x;
}

// Like initscr, but returns NULL instead of exiting the process when the terminal is unusable;
// stdin/stdout are globals that Swift 6 will not touch.
static inline SCREEN *ns_newterm_stdio(void) { return newterm(NULL, stdout, stdin); }

static inline int ns_key_f(int n) { return KEY_F(n); }

// Mouse: the masks are macros built from NCURSES_MOUSE_MASK, which Swift does not import.
static inline mmask_t ns_mouse_all(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
static inline mmask_t ns_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t ns_button1_released(void) { return BUTTON1_RELEASED; }
static inline mmask_t ns_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t ns_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t ns_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline mmask_t ns_report_position(void) { return REPORT_MOUSE_POSITION; }

#endif
