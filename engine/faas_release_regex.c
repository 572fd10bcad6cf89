/*
 * Copyright (C) ngx_faas authors
 *
 * The release rules' regexes, judged before regcomp() sees them: what
 * glibc's regex engine would take exponential time or memory on.
 */


#include <stddef.h>
#include <string.h>

#include "faas_release.h"


/*
 * What glibc's regex does badly, found without compiling:
 *
 * - back-references: regexec() backtracks on them, in exponential time;
 * - a repetition of something that can match nothing ("(a*)*", "a**",
 *   "(a|)+"): regcomp()'s epsilon closures grow exponentially with a
 *   few of them in a row, "^((a*)*)" 20 times takes a second; they are
 *   never needed ("(a*)*" is "a*"), and POSIX leaves stacked
 *   repetitions undefined;
 * - copies: a bounded repetition is copied out item by item, so
 *   "((a{255}){255}){255}" takes seconds to compile.  An estimate of
 *   the nodes made: one per atom, operator and alternative; a
 *   repetition multiplies what it repeats by its larger bound ("+" by
 *   2: "aa*"), plus one; a group is the sum of its alternatives.
 *
 * It need not be exact: what regcomp() refuses anyway is left for it
 * to explain.  Returns why a regex is refused, NULL when it is not.
 */

#define FAAS_REGEX_DEPTH  (FAAS_RELEASE_REGEX_MAX + 2)

typedef struct {
    size_t          sum;        /* the items done */
    size_t          last;       /* the item a repetition would repeat */
    unsigned        has_last:1;
    unsigned        last_empty:1;   /* "last" can match nothing */
    unsigned        seq_empty:1;    /* so can this alternative so far */
    unsigned        alt_empty:1;    /* so can an alternative before */
} faas_regex_group_t;

const char *
faas_release_regex_check(const char *re, size_t len)
{
    size_t               i, j, k, m, depth, atom, times, limit;
    unsigned             empty, zero;
    faas_regex_group_t  *g, groups[FAAS_REGEX_DEPTH];

    limit = FAAS_RELEASE_REGEX_ITEMS;
    depth = 0;

    memset(&groups[0], 0, sizeof(faas_regex_group_t));
    groups[0].seq_empty = 1;

    for (i = 0; i < len; i++) {
        g = &groups[depth];
        atom = 1;
        empty = 0;
        times = 0;
        zero = 0;

        switch (re[i]) {

        case '\\':
            if (i + 1 == len) {
                break;
            }

            i++;

            if (re[i] >= '1' && re[i] <= '9') {
                return "back-references are not supported";
            }

            /* glibc's word anchors */

            empty = (strchr("bB<>`'", re[i]) != NULL);
            break;

        case '^':
        case '$':
            empty = 1;
            break;

        case '[':

            /* "[]a]", "[^]a]", "[[:alpha:]]", "[[.-.]]", "[[=e=]]" */

            j = i + 1;

            if (j < len && re[j] == '^') {
                j++;
            }

            if (j < len && re[j] == ']') {
                j++;
            }

            while (j < len && re[j] != ']') {
                if (re[j] == '[' && j + 1 < len
                    && (re[j + 1] == ':' || re[j + 1] == '.'
                        || re[j + 1] == '='))
                {
                    for (k = j + 2; k + 1 < len; k++) {
                        if (re[k] == re[j + 1] && re[k + 1] == ']') {
                            break;
                        }
                    }

                    j = k + 1;
                }

                j++;
            }

            i = j;
            break;

        case '(':
            if (depth + 1 == FAAS_REGEX_DEPTH) {
                return "too deep";
            }

            depth++;
            memset(&groups[depth], 0, sizeof(faas_regex_group_t));
            groups[depth].seq_empty = 1;
            continue;

        case ')':
            if (depth == 0) {
                break;
            }

            atom = g->sum + g->last;
            empty = g->alt_empty || (g->seq_empty && g->last_empty)
                    || (g->seq_empty && !g->has_last);
            depth--;
            g = &groups[depth];
            break;

        case '|':
            g->sum += g->last + 1;
            g->seq_empty &= g->last_empty || !g->has_last;
            g->alt_empty |= g->seq_empty;
            g->seq_empty = 1;
            g->last = 0;
            g->has_last = 0;
            g->last_empty = 0;
            continue;

        case '*':
        case '?':
            times = 1;
            zero = 1;
            break;

        case '+':
            times = 2;
            break;

        case '{':

            /* {m}, {m,}, {m,n}: the larger bound, or m + 1 when open */

            m = 0;
            k = 0;

            for (j = i + 1; j < len && re[j] >= '0' && re[j] <= '9'; j++) {
                m = (m < 100000) ? m * 10 + (re[j] - '0') : m;
            }

            zero = (j > i + 1 && m == 0);

            if (j < len && re[j] == ',') {
                m++;

                for (j++; j < len && re[j] >= '0' && re[j] <= '9'; j++) {
                    k = (k < 100000) ? k * 10 + (re[j] - '0') : k;
                }
            }

            /* not a bound: an item, and regcomp() may say what is wrong */

            if (j < len && re[j] == '}') {
                i = j;
                times = (k > m) ? k : (m ? m : 1);

            } else {
                zero = 0;
            }

            break;

        default:
            break;
        }

        if (times && g->has_last) {
            if (g->last_empty) {
                return "a repetition of something that can match nothing "
                       "(as \"(a*)*\" or \"a**\"): write it without";
            }

            /* the repeated copies, and the repetition's own node */

            g->last = g->last * times + 1;
            g->last_empty = zero;

        } else {
            g->sum += g->last;
            g->seq_empty &= g->last_empty || !g->has_last;
            g->last = atom ? atom : 1;
            g->has_last = 1;
            g->last_empty = empty;
        }

        if (g->sum > limit || g->last > limit) {
            goto complex;
        }
    }

    for ( ;; ) {
        atom = groups[depth].sum + groups[depth].last;

        if (depth == 0) {
            break;
        }

        depth--;
        groups[depth].sum += atom;
    }

    if (atom <= limit) {
        return NULL;
    }

complex:

    return "too complex, more than " FAAS_RELEASE_REGEX_ITEMS_TEXT " items "
           "once repetitions are counted out";
}
