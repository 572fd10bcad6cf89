/*
 * Copyright (C) ngx_faas authors
 *
 * Unit tests of what lives in Redis besides the table's JSON: the key
 * prefix and key names, a version's start failure, Redis URLs.
 */


#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faas_redis.h"
#include "faas_table.h"
#include "unit.h"


static void test_prefix(void);
static void test_keys(void);
static void test_failure(void);
static const char *test_url_error(const char *url);
static void test_urls(void);
static void test_url_errors(void);


static faas_error_t  err;


static void
test_prefix(void)
{
    CHECK(faas_redis_prefix_valid("faas", 4));
    CHECK(faas_redis_prefix_valid("env:prod.eu-1_a", 15));
    CHECK(!faas_redis_prefix_valid("", 0));
    CHECK(!faas_redis_prefix_valid("a b", 3));
    CHECK(!faas_redis_prefix_valid("a*", 2));
    CHECK(faas_redis_prefix_valid(
        "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp",
        64));
    CHECK(!faas_redis_prefix_valid(
        "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp",
        65));
}


static void
test_keys(void)
{
    char    buf[FAAS_KEY_MAX], small[12];
    char    prefix[FAAS_REDIS_PREFIX_MAX + 1], fn[FAAS_FUNCTION_NAME_MAX + 1];
    char    v[FAAS_VERSION_NAME_MAX + 1];
    size_t  n;

    n = faas_key_generation(buf, sizeof(buf), "faas");
    CHECK_MEM(buf, n, "faas:generation");

    n = faas_key_epoch(buf, sizeof(buf), "faas");
    CHECK_MEM(buf, n, "faas:epoch");

    n = faas_key_table(buf, sizeof(buf), "faas", 12);
    CHECK_MEM(buf, n, "faas:table:12");

    n = faas_key_table(buf, sizeof(buf), "p", UINT64_MAX);
    CHECK_MEM(buf, n, "p:table:18446744073709551615");

    n = faas_key_version(buf, sizeof(buf), "faas", "hello", "v3");
    CHECK_MEM(buf, n, "faas:version:hello:v3");

    n = faas_key_versions(buf, sizeof(buf), "faas", "hello");
    CHECK_MEM(buf, n, "faas:versions:hello");

    n = faas_key_seq(buf, sizeof(buf), "faas", "hello");
    CHECK_MEM(buf, n, "faas:seq:hello");

    n = faas_key_endpoints(buf, sizeof(buf), "env:prod", "hello", "v3");
    CHECK_MEM(buf, n, "env:prod:endpoints:hello:v3");

    n = faas_key_events(buf, sizeof(buf), "faas");
    CHECK_MEM(buf, n, "faas:events");

    /* overflow: 0, and an empty string */

    CHECK_INT(faas_key_events(small, sizeof(small), "faas"), 11);
    CHECK_INT(faas_key_generation(small, sizeof(small), "faas"), 0);
    CHECK_STR(small, "");
    CHECK_INT(faas_key_events(small, 11, "faas"), 0);
    CHECK_INT(faas_key_table(small, sizeof(small), "faas", 12345), 0);
    CHECK_INT(faas_key_version(small, sizeof(small), "faas", "f", "v"), 0);
    CHECK_INT(faas_key_events(small, 0, "faas"), 0);
    CHECK_INT(faas_key_events(NULL, 10, "faas"), 0);
    CHECK_INT(faas_key_events(buf, sizeof(buf), NULL), 0);
    CHECK_INT(faas_key_version(buf, sizeof(buf), "faas", NULL, "v"), 0);
    CHECK_INT(faas_key_endpoints(buf, sizeof(buf), "faas", "f", NULL), 0);

    /* the longest names fit FAAS_KEY_MAX */

    memset(prefix, 'p', sizeof(prefix) - 1);
    prefix[sizeof(prefix) - 1] = '\0';
    memset(fn, 'f', sizeof(fn) - 1);
    fn[sizeof(fn) - 1] = '\0';
    memset(v, 'v', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';

    CHECK_INT(faas_key_endpoints(buf, sizeof(buf), prefix, fn, v),
              64 + 11 + 64 + 1 + 32);
    CHECK_INT(faas_key_version(buf, sizeof(buf), prefix, fn, v),
              64 + 9 + 64 + 1 + 32);
    CHECK_INT(faas_key_failure(buf, sizeof(buf), prefix, fn, v),
              64 + 9 + 64 + 1 + 32);

    n = faas_key_failure(buf, sizeof(buf), "faas", "hello", "v3");
    CHECK_MEM(buf, n, "faas:failure:hello:v3");
    CHECK_INT(faas_key_failure(buf, sizeof(buf), "faas", "f", NULL), 0);
}


/* a start failure: the log's bounds, the value, and a hostile value */

static void
test_failure(void)
{
    char            *json, line[FAAS_FAILURE_LOG_MAX * 2], big[40000];
    size_t           len, i, lines;
    faas_error_t     err;
    faas_failure_t   f, g;

    memset(&f, 0, sizeof(faas_failure_t));
    len = 0;

    faas_failure_log_append(f.log, &len, "one", 3);
    faas_failure_log_append(f.log, &len, "two", 3);
    CHECK_STR(f.log, "one\ntwo\n");
    CHECK_INT(len, 8);

    /* at most FAAS_FAILURE_LOG_LINES lines: the oldest go */

    for (i = 0; i < 30; i++) {
        snprintf(line, sizeof(line), "line %zu", i);
        faas_failure_log_append(f.log, &len, line, strlen(line));
    }

    for (lines = 0, i = 0; i < len; i++) {
        lines += f.log[i] == '\n';
    }

    CHECK_INT(lines, FAAS_FAILURE_LOG_LINES);
    CHECK(strncmp(f.log, "line 10\n", 8) == 0);
    CHECK(strstr(f.log, "line 29\n") != NULL);
    CHECK_INT(strlen(f.log), len);

    /* at most FAAS_FAILURE_LOG_MAX bytes; an over-long line keeps its start */

    memset(line, 'x', sizeof(line));
    line[0] = 'A';
    faas_failure_log_append(f.log, &len, line, 1000);
    faas_failure_log_append(f.log, &len, line, 1000);
    faas_failure_log_append(f.log, &len, line, 1000);
    CHECK(len <= FAAS_FAILURE_LOG_MAX);
    CHECK(f.log[0] == 'A');
    CHECK_INT(strlen(f.log), len);

    faas_failure_log_append(f.log, &len, line, sizeof(line));
    CHECK_INT(len, FAAS_FAILURE_LOG_MAX);
    CHECK(f.log[0] == 'A' && f.log[len - 1] == '\n');

    /* there and back */

    memset(&f, 0, sizeof(faas_failure_t));
    len = 0;
    f.at = 1700000000123ULL;
    f.slot = 1;
    snprintf(f.why, sizeof(f.why), "exited with code 1");
    faas_failure_log_append(f.log, &len, "SyntaxError: Unexpected token '}'",
                            33);

    json = faas_failure_encode(&f);
    CHECK(json != NULL);

    if (json) {
        CHECK_INT(faas_failure_parse("k", json, strlen(json), &g, &err),
                  FAAS_OK);
        CHECK(g.at == f.at);
        CHECK_INT(g.slot, 1);
        CHECK_STR(g.why, "exited with code 1");
        CHECK_STR(g.log, "SyntaxError: Unexpected token '}'\n");
        free(json);
    }

    /* what anyone could have written there */

#define BAD(text, want)                                                      \
    CHECK_INT(faas_failure_parse("faas:failure:f:v1", text, strlen(text),    \
                                 &g, &err), FAAS_ERROR);                     \
    CHECK(strstr(err.msg, want) != NULL);                                    \
    CHECK_STR(err.file, "faas:failure:f:v1")

    BAD("", "expected a JSON object");
    BAD("[1]", "expected a JSON object");
    BAD("{\"why\": 5}", "\"why\": expected a string");
    BAD("{\"log\": \"x\"}", "\"why\": expected a string");
    BAD("{\"why\": \"x\", \"log\": {}}", "\"log\": expected a string");

    snprintf(big, sizeof(big), "{\"why\": \"%0*d\"}",
             FAAS_FAILURE_WHY_MAX + 1, 0);
    BAD(big, "\"why\": too long");

    snprintf(big, sizeof(big), "{\"why\": \"x\", \"log\": \"%0*d\"}",
             FAAS_FAILURE_LOG_MAX + 1, 0);
    BAD(big, "\"log\": too long");

    memset(big, ' ', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "{\"why\": \"x\"}", 12);
    BAD(big, "longer than");

#undef BAD

    /* terminal sequences do not reach a terminal */

    json = "{\"why\": \"a\\u001b[2Jb\\nc\", \"log\": "
           "\"x\\u001b]0;t\\u0007\\ny\\tz\\n\", \"at\": -5, \"slot\": 99}";
    CHECK_INT(faas_failure_parse("k", json, strlen(json), &g, &err), FAAS_OK);
    CHECK_STR(g.why, "a?[2Jb?c");
    CHECK_STR(g.log, "x?]0;t?\ny?z\n");
    CHECK(g.at == 0);
    CHECK_INT(g.slot, 0);
}


static const char *
test_url_error(const char *url)
{
    faas_redis_url_t  u;
    static char       buf[512];

    memset(&err, 0, sizeof(err));

    if (faas_redis_url_parse(url, &u, &err) == FAAS_OK) {
        faas_redis_url_free(&u);
        return "(parsed)";
    }

    if (u.host || u.path || u.user || u.password || u.safe) {
        return "(an error left memory)";
    }

    faas_error_format(&err, buf, sizeof(buf));

    return buf;
}


static void
test_urls(void)
{
    faas_redis_url_t  u;

    memset(&u, 0, sizeof(u));
    faas_redis_url_free(&u);
    faas_redis_url_free(NULL);

    CHECK(faas_redis_url_parse("redis://localhost", &u, &err) == FAAS_OK);
    CHECK_STR(u.host, "localhost");
    CHECK_INT(u.port, 6379);
    CHECK(u.path == NULL && u.user == NULL && u.password == NULL);
    CHECK_INT(u.db, 0);
    CHECK_STR(u.safe, "redis://localhost");
    faas_redis_url_free(&u);
    CHECK(u.host == NULL && u.safe == NULL);

    CHECK(faas_redis_url_parse("redis://127.0.0.1:6380/3", &u, &err)
          == FAAS_OK);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 6380);
    CHECK_INT(u.db, 3);
    CHECK_STR(u.safe, "redis://127.0.0.1:6380/3");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("redis://h/", &u, &err) == FAAS_OK);
    CHECK_INT(u.db, 0);
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("redis://alice:s3cret@redis.example:7000/15",
                               &u, &err)
          == FAAS_OK);
    CHECK_STR(u.host, "redis.example");
    CHECK_INT(u.port, 7000);
    CHECK_STR(u.user, "alice");
    CHECK_STR(u.password, "s3cret");
    CHECK_INT(u.db, 15);
    CHECK_STR(u.safe, "redis://alice:***@redis.example:7000/15");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("redis://:pw@h", &u, &err) == FAAS_OK);
    CHECK(u.user == NULL);
    CHECK_STR(u.password, "pw");
    CHECK_STR(u.safe, "redis://:***@h");
    faas_redis_url_free(&u);

    /* percent-encoding; an unescaped "@" or "/" in a password */

    CHECK(faas_redis_url_parse("redis://us%40er:p%3A%2F%25w@h:1/2", &u, &err)
          == FAAS_OK);
    CHECK_STR(u.user, "us@er");
    CHECK_STR(u.password, "p:/%w");
    CHECK_STR(u.safe, "redis://us%40er:***@h:1/2");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("redis://:a@b/c?d@h:1/2", &u, &err)
          == FAAS_OK);
    CHECK_STR(u.password, "a@b/c?d");
    CHECK_STR(u.host, "h");
    CHECK_STR(u.safe, "redis://:***@h:1/2");
    faas_redis_url_free(&u);

    /* an empty password is none */

    CHECK(faas_redis_url_parse("redis://:@h", &u, &err) == FAAS_OK);
    CHECK(u.password == NULL && u.user == NULL);
    CHECK_STR(u.safe, "redis://:@h");
    faas_redis_url_free(&u);

    /* IPv6 */

    CHECK(faas_redis_url_parse("redis://[::1]:6379/1", &u, &err) == FAAS_OK);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 6379);
    CHECK_INT(u.db, 1);
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("redis://[fe80::1:2]", &u, &err) == FAAS_OK);
    CHECK_STR(u.host, "fe80::1:2");
    CHECK_INT(u.port, 6379);
    faas_redis_url_free(&u);

    /* Unix sockets */

    CHECK(faas_redis_url_parse("unix:///run/redis/redis.sock", &u, &err)
          == FAAS_OK);
    CHECK(u.host == NULL);
    CHECK_STR(u.path, "/run/redis/redis.sock");
    CHECK_INT(u.db, 0);
    CHECK_STR(u.safe, "unix:///run/redis/redis.sock");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("unix:/tmp/r.sock?db=4", &u, &err)
          == FAAS_OK);
    CHECK_STR(u.path, "/tmp/r.sock");
    CHECK_INT(u.db, 4);
    CHECK_STR(u.safe, "unix:/tmp/r.sock?db=4");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("unix:///tmp/my%20r.sock?db=2&password=p%26w"
                               "&user=bob", &u, &err)
          == FAAS_OK);
    CHECK_STR(u.path, "/tmp/my r.sock");
    CHECK_INT(u.db, 2);
    CHECK_STR(u.user, "bob");
    CHECK_STR(u.password, "p&w");
    CHECK_STR(u.safe, "unix:///tmp/my%20r.sock?db=2&password=***&user=bob");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("unix://bob:pw@/tmp/r.sock?db=1", &u, &err)
          == FAAS_OK);
    CHECK_STR(u.path, "/tmp/r.sock");
    CHECK_STR(u.user, "bob");
    CHECK_STR(u.password, "pw");
    CHECK_INT(u.db, 1);
    CHECK_STR(u.safe, "unix://bob:***@/tmp/r.sock?db=1");
    faas_redis_url_free(&u);

    CHECK(faas_redis_url_parse("unix://:pw@/tmp/r.sock", &u, &err)
          == FAAS_OK);
    CHECK(u.user == NULL);
    CHECK_STR(u.password, "pw");
    CHECK_STR(u.safe, "unix://:***@/tmp/r.sock");
    faas_redis_url_free(&u);
}


static void
test_url_errors(void)
{
    size_t       i;
    const char  *msg;

    static const struct {
        const char  *url;
        const char  *msg;
    } bad[] = {
        { "", "invalid Redis URL: it is empty" },
        { "localhost:6379", "invalid Redis URL: expected "
          "redis://[user:password@]host[:port][/db] or "
          "unix:///path/to/redis.sock[?db=N]" },
        { "http://h", "invalid Redis URL: expected "
          "redis://[user:password@]host[:port][/db] or "
          "unix:///path/to/redis.sock[?db=N]" },
        { "rediss://h", "invalid Redis URL: TLS (rediss://) is not "
          "supported" },
        { "redis://", "invalid Redis URL: no host" },
        { "redis://:6379", "invalid Redis URL: no host" },
        { "redis://:secret@", "invalid Redis URL: no host" },
        { "redis://h:0", "invalid Redis URL: the port must be a number "
          "from 1 to 65535" },
        { "redis://h:65536", "invalid Redis URL: the port must be a number "
          "from 1 to 65535" },
        { "redis://h:", "invalid Redis URL: the port must be a number "
          "from 1 to 65535" },
        { "redis://h:-1", "invalid Redis URL: the port must be a number "
          "from 1 to 65535" },
        { "redis://h:99999999999999999999", "invalid Redis URL: the port "
          "must be a number from 1 to 65535" },
        { "redis://h/1001", "invalid Redis URL: the database must be a "
          "number from 0 to 1000, as in redis://host:6379/0" },
        { "redis://h/x", "invalid Redis URL: the database must be a "
          "number from 0 to 1000, as in redis://host:6379/0" },
        { "redis://h/1/2", "invalid Redis URL: the database must be a "
          "number from 0 to 1000, as in redis://host:6379/0" },
        { "redis://h?db=1", "invalid Redis URL: a redis:// URL takes no "
          "query or fragment; the database goes as \"/N\"" },
        { "redis://h x", "invalid Redis URL: invalid host; expected a name, "
          "an IPv4 address or an IPv6 address in brackets" },
        { "redis://[::1", "invalid Redis URL: invalid host; expected a "
          "name, an IPv4 address or an IPv6 address in brackets" },
        { "redis://[]:1", "invalid Redis URL: invalid host; expected a "
          "name, an IPv4 address or an IPv6 address in brackets" },
        { "redis://[::1]x", "invalid Redis URL: invalid host; expected a "
          "name, an IPv4 address or an IPv6 address in brackets" },
        { "redis://secretpass@h", "invalid Redis URL: a user without a "
          "password; write user:password@, or :password@ for a password "
          "alone" },
        { "redis://u:@h", "invalid Redis URL: a user without a "
          "password; write user:password@, or :password@ for a password "
          "alone" },
        { "redis://:secret%zz@h", "invalid Redis URL: invalid "
          "percent-encoding in the password" },
        { "redis://:secret%2@h", "invalid Redis URL: invalid "
          "percent-encoding in the password" },
        { "redis://:secret%00x@h", "invalid Redis URL: invalid "
          "percent-encoding in the password" },
        { "redis://u%:secret@h", "invalid Redis URL: invalid "
          "percent-encoding in the user" },
        { "unix://", "invalid Redis URL: expected "
          "unix:///path/to/redis.sock" },
        { "unix://redis.sock", "invalid Redis URL: expected "
          "unix:///path/to/redis.sock" },
        { "unix:redis.sock", "invalid Redis URL: the socket path must be "
          "absolute, as in unix:///run/redis/redis.sock" },
        { "unix:///", "invalid Redis URL: expected the path of a socket "
          "file" },
        { "unix:///tmp/", "invalid Redis URL: expected the path of a socket "
          "file" },
        { "unix:///tmp/a%zz", "invalid Redis URL: invalid percent-encoding "
          "in the socket path" },
        { "unix:///tmp/r.sock#x", "invalid Redis URL: a fragment (\"#\") is "
          "not allowed" },
        { "unix:///tmp/r.sock?db=x", "invalid Redis URL: the database must "
          "be a number from 0 to 1000, as in ?db=0" },
        { "unix:///tmp/r.sock?secret", "invalid Redis URL: unknown "
          "parameter; a unix: URL takes db=, user= and password=" },
        { "unix:///tmp/r.sock?password=secret&password=secret2",
          "invalid Redis URL: the password is given twice" },
        { "unix://:secret@/tmp/r.sock?password=secret2",
          "invalid Redis URL: the password is given twice" },
        { "unix:///tmp/r.sock?user=bob", "invalid Redis URL: a user without "
          "a password; write user:password@, or :password@ for a password "
          "alone" },
        { "unix:///tmp/r.sock?password=%g0secret", "invalid Redis URL: "
          "invalid percent-encoding in the password" },
        { "unix:///aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "invalid Redis URL: the socket path is longer than 107 bytes" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg = test_url_error(bad[i].url);

        if (strcmp(msg, bad[i].msg) != 0) {
            fprintf(stderr, "url \"%s\": got \"%s\"\n", bad[i].url, msg);
        }

        CHECK_STR(msg, bad[i].msg);

        /* no message ever holds a password */

        CHECK(strstr(msg, "secret") == NULL);
    }

    CHECK_STR(test_url_error(NULL), "invalid Redis URL: it is empty");

    {
        char  *longurl;

        longurl = malloc(5000);
        CHECK(longurl != NULL);

        if (longurl) {
            memcpy(longurl, "redis://", 8);
            memset(longurl + 8, 'h', 5000 - 9);
            longurl[4999] = '\0';
            CHECK_STR(test_url_error(longurl),
                      "invalid Redis URL: longer than 4096 bytes");

            longurl[300] = '\0';
            CHECK_STR(test_url_error(longurl),
                      "invalid Redis URL: invalid host; expected a name, an "
                      "IPv4 address or an IPv6 address in brackets");
            free(longurl);
        }
    }
}


int
main(void)
{
    test_prefix();
    test_keys();
    test_failure();
    test_urls();
    test_url_errors();

    return unit_done("test_redis");
}
