/*
 * Copyright (C) ngx_faas authors
 *
 * f.yml's YAML as a small tree: libyaml's events gathered into nodes
 * (with the line and column of each, duplicate keys refused),
 * ${env.NAME} substituted in scalars, the tree's values read (strings,
 * seconds, unsigned integers), and where a value is
 * ("functions.hello.events[0].http") kept for the messages, which give
 * file:line:column.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "faas_yaml.h"


#define FAAS_SUBST_TOTAL_MAX   (16 * 1024 * 1024)
#define FAAS_SECONDS_MAX       86400


typedef struct {
    faas_ynode_t  *node;
    faas_ynode_t  *key;        /* a mapping's key being read */
} faas_level_t;


static void faas_yaml_error(faas_ctx_t *ctx, yaml_parser_t *parser,
    const char *text, size_t len);
static int faas_yaml_scalar(faas_ctx_t *ctx, yaml_event_t *event,
    faas_level_t *stack, size_t depth, faas_ynode_t **node);
static int faas_yaml_attach(faas_ctx_t *ctx, faas_level_t *stack,
    size_t depth, faas_ynode_t *node, faas_ynode_t **root);
static int faas_yaml_unique(faas_ctx_t *ctx, faas_level_t *stack,
    size_t depth);
static void faas_yaml_where(faas_ctx_t *ctx, faas_level_t *stack,
    size_t depth);
static int faas_key_cmp(const void *one, const void *two);
static int faas_subst(faas_ctx_t *ctx, yaml_event_t *event, char **out,
    size_t *outlen);
static int faas_subst_match(const char *s, size_t len, size_t i,
    size_t *end, size_t *prefix, size_t *word, size_t *wlen);
static int faas_subst_space(char c);
static int faas_subst_word(char c);


/* YAML into the tree */

int
faas_yaml_read(faas_ctx_t *ctx, const char *text, size_t len,
    faas_ynode_t **root)
{
    int             rc, done, docs;
    size_t          depth;
    yaml_event_t    event;
    faas_ynode_t   *node;
    yaml_parser_t   parser;
    faas_level_t    stack[FAAS_DEPTH_MAX];

    *root = NULL;

    if (!yaml_parser_initialize(&parser)) {
        return faas_nomem(ctx, NULL);
    }

    yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);

    rc = FAAS_OK;
    depth = 0;
    docs = 0;
    done = 0;

    while (!done) {

        if (!yaml_parser_parse(&parser, &event)) {
            faas_yaml_error(ctx, &parser, text, len);
            rc = FAAS_ERROR;
            break;
        }

        node = NULL;

        switch (event.type) {

        case YAML_STREAM_END_EVENT:
            done = 1;
            break;

        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                faas_error_set(ctx->err, ctx->file,
                               event.start_mark.line + 1,
                               event.start_mark.column + 1,
                               "a manifest holds one YAML document, "
                               "this is a second one");
                rc = FAAS_ERROR;
            }

            break;

        case YAML_ALIAS_EVENT:
            faas_error_set(ctx->err, ctx->file, event.start_mark.line + 1,
                           event.start_mark.column + 1,
                           "YAML aliases (*%s) are not supported",
                           (char *) event.data.alias.anchor);
            rc = FAAS_ERROR;
            break;

        case YAML_SCALAR_EVENT:
            rc = faas_yaml_scalar(ctx, &event, stack, depth, &node);
            if (rc == FAAS_OK) {
                rc = faas_yaml_attach(ctx, stack, depth, node, root);
            }

            break;

        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth == FAAS_DEPTH_MAX) {
                faas_error_set(ctx->err, ctx->file,
                               event.start_mark.line + 1,
                               event.start_mark.column + 1,
                               "nested deeper than %d levels",
                               FAAS_DEPTH_MAX);
                rc = FAAS_ERROR;
                break;
            }

            node = faas_arena_alloc(ctx->tree, sizeof(faas_ynode_t));
            if (node == NULL) {
                rc = faas_nomem(ctx, ctx->tree);
                break;
            }

            node->type = (event.type == YAML_MAPPING_START_EVENT)
                         ? FAAS_Y_MAPPING : FAAS_Y_SEQUENCE;
            node->line = event.start_mark.line + 1;
            node->column = event.start_mark.column + 1;

            rc = faas_yaml_attach(ctx, stack, depth, node, root);
            if (rc != FAAS_OK) {
                break;
            }

            stack[depth].node = node;
            stack[depth].key = NULL;
            depth++;
            break;

        case YAML_MAPPING_END_EVENT:
            rc = faas_yaml_unique(ctx, stack, depth);
            depth--;
            break;

        case YAML_SEQUENCE_END_EVENT:
            depth--;
            break;

        default:
            break;
        }

        yaml_event_delete(&event);

        if (rc != FAAS_OK) {
            break;
        }
    }

    yaml_parser_delete(&parser);

    if (rc != FAAS_OK) {
        return FAAS_ERROR;
    }

    if (*root == NULL || faas_is_null(*root)) {
        faas_error_set(ctx->err, ctx->file, 0, 0, "the manifest is empty");
        return FAAS_ERROR;
    }

    return FAAS_OK;
}


static void
faas_yaml_error(faas_ctx_t *ctx, yaml_parser_t *parser, const char *text,
    size_t len)
{
    size_t       i, line, column;
    const char  *problem;

    problem = parser->problem ? parser->problem : "unknown problem";

    switch (parser->error) {

    case YAML_MEMORY_ERROR:
        faas_nomem(ctx, NULL);
        return;

    case YAML_READER_ERROR:

        /* the reader knows a byte offset only */

        line = 1;
        column = 1;

        for (i = 0; i < parser->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                column = 1;

            } else {
                column++;
            }
        }

        if (parser->problem_value != -1) {
            faas_error_set(ctx->err, ctx->file, line, column,
                           "YAML: %s (byte 0x%02X)", problem,
                           (unsigned) parser->problem_value & 0xff);

        } else {
            faas_error_set(ctx->err, ctx->file, line, column, "YAML: %s",
                           problem);
        }

        return;

    default:
        break;
    }

    if (parser->context) {
        faas_error_set(ctx->err, ctx->file, parser->problem_mark.line + 1,
                       parser->problem_mark.column + 1,
                       "YAML syntax error: %s %s (at line %u column %u)",
                       problem, parser->context,
                       (unsigned) parser->context_mark.line + 1,
                       (unsigned) parser->context_mark.column + 1);
        return;
    }

    faas_error_set(ctx->err, ctx->file, parser->problem_mark.line + 1,
                   parser->problem_mark.column + 1, "YAML syntax error: %s",
                   problem);
}


static int
faas_yaml_scalar(faas_ctx_t *ctx, yaml_event_t *event, faas_level_t *stack,
    size_t depth, faas_ynode_t **node)
{
    int            key;
    char          *value;
    size_t         len;
    faas_ynode_t  *n, *parent;

    len = 0;
    parent = depth ? stack[depth - 1].node : NULL;

    key = (parent && parent->type == FAAS_Y_MAPPING && parent->n % 2 == 0);

    n = faas_arena_alloc(ctx->tree, sizeof(faas_ynode_t));
    if (n == NULL) {
        return faas_nomem(ctx, ctx->tree);
    }

    n->type = FAAS_Y_SCALAR;
    n->line = event->start_mark.line + 1;
    n->column = event->start_mark.column + 1;
    n->plain = (event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                && event->data.scalar.tag == NULL);

    /* Midway substitutes in the whole text; values are what it is for */

    if (!key && ctx->getenv_fn) {
        if (faas_subst(ctx, event, &value, &len) != FAAS_OK) {
            return FAAS_ERROR;
        }

    } else {
        len = event->data.scalar.length;
        value = faas_arena_strndup(ctx->tree,
                                   (char *) event->data.scalar.value, len);
        if (value == NULL) {
            return faas_nomem(ctx, ctx->tree);
        }
    }

    n->value = value;
    n->len = len;

    if (key && n->plain && len == 2 && memcmp(value, "<<", 2) == 0) {
        faas_error_set(ctx->err, ctx->file, n->line, n->column,
                       "YAML merge keys (<<) are not supported");
        return FAAS_ERROR;
    }

    /* an empty value is reported where its key is */

    if (!key && parent && parent->type == FAAS_Y_MAPPING && faas_is_null(n)
        && stack[depth - 1].key)
    {
        n->line = stack[depth - 1].key->line;
        n->column = stack[depth - 1].key->column;
    }

    *node = n;

    return FAAS_OK;
}


static int
faas_yaml_attach(faas_ctx_t *ctx, faas_level_t *stack, size_t depth,
    faas_ynode_t *node, faas_ynode_t **root)
{
    faas_ynode_t  *parent;
    char           got[FAAS_QUOTE_SIZE];

    if (depth == 0) {
        *root = node;
        return FAAS_OK;
    }

    parent = stack[depth - 1].node;

    if (parent->type == FAAS_Y_MAPPING && parent->n % 2 == 0) {
        if (node->type != FAAS_Y_SCALAR) {
            faas_yaml_where(ctx, stack, depth);
            return faas_fail(ctx, node, "expected a plain key, got %s "
                             "(complex keys are not supported)",
                             faas_describe(node, got, sizeof(got)));
        }

        stack[depth - 1].key = node;
    }

    if (parent->last) {
        parent->last->next = node;

    } else {
        parent->child = node;
    }

    parent->last = node;
    parent->n++;

    return FAAS_OK;
}


/* duplicate keys, as js-yaml rejects them: sorted, then compared */

static int
faas_yaml_unique(faas_ctx_t *ctx, faas_level_t *stack, size_t depth)
{
    size_t          i, g, nkeys;
    faas_ynode_t  **keys, *map, *k, *first, *second;
    char            name[FAAS_QUOTE_SIZE];

    map = stack[depth - 1].node;
    nkeys = map->n / 2;

    if (nkeys < 2) {
        return FAAS_OK;
    }

    keys = malloc(nkeys * sizeof(faas_ynode_t *));
    if (keys == NULL) {
        return faas_nomem(ctx, NULL);
    }

    for (i = 0, k = map->child; k && k->next && i < nkeys; k = k->next->next)
    {
        keys[i++] = k;
    }

    nkeys = i;

    qsort(keys, nkeys, sizeof(faas_ynode_t *), faas_key_cmp);

    first = NULL;
    second = NULL;

    for (i = 1, g = 0; i < nkeys; i++) {
        if (keys[i]->len != keys[g]->len
            || memcmp(keys[i]->value, keys[g]->value, keys[i]->len) != 0)
        {
            g = i;
            continue;
        }

        if (i == g + 1
            && (second == NULL
                || keys[i]->line < second->line
                || (keys[i]->line == second->line
                    && keys[i]->column < second->column)))
        {
            first = keys[g];
            second = keys[i];
        }
    }

    free(keys);

    if (second == NULL) {
        return FAAS_OK;
    }

    faas_quote(second->value, second->len, name, sizeof(name));
    faas_yaml_where(ctx, stack, depth);

    return faas_fail(ctx, second, "duplicate key %s, first at line %u "
                     "column %u", name, first->line, first->column);
}


static int
faas_key_cmp(const void *one, const void *two)
{
    int                  rc;
    size_t               len;
    const faas_ynode_t  *a, *b;

    a = *(const faas_ynode_t *const *) one;
    b = *(const faas_ynode_t *const *) two;

    len = a->len < b->len ? a->len : b->len;

    rc = memcmp(a->value, b->value, len);
    if (rc != 0) {
        return rc;
    }

    if (a->len != b->len) {
        return (a->len > b->len) ? 1 : -1;
    }

    if (a->line != b->line) {
        return (a->line > b->line) ? 1 : -1;
    }

    return (a->column > b->column) - (a->column < b->column);
}


/* sets ctx->path to the place of the collection at stack[depth - 1] */

static void
faas_yaml_where(faas_ctx_t *ctx, faas_level_t *stack, size_t depth)
{
    size_t         i;
    faas_ynode_t  *parent;

    ctx->path_len = 0;
    ctx->path[0] = '\0';

    for (i = 1; i < depth; i++) {
        parent = stack[i - 1].node;

        if (parent->type == FAAS_Y_MAPPING) {
            if (stack[i - 1].key) {
                faas_path_key(ctx, stack[i - 1].key->value,
                              stack[i - 1].key->len);
            }

        } else {
            faas_path_push(ctx, "[%zu]", parent->n - 1);
        }
    }
}


/*
 * ${env.NAME} as Midway's /\$\{\s*(\w+\.\w+)\s*\}/g: the character classes
 * are disjoint, so a greedy scan finds what the regular expression does.
 */

static int
faas_subst(faas_ctx_t *ctx, yaml_event_t *event, char **out, size_t *outlen)
{
    char          *res, *p, *name;
    size_t         i, len, n, size, end, prefix, word, wlen, vlen;
    const char    *s, *value;

    s = (const char *) event->data.scalar.value;
    len = event->data.scalar.length;

    if (memchr(s, '$', len) == NULL) {
        *out = faas_arena_strndup(ctx->tree, s, len);
        *outlen = len;

        return (*out == NULL) ? faas_nomem(ctx, ctx->tree) : FAAS_OK;
    }

    res = NULL;
    size = 0;
    n = 0;
    i = 0;

    while (i < len) {
        value = NULL;
        end = i + 1;

        if (s[i] == '$'
            && faas_subst_match(s, len, i, &end, &prefix, &word, &wlen))
        {
            if (word - prefix == 4 && memcmp(s + prefix, "env", 3) == 0) {
                name = faas_arena_strndup(ctx->tree, s + word, wlen);
                if (name == NULL) {
                    free(res);
                    return faas_nomem(ctx, ctx->tree);
                }

                value = ctx->getenv_fn(name, ctx->getenv_data);
            }
        }

        /* unset, or not "env.": the text stays as it is */

        if (value == NULL) {
            value = s + i;
            vlen = end - i;

        } else {
            vlen = strlen(value);
        }

        if (vlen > FAAS_SCALAR_MAX || n + vlen > FAAS_SCALAR_MAX) {
            free(res);
            faas_error_set(ctx->err, ctx->file, event->start_mark.line + 1,
                           event->start_mark.column + 1,
                           "the value is longer than %d bytes after "
                           "${env.*} substitution", FAAS_SCALAR_MAX);
            return FAAS_ERROR;
        }

        if (n + vlen > size) {
            size = (n + vlen) * 2 + 64;

            p = realloc(res, size);
            if (p == NULL) {
                free(res);
                return faas_nomem(ctx, NULL);
            }

            res = p;
        }

        if (vlen) {
            memcpy(res + n, value, vlen);
            n += vlen;
        }

        i = end;
    }

    ctx->subst_total += n;

    if (ctx->subst_total > FAAS_SUBST_TOTAL_MAX) {
        free(res);
        faas_error_set(ctx->err, ctx->file, event->start_mark.line + 1,
                       event->start_mark.column + 1,
                       "the manifest is larger than %d bytes after "
                       "${env.*} substitution", FAAS_SUBST_TOTAL_MAX);
        return FAAS_ERROR;
    }

    *out = faas_arena_strndup(ctx->tree, res ? res : "", n);
    *outlen = n;

    free(res);

    if (*out == NULL) {
        return faas_nomem(ctx, ctx->tree);
    }

    return FAAS_OK;
}


/* "${ prefix.word }" at s[i]: where it ends, where its words are */

static int
faas_subst_match(const char *s, size_t len, size_t i, size_t *end,
    size_t *prefix, size_t *word, size_t *wlen)
{
    size_t  j, w;

    if (i + 1 >= len || s[i + 1] != '{') {
        return 0;
    }

    j = i + 2;

    while (j < len && faas_subst_space(s[j])) {
        j++;
    }

    w = j;

    while (j < len && faas_subst_word(s[j])) {
        j++;
    }

    if (j == w || j == len || s[j] != '.') {
        return 0;
    }

    *prefix = w;
    w = ++j;

    while (j < len && faas_subst_word(s[j])) {
        j++;
    }

    if (j == w) {
        return 0;
    }

    *word = w;
    *wlen = j - w;

    while (j < len && faas_subst_space(s[j])) {
        j++;
    }

    if (j == len || s[j] != '}') {
        return 0;
    }

    *end = j + 1;

    return 1;
}


static int
faas_subst_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}


static int
faas_subst_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_';
}


/* values */

int
faas_read_string(faas_ctx_t *ctx, faas_ynode_t *node, char **out)
{
    char  got[FAAS_QUOTE_SIZE];

    if (node->type != FAAS_Y_SCALAR) {
        return faas_fail(ctx, node, "expected a string, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    if (faas_is_null(node)) {
        *out = NULL;
        return FAAS_OK;
    }

    if (strlen(node->value) != node->len) {
        return faas_fail(ctx, node, "contains a NUL character");
    }

    *out = faas_arena_strndup(ctx->pool, node->value, node->len);
    if (*out == NULL) {
        return faas_nomem(ctx, ctx->pool);
    }

    return FAAS_OK;
}


/* seconds, "30" or "0.5", into milliseconds; fractions of one round up */

int
faas_read_seconds(faas_ctx_t *ctx, faas_ynode_t *node, unsigned *ms)
{
    int          negative, digits, frac_digits, more;
    size_t       i;
    unsigned     frac;
    const char  *s;
    uint64_t     sec;
    char         got[FAAS_QUOTE_SIZE];

    if (faas_is_null(node)) {
        *ms = 0;
        return FAAS_OK;
    }

    if (node->type != FAAS_Y_SCALAR) {
        return faas_fail(ctx, node, "expected a number of seconds, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    s = node->value;
    faas_quote(s, node->len, got, sizeof(got));

    i = 0;
    negative = 0;

    if (i < node->len && (s[i] == '-' || s[i] == '+')) {
        negative = (s[i] == '-');
        i++;
    }

    sec = 0;
    digits = 0;

    while (i < node->len && s[i] >= '0' && s[i] <= '9') {
        if (sec <= FAAS_SECONDS_MAX) {
            sec = sec * 10 + (s[i] - '0');
        }

        digits++;
        i++;
    }

    frac = 0;
    frac_digits = 0;
    more = 0;

    if (i < node->len && s[i] == '.') {
        i++;

        while (i < node->len && s[i] >= '0' && s[i] <= '9') {
            if (frac_digits < 3) {
                frac = frac * 10 + (s[i] - '0');

            } else if (s[i] != '0') {
                more = 1;
            }

            frac_digits++;
            i++;
        }

        for (digits += frac_digits; frac_digits < 3; frac_digits++) {
            frac *= 10;
        }
    }

    if (digits == 0 || i != node->len) {
        return faas_fail(ctx, node, "expected a number of seconds, got %s",
                         got);
    }

    if (negative || (sec == 0 && frac == 0 && !more)) {
        return faas_fail(ctx, node, "must be more than 0 seconds, got %s",
                         got);
    }

    if (sec > FAAS_SECONDS_MAX
        || (sec == FAAS_SECONDS_MAX && (frac || more)))
    {
        return faas_fail(ctx, node, "must be at most %d seconds (a day), "
                         "got %s", FAAS_SECONDS_MAX, got);
    }

    *ms = (unsigned) (sec * 1000 + frac + more);

    return FAAS_OK;
}


int
faas_read_uint(faas_ctx_t *ctx, faas_ynode_t *node, unsigned min,
    unsigned max, unsigned *out)
{
    size_t       i;
    uint64_t     n;
    const char  *s;
    char         got[FAAS_QUOTE_SIZE];

    if (faas_is_null(node)) {
        *out = 0;
        return FAAS_OK;
    }

    if (node->type != FAAS_Y_SCALAR) {
        return faas_fail(ctx, node, "expected a positive integer, got %s",
                         faas_describe(node, got, sizeof(got)));
    }

    s = node->value;
    faas_quote(s, node->len, got, sizeof(got));

    i = (node->len && (s[0] == '+' || s[0] == '-')) ? 1 : 0;

    if (i == node->len) {
        return faas_fail(ctx, node, "expected a positive integer, got %s",
                         got);
    }

    for (n = 0; i < node->len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return faas_fail(ctx, node, "expected a positive integer, "
                             "got %s", got);
        }

        if (n <= max) {
            n = n * 10 + (s[i] - '0');
        }
    }

    if (s[0] == '-' || n < min || n > max) {
        return faas_fail(ctx, node, "must be from %u to %u, got %s",
                         min, max, got);
    }

    *out = (unsigned) n;

    return FAAS_OK;
}


/* YAML 1.2 core schema, which js-yaml follows */

int
faas_is_null(faas_ynode_t *node)
{
    const char  *s;

    if (node->type != FAAS_Y_SCALAR || !node->plain) {
        return 0;
    }

    s = node->value;

    return node->len == 0
           || (node->len == 1 && s[0] == '~')
           || (node->len == 4 && (strcmp(s, "null") == 0
                                  || strcmp(s, "Null") == 0
                                  || strcmp(s, "NULL") == 0));
}


int
faas_is_bool(faas_ynode_t *node, int *value)
{
    const char  *s;

    if (node->type != FAAS_Y_SCALAR || !node->plain) {
        return 0;
    }

    s = node->value;

    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0
        || strcmp(s, "TRUE") == 0)
    {
        *value = 1;
        return 1;
    }

    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0
        || strcmp(s, "FALSE") == 0)
    {
        *value = 0;
        return 1;
    }

    return 0;
}


int
faas_key_is(faas_ynode_t *key, const char *name)
{
    size_t  len;

    len = strlen(name);

    return key->len == len && memcmp(key->value, name, len) == 0;
}


const char *
faas_describe(faas_ynode_t *node, char *buf, size_t size)
{
    switch (node->type) {

    case FAAS_Y_MAPPING:
        return "a mapping";

    case FAAS_Y_SEQUENCE:
        return "a sequence";

    default:
        if (faas_is_null(node)) {
            return "an empty value";
        }

        faas_quote(node->value, node->len, buf, size);
        return buf;
    }
}


/* where a value is, "functions.hello.events[0].http", for messages */

size_t
faas_path_push(faas_ctx_t *ctx, const char *fmt, ...)
{
    int      n;
    size_t   saved;
    va_list  args;

    saved = ctx->path_len;

    va_start(args, fmt);
    n = vsnprintf(ctx->path + saved, sizeof(ctx->path) - saved, fmt, args);
    va_end(args);

    if (n > 0) {
        ctx->path_len += n;

        if (ctx->path_len >= sizeof(ctx->path)) {
            ctx->path_len = sizeof(ctx->path) - 1;
        }
    }

    return saved;
}


void
faas_path_key(faas_ctx_t *ctx, const char *s, size_t len)
{
    char  key[FAAS_QUOTE_SIZE];

    faas_quote_key(s, len, key);

    faas_path_push(ctx, "%s%s", ctx->path_len ? "." : "", key);
}


void
faas_path_pop(faas_ctx_t *ctx, size_t len)
{
    ctx->path_len = len;
    ctx->path[len] = '\0';
}


/*
 * A key read and not used: noted with its place, for a debug log, since
 * a misspelt key ("timout") would otherwise pass unseen.  "in_path" says
 * the path already ends with the key; "why", when set, is added.
 */

void
faas_ignored(faas_ctx_t *ctx, faas_ynode_t *key, int in_path,
    const char *why)
{
    int      n;
    char    *note;
    size_t   kp;
    char     buf[512];

    if (ctx->nnotes == FAAS_MANIFEST_NOTES_MAX) {
        return;
    }

    if (ctx->notes == NULL) {
        ctx->notes = faas_arena_alloc(ctx->pool,
                                      FAAS_MANIFEST_NOTES_MAX
                                      * sizeof(char *));
        if (ctx->notes == NULL) {
            return;
        }
    }

    kp = ctx->path_len;

    if (!in_path) {
        faas_path_key(ctx, key->value, key->len);
    }

    n = snprintf(buf, sizeof(buf), "%s:%u:%u: %s is ignored%s%s",
                 ctx->file, key->line, key->column, ctx->path,
                 why ? ": " : "", why ? why : "");

    faas_path_pop(ctx, kp);

    if (n < 0) {
        return;
    }

    note = faas_arena_strndup(ctx->pool, buf, strlen(buf));
    if (note) {
        ctx->notes[ctx->nnotes++] = note;
    }
}


int
faas_fail(faas_ctx_t *ctx, faas_ynode_t *node, const char *fmt, ...)
{
    va_list  args;
    char     msg[256];

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    faas_error_set(ctx->err, ctx->file, node->line, node->column, "%s%s%s",
                   ctx->path, ctx->path_len ? ": " : "", msg);

    return FAAS_ERROR;
}


int
faas_nomem(faas_ctx_t *ctx, faas_arena_t *a)
{
    if (a && a->over) {
        faas_error_set(ctx->err, ctx->file, 0, 0,
                       "needs more than %d MiB of memory to be read",
                       FAAS_ARENA_MAX / (1024 * 1024));

    } else {
        faas_error_set(ctx->err, ctx->file, 0, 0, "out of memory");
    }

    return FAAS_ERROR;
}
