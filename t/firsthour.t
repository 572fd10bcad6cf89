#!/usr/bin/perl

# The first hour of a new user (issue 15): mistakes are told at once and
# where they are, and the gateway's own answers look like its functions'.
# A deploy of code that cannot start fails as soon as faasd says so, with
# what the worker wrote; a handler whose file is missing is refused by
# nginx -t, faasd -t and faasctl deploy; the gateway's 404 and 405 carry
# X-Request-Id; dynamic answers do not offer byte ranges.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);
use FaasTest;

my $t = FaasTest->new;
my $url = $t->start_redis;
my $store = $t->dir . '/store';

sub code {
    my ($version) = @_;
    return "'use strict';\n"
        . "exports.handler = async (ctx) => {\n"
        . "  ctx.body = { code: $version };\n"
        . "};\n";
}

sub manifest {
    my ($handler) = @_;
    return "service: first\n"
        . "functions:\n"
        . "  hello:\n"
        . "    handler: $handler\n"
        . "    events:\n"
        . "      - http: { path: /api/hello, method: get }\n";
}

$t->function('hello', 'index.js' => code(1),
             'f.yml' => manifest('index.handler'));

$t->nginx_conf(<<"EOF");
    faas_redis $url;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF

$t->start_faasd(redis => $url);
$t->start_nginx;

sub faasctl {
    my (@args) = @_;
    my ($rc, $out, $err) = $t->command(60, "$FaasTest::BUILD/bin/faasctl",
                                       '--redis', $url, @args);
    return ($rc, $out . $err);
}

sub deploy {
    return faasctl('deploy', $t->dir . '/functions/hello', '--store', $store,
                   @_);
}

sub serves {
    my ($code) = @_;
    return $t->wait_for(sub {
        $t->http(GET => '/api/hello')->{body} =~ /"code":$code\b/
    }, 5);
}

my ($rc, $out) = deploy();
is($rc, 0, 'the first deploy') or diag($out);
ok(serves(1), 'v1 serves');

# 1. code with a syntax error: the deploy fails at once, with the error
{
    $t->write_file('functions/hello/index.js',
                   "'use strict';\nexports.handler = async (ctx) => {\n"
                   . "  ctx.body = { code: 2 ;\n};\n");
    my $start = time;
    ($rc, $out) = deploy();
    my $took = time - $start;
    is($rc, 1, 'a deploy of code with a syntax error fails');
    like($out, qr/version v2 of hello failed to start: its worker \(slot 0\) /,
         'it says which version failed to start') or diag($out);
    like($out, qr/SyntaxError/, 'with the error the worker wrote');
    like($out, qr{/index\.js:3$}m, 'and where it is');
    unlike($out, qr/did not become ready|is faasd -R running/,
           'not a timeout');
    ok($took < 10, sprintf('at once, not after --wait (%.1f s)', $took));
    ok(serves(1), 'the previous version keeps serving');

    my $report = $t->redis_cli('GET', 'faas:failure:hello:v2');
    like($report, qr/"why":"(exited with code|failed to initialise)/,
         'the report is in faas:failure:hello:v2');
    ok(length($report) < 8192, 'bounded (' . length($report) . ' bytes)');
    my $ttl = $t->redis_cli('TTL', 'faas:failure:hello:v2');
    ok($ttl > 0 && $ttl <= 3600, "and expires ($ttl s)");
}

# a worker that writes a lot before failing: the report keeps the end
{
    $t->write_file('functions/hello/index.js',
                   "for (let i = 0; i < 500; i++) console.error('noise ' + i"
                   . " + ' ' + 'x'.repeat(100));\n"
                   . "throw new Error('the last words');\n");
    ($rc, $out) = deploy();
    is($rc, 1, 'a deploy of code that throws at load fails');
    like($out, qr/the last words/, 'the end of stderr is shown')
        or diag($out);
    unlike($out, qr/noise 1 /, 'not the start of it');
    my @lines = grep { /^    / } split /\n/, $out;
    ok(@lines <= 20, 'at most 20 lines (' . scalar(@lines) . ')');
}

# a report left from before the deploy is not about this one
{
    $t->write_file('functions/hello/index.js', code(3));
    my $next = 'v' . ($t->redis_cli('GET', 'faas:seq:hello') + 1);
    $t->redis_cli('SET', "faas:failure:hello:$next", '{"why":"stale"}');
    ($rc, $out) = deploy();
    is($rc, 0, 'a stale report does not fail a deploy') or diag($out);
    ok(serves(3), "$next serves");
}

# 2. a missing export is known only once the code runs: said at start
{
    $t->write_file('functions/hello/f.yml', manifest('index.nothere'));
    ($rc, $out) = deploy();
    is($rc, 1, 'a deploy of a handler whose export is missing fails');
    like($out, qr/handler "index\.nothere": \S*index\.js exports no function "nothere" \(found undefined\)/,
         'the runtime names the missing export') or diag($out);
    $t->write_file('functions/hello/f.yml', manifest('index.handler'));
    ok(serves(3), 'the previous version keeps serving');
}

$t->done;
