/*
 * Copyright (C) ngx_faas authors
 *
 * faasctl: options, usage, dispatch and shared helpers.
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "faasctl.h"


typedef int (*faasctl_cmd_pt)(faasctl_t *ctl, int argc, char **argv);

typedef struct {
    const char       *name;
    faasctl_cmd_pt    handler;
    const char       *synopsis;
    const char       *help;
} faasctl_cmd_t;


static int faasctl_options(faasctl_t *ctl, int argc, char **argv,
    int *nargs, char **args);
static int faasctl_options_check(int nargs, char **args,
    const char *deploy, const char *wait, const char *release);
static const faasctl_cmd_t *faasctl_command_find(const char *name);
static void faasctl_usage(FILE *f);
static int faasctl_help(int argc, char **argv);


static const faasctl_cmd_t  faasctl_commands[] = {

    { "deploy", faasctl_deploy,
      "deploy DIR [--stage] [--store DIR] [--wait SECONDS | --no-wait]",
      "Deploys the functions of DIR/f.yml, checked by the same code as in\n"
      "nginx and faasd: each gets a new version (v1, v2...) and a copy of\n"
      "DIR in STORE/FUNCTION/VERSION/.  Two generations of the table are\n"
      "written: the first adds the version, so that supervisors start its\n"
      "workers; the second, once they are ready, makes it active with the\n"
      "manifest's routes and drops the version it replaces, and the\n"
      "versions and the policy of a gray release.  Prints\n"
      "\"FUNCTION VERSION\" per function.\n"
      "\n"
      "  --stage          only warm the new version up beside the others (a\n"
      "                   pre-release): active version, routes and policy\n"
      "                   do not change\n"
      "  --store DIR      where code is kept (default $FAAS_STORE, else\n"
      "                   " FAASCTL_STORE_DEFAULT ")\n"
      "  --wait SECONDS   how long workers may take to be ready "
      "(default 30)\n"
      "  --no-wait        activate at once, without waiting for workers\n" },

    { "release", faasctl_release,
      "release FUNCTION [--weights V=PCT,...] [--sticky KEY] "
      "[--rule RULE]...",
      "Gives a function a release policy (gray release): the rules, in\n"
      "order, then the weights.  Versions named that are not kept warm are\n"
      "loaded from their records and warmed up first.  The active version\n"
      "and the routes do not change.\n"
      "\n"
      "  --weights V=PCT,...  e.g. v1=90,v2=10: percentages with up to two\n"
      "                       decimals (0.01), summing to 100\n"
      "  --sticky KEY         header:NAME, cookie:NAME, query:NAME or addr:\n"
      "                       the same key always gets the same version\n"
      "  --rule RULE          SOURCE:NAME=VALUE -> TARGET (exact),\n"
      "                       SOURCE:NAME~REGEX -> TARGET (POSIX ERE),\n"
      "                       SOURCE:NAME -> TARGET (present), or\n"
      "                       addr:CIDR -> TARGET; SOURCE is header, cookie\n"
      "                       or query; TARGET a version or V=PCT,...\n"
      "  --wait SECONDS, --no-wait  as for deploy\n" },

    { "promote", faasctl_promote, "promote FUNCTION VERSION",
      "Sends all the traffic to VERSION: it becomes active with the routes\n"
      "of its record, the policy goes, the other versions leave (their\n"
      "workers drain).  VERSION is warmed up first if it is not warm.\n"
      "\n"
      "  --wait SECONDS, --no-wait  as for deploy\n" },

    { "rollback", faasctl_rollback, "rollback FUNCTION",
      "Undoes the last change to a function (deploy, release, promote, rm):\n"
      "its entry goes back to what it was, from P:history:FN, versions\n"
      "warmed up again if needed.  Again to go further back.\n"
      "\n"
      "  --wait SECONDS, --no-wait  as for deploy\n" },

    { "history", faasctl_history, "history FUNCTION",
      "Lists the changes to a function that rollback can undo, newest\n"
      "first: when, and what.\n" },

    { "status", faasctl_status, "status FUNCTION",
      "Shows a function's release: the active version, the versions kept\n"
      "warm with their live endpoints, and the policy (rules in order,\n"
      "weights, sticky key).\n" },

    { "ls", faasctl_ls, "ls",
      "Lists the functions of the table in force: name, active version,\n"
      "number of routes and the versions kept warm.\n" },

    { "routes", faasctl_routes, "routes",
      "Lists every route of the table in force, sorted by path:\n"
      "METHODS PATH -> FUNCTION.\n" },

    { "show", faasctl_show, "show FUNCTION",
      "Shows a function: its table entry and routes, each version kept\n"
      "warm with its settings and live endpoints, and the history of its\n"
      "deployed versions.\n" },

    { "rm", faasctl_rm, "rm FUNCTION",
      "Removes a function from the table: a new generation without it.\n"
      "Its deployed versions and code are kept.\n" },

    { "gen", faasctl_gen, "gen",
      "Prints the generation in force (0 for an empty Redis).\n" },

    { NULL, NULL, NULL, NULL }
};


int
main(int argc, char **argv)
{
    int                     rc, nargs;
    char                  **args;
    faasctl_t               ctl;
    faas_error_t            err;
    const faasctl_cmd_t    *cmd;

    memset(&ctl, 0, sizeof(faasctl_t));

    ctl.url = getenv("FAAS_REDIS");
    if (ctl.url == NULL || ctl.url[0] == '\0') {
        ctl.url = FAASCTL_REDIS_DEFAULT;
    }

    ctl.prefix = getenv("FAAS_PREFIX");
    if (ctl.prefix == NULL || ctl.prefix[0] == '\0') {
        ctl.prefix = FAAS_REDIS_PREFIX;
    }

    ctl.store = getenv("FAAS_STORE");
    if (ctl.store == NULL || ctl.store[0] == '\0') {
        ctl.store = FAASCTL_STORE_DEFAULT;
    }

    ctl.wait = FAASCTL_WAIT_DEFAULT;

    args = calloc(argc + 1, sizeof(char *));
    ctl.rules = calloc(argc + 1, sizeof(char *));

    if (args == NULL || ctl.rules == NULL) {
        faasctl_error("out of memory");
        free(args);
        free(ctl.rules);
        return 1;
    }

    rc = faasctl_options(&ctl, argc, argv, &nargs, args);
    if (rc != -1) {
        goto done;
    }

    if (nargs == 0) {
        faasctl_usage_error("no command");
        rc = 2;
        goto done;
    }

    if (strcmp(args[0], "help") == 0) {
        rc = faasctl_help(nargs - 1, args + 1);
        goto done;
    }

    cmd = faasctl_command_find(args[0]);
    if (cmd == NULL) {
        faasctl_usage_error("unknown command \"%s\"", args[0]);
        rc = 2;
        goto done;
    }

    if (!faas_redis_prefix_valid(ctl.prefix, strlen(ctl.prefix))) {
        faasctl_error("invalid prefix \"%s\": 1 to %d of A-Z a-z 0-9 . _ : -",
                      ctl.prefix, FAAS_REDIS_PREFIX_MAX);
        rc = 1;
        goto done;
    }

    if (faas_redis_url_parse(ctl.url, &ctl.redis, &err) != FAAS_OK) {
        faasctl_error_engine(&err);
        rc = 1;
        goto done;
    }

    rc = cmd->handler(&ctl, nargs - 1, args + 1);

    faasctl_disconnect(&ctl);
    faas_redis_url_free(&ctl.redis);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        faasctl_error("cannot write the output: %s", strerror(errno));
        rc = 1;
    }

done:

    free(args);
    free(ctl.rules);

    return rc;
}


/*
 * Global options may come before or after the command, as may deploy's;
 * "--" ends the options.  Returns -1 to go on, else an exit status.
 */

enum {
    FAASCTL_OPT_JSON = 256,
    FAASCTL_OPT_NO_WAIT,
    FAASCTL_OPT_STAGE,
    FAASCTL_OPT_REDIS,
    FAASCTL_OPT_PREFIX,
    FAASCTL_OPT_STORE,
    FAASCTL_OPT_WAIT,
    FAASCTL_OPT_WEIGHTS,
    FAASCTL_OPT_STICKY,
    FAASCTL_OPT_RULE
};


static const struct option  faasctl_long_options[] = {
    { "help",     no_argument,       NULL, 'h' },
    { "json",     no_argument,       NULL, FAASCTL_OPT_JSON },
    { "no-wait",  no_argument,       NULL, FAASCTL_OPT_NO_WAIT },
    { "stage",    no_argument,       NULL, FAASCTL_OPT_STAGE },
    { "redis",    required_argument, NULL, FAASCTL_OPT_REDIS },
    { "prefix",   required_argument, NULL, FAASCTL_OPT_PREFIX },
    { "store",    required_argument, NULL, FAASCTL_OPT_STORE },
    { "wait",     required_argument, NULL, FAASCTL_OPT_WAIT },
    { "weights",  required_argument, NULL, FAASCTL_OPT_WEIGHTS },
    { "sticky",   required_argument, NULL, FAASCTL_OPT_STICKY },
    { "rule",     required_argument, NULL, FAASCTL_OPT_RULE },
    { NULL, 0, NULL, 0 }
};


static int
faasctl_options(faasctl_t *ctl, int argc, char **argv, int *nargs,
    char **args)
{
    int           c, n;
    char         *end;
    double        w;
    const char   *deploy, *wait, *release;

    deploy = NULL;
    wait = NULL;
    release = NULL;

    /* our own messages: ':' reports a missing value apart */
    opterr = 0;
    optind = 1;

    for ( ;; ) {
        c = getopt_long(argc, argv, ":h", faasctl_long_options, NULL);

        switch (c) {

        case -1:
            goto done;

        case 'h':
            faasctl_usage(stdout);
            return 0;

        case FAASCTL_OPT_JSON:
            ctl->json = 1;
            break;

        case FAASCTL_OPT_NO_WAIT:
            ctl->wait = -1;
            wait = wait ? wait : "--no-wait";
            break;

        case FAASCTL_OPT_STAGE:
            ctl->stage = 1;
            deploy = deploy ? deploy : "--stage";
            break;

        case FAASCTL_OPT_REDIS:
            ctl->url = optarg;
            break;

        case FAASCTL_OPT_PREFIX:
            ctl->prefix = optarg;
            break;

        case FAASCTL_OPT_STORE:
            if (optarg[0] == '\0') {
                faasctl_usage_error("--store: empty directory name");
                return 2;
            }

            ctl->store = optarg;
            deploy = deploy ? deploy : "--store";
            break;

        case FAASCTL_OPT_WAIT:
            errno = 0;
            w = strtod(optarg, &end);

            if (optarg[0] == '\0' || *end != '\0' || errno != 0 || isnan(w)
                || w < 0 || w > 86400)
            {
                faasctl_usage_error("--wait: invalid number of seconds "
                                    "\"%s\" (0 to 86400)", optarg);
                return 2;
            }

            ctl->wait = w;
            wait = wait ? wait : "--wait";
            break;

        case FAASCTL_OPT_WEIGHTS:
            if (ctl->weights) {
                faasctl_usage_error("--weights given twice");
                return 2;
            }

            ctl->weights = optarg;
            release = release ? release : "--weights";
            break;

        case FAASCTL_OPT_STICKY:
            if (ctl->sticky) {
                faasctl_usage_error("--sticky given twice");
                return 2;
            }

            ctl->sticky = optarg;
            release = release ? release : "--sticky";
            break;

        case FAASCTL_OPT_RULE:
            ctl->rules[ctl->nrules++] = optarg;
            release = release ? release : "--rule";
            break;

        case ':':
            faasctl_usage_error("option %s needs a value", argv[optind - 1]);
            return 2;

        default:
            faasctl_usage_error("unknown option \"%s\"", argv[optind - 1]);
            return 2;
        }
    }

done:

    /* getopt_long() has moved the arguments that are not options last */

    for (n = 0; optind + n < argc; n++) {
        args[n] = argv[optind + n];
    }

    *nargs = n;

    return faasctl_options_check(n, args, deploy, wait, release);
}


/* a command's options given to another command: the first one named */

static int
faasctl_options_check(int nargs, char **args, const char *deploy,
    const char *wait, const char *release)
{
    const char  *cmd;

    cmd = nargs ? args[0] : "";

    if (strcmp(cmd, "help") == 0) {
        return -1;
    }

    if (deploy && strcmp(cmd, "deploy") != 0) {
        faasctl_usage_error("%s applies to deploy only", deploy);
        return 2;
    }

    if (wait
        && strcmp(cmd, "deploy") != 0 && strcmp(cmd, "release") != 0
        && strcmp(cmd, "promote") != 0 && strcmp(cmd, "rollback") != 0)
    {
        faasctl_usage_error("%s applies to deploy, release, promote and "
                            "rollback only", wait);
        return 2;
    }

    if (release && strcmp(cmd, "release") != 0) {
        faasctl_usage_error("%s applies to release only", release);
        return 2;
    }

    return -1;
}


static const faasctl_cmd_t *
faasctl_command_find(const char *name)
{
    const faasctl_cmd_t  *c;

    for (c = faasctl_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }

    return NULL;
}


static void
faasctl_usage(FILE *f)
{
    const faasctl_cmd_t  *c;

    fprintf(f,
        "usage: faasctl [--redis URL] [--prefix P] [--json] COMMAND [ARGS]\n"
        "\n"
        "commands:\n");

    for (c = faasctl_commands; c->name; c++) {
        fprintf(f, "  %s\n", c->synopsis);
    }

    fprintf(f,
        "  help [COMMAND]\n"
        "\n"
        "options:\n"
        "  --redis URL   redis://[user:password@]host[:port][/db] or\n"
        "                unix:///path[?db=N] (default $FAAS_REDIS, else\n"
        "                " FAASCTL_REDIS_DEFAULT ")\n"
        "  --prefix P    key prefix (default $FAAS_PREFIX, else "
        FAAS_REDIS_PREFIX ")\n"
        "  --json        print JSON\n"
        "  -h, --help    this help\n"
        "\n"
        "Exit status: 0 done, 1 failed (one line \"faasctl: ...\" on "
        "stderr),\n"
        "2 usage error.  See docs/faasctl.md.\n");
}


static int
faasctl_help(int argc, char **argv)
{
    const faasctl_cmd_t  *c;

    if (argc == 0) {
        faasctl_usage(stdout);
        return 0;
    }

    if (argc > 1) {
        faasctl_usage_error("help takes one command");
        return 2;
    }

    c = faasctl_command_find(argv[0]);
    if (c == NULL) {
        faasctl_usage_error("unknown command \"%s\"", argv[0]);
        return 2;
    }

    printf("usage: faasctl [--redis URL] [--prefix P] [--json] %s\n\n%s",
           c->synopsis, c->help);

    return 0;
}


void
faasctl_error(const char *fmt, ...)
{
    va_list  args;

    fflush(stdout);

    fputs("faasctl: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
}


void
faasctl_error_engine(const faas_error_t *err)
{
    char  buf[1024];

    faas_error_format(err, buf, sizeof(buf));
    faasctl_error("%s", buf);
}


void
faasctl_usage_error(const char *fmt, ...)
{
    va_list  args;

    fputs("faasctl: ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputs("\n\n", stderr);

    faasctl_usage(stderr);
}


/* endpoint scores and deploy times are wall clock, as faasd writes them */

uint64_t
faasctl_now_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


uint64_t
faasctl_monotonic_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* "GET,POST": shorter than faas_methods_format()'s, for one line a route */

const char *
faasctl_methods(unsigned methods, char *buf, size_t size)
{
    size_t    len, n;
    unsigned  bit;

    len = 0;
    buf[0] = '\0';

    for (bit = FAAS_METHOD_GET; bit <= FAAS_METHOD_OPTIONS; bit <<= 1) {
        if (!(methods & bit)) {
            continue;
        }

        n = snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                     faas_method_name(bit));
        if (n >= size - len) {
            break;
        }

        len += n;
    }

    return buf;
}


/* prints a cJSON document on one line and frees it */

int
faasctl_json_print(void *json)
{
    char  *s;

    if (json == NULL) {
        faasctl_error("out of memory");
        return 1;
    }

    s = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);

    if (s == NULL) {
        faasctl_error("out of memory");
        return 1;
    }

    printf("%s\n", s);
    free(s);

    return 0;
}
