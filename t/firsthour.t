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

# ghost: a manifest's function no faasd runs (nginx's 502)
$t->function('ghost', 'index.js' => code(0), 'f.yml' => "service: ghost\n"
    . "functions:\n"
    . "  ghost:\n"
    . "    events:\n"
    . "      - http: { path: /ghost, method: get }\n");

$t->nginx_conf(<<"EOF");
    faas_redis $url;

    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }

    server {
        listen 127.0.0.1:%%PORT_local%%;
        faas_manifest %%FUNCTIONS%%/ghost/f.yml;
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

# 3. the gateway's own answers carry X-Request-Id, as functions' do
{
    my $r = $t->http(GET => '/api/hello');
    like(FaasTest::hdr($r, 'X-Request-Id') // '', qr/^[0-9a-f]{32}$/,
         'a function\'s answer has X-Request-Id');

    $r = $t->http(GET => '/nowhere');
    is($r->{status}, 404, 'no route: 404');
    like(FaasTest::hdr($r, 'X-Request-Id') // '', qr/^[0-9a-f]{32}$/,
         'the 404 has X-Request-Id');
    isnt(FaasTest::hdr($r, 'X-Request-Id'),
         FaasTest::hdr($t->http(GET => '/nowhere'), 'X-Request-Id'),
         'a new one per request');

    $r = $t->http(GET => '/nowhere', headers => [ 'X-Request-Id' => 'abc-1' ]);
    is(FaasTest::hdr($r, 'X-Request-Id'), 'abc-1', 'the client\'s, when sent');

    $r = $t->http(POST => '/api/hello', body => '',
                  headers => [ 'X-Request-Id' => 'abc-2' ]);
    is($r->{status}, 405, 'wrong method: 405');
    is(FaasTest::hdr($r, 'Allow'), 'GET, HEAD', 'with Allow');
    is(FaasTest::hdr($r, 'X-Request-Id'), 'abc-2', 'the 405 has X-Request-Id');

    # a manifest's routes too, and nginx's 502 for a worker not there
    my $port = $t->port('local');
    $r = $t->http(GET => '/nowhere', port => $port);
    is($r->{status}, 404, 'manifest server: 404');
    like(FaasTest::hdr($r, 'X-Request-Id') // '', qr/^[0-9a-f]{32}$/,
         'manifest server: the 404 has X-Request-Id');
    $r = $t->http(DELETE => '/ghost', port => $port);
    is($r->{status}, 405, 'manifest server: 405');
    ok(defined FaasTest::hdr($r, 'X-Request-Id'),
       'manifest server: the 405 has X-Request-Id');
    $r = $t->http(GET => '/ghost', port => $port,
                  headers => [ 'X-Request-Id' => 'abc-3' ]);
    is($r->{status}, 502, 'no worker: 502');
    is(FaasTest::hdr($r, 'X-Request-Id'), 'abc-3', 'the 502 has X-Request-Id');
}

# 4. answers made per request offer no byte ranges
{
    my $r = $t->http(GET => '/api/hello');
    is($r->{status}, 200, 'a function answer');
    is(FaasTest::hdr($r, 'Accept-Ranges'), undef, 'without Accept-Ranges');

    $r = $t->http(GET => '/api/hello', headers => [ Range => 'bytes=0-3' ]);
    is($r->{status}, 200, 'a Range request gets the whole answer');
    like($r->{body}, qr/^\{"code":3\}$/, 'all of it');

    $r = $t->http(GET => '/nowhere');
    is(FaasTest::hdr($r, 'Accept-Ranges'), undef, 'a 404 without it either');

    # a function that says it serves ranges is believed
    $t->function('ranged', 'index.js' => "exports.handler = async (ctx) => {\n"
        . "  ctx.set('Accept-Ranges', 'bytes');\n"
        . "  ctx.body = 'ranged';\n"
        . "};\n", 'f.yml' => "service: ranged\n"
        . "functions:\n"
        . "  ranged:\n"
        . "    events:\n"
        . "      - http: { path: /ranged, method: get }\n");
    ($rc, $out) = faasctl('deploy', $t->dir . '/functions/ranged',
                          '--store', $store);
    is($rc, 0, 'deploy a function that sets Accept-Ranges') or diag($out);
    ok($t->wait_for(sub { $t->http(GET => '/ranged')->{status} == 200 }, 5),
       'it serves');
    is(FaasTest::hdr($t->http(GET => '/ranged'), 'Accept-Ranges'), 'bytes',
       'its own Accept-Ranges is passed on');
}

# 2. a handler whose file is missing: nginx -t, faasd -t and faasctl
# deploy all refuse it, at the manifest's place
{
    my $d = $t->function('nofile', 'f.yml' => "service: nofile\n"
        . "functions:\n"
        . "  nofile:\n"
        . "    handler: src/api.get\n"
        . "    events:\n"
        . "      - http: { path: /api/nofile, method: get }\n");
    my $want = qr{f\.yml:4:5: functions\.nofile\.handler: "src/api\.get" needs src/api\.js \(or src/api, \.cjs, \.mjs\) in \S*/functions/nofile, and there is none};

    my $conf = $t->dir . '/nofile.conf';
    $t->write_file($conf, $t->expand(
        "load_module $FaasTest::BUILD/modules/ngx_http_faas_module.so;\n"
        . "error_log stderr;\n"
        . "events { }\n"
        . "http { faas_manifest $d/f.yml;\n"
        . "  server { listen 127.0.0.1:%%PORT_nofile%%;\n"
        . "    location / { faas_pass; } } }\n"));
    my ($nrc, $nout, $nerr) = $t->command(30, $FaasTest::NGINX, '-t',
                                          '-p', $t->dir . '/nginx/',
                                          '-c', $conf);
    isnt($nrc, 0, 'nginx -t refuses a handler whose file is missing');
    like($nerr, qr/\[emerg\].*$want/, 'nginx -t says where and what')
        or diag($nerr);

    my ($frc, $fout, $ferr) = $t->command(30, "$FaasTest::BUILD/bin/faasd",
                                          '-t', '-m', "$d/f.yml", '-s',
                                          $t->dir . '/sock-t');
    isnt($frc, 0, 'faasd -t refuses it');
    like($fout . $ferr, $want, 'faasd -t says where and what');

    my $before = $t->redis_cli('GET', 'faas:generation');
    ($rc, $out) = faasctl('deploy', $d, '--store', $store);
    is($rc, 1, 'faasctl deploy refuses it');
    like($out, $want, 'faasctl deploy says where and what');
    is($t->redis_cli('GET', 'faas:generation'), $before, 'nothing written');

    # the runtime's ways of finding the file are all accepted
    for my $file ('src/api.mjs', 'src/api.cjs', 'src/api') {
        unlink glob("$d/src/*");
        $t->write_file("functions/nofile/$file", "exports.get = () => 1;\n");
        my ($rc2, $o2, $e2) = $t->command(30, "$FaasTest::BUILD/bin/faasd",
                                          '-t', '-m', "$d/f.yml", '-s',
                                          $t->dir . '/sock-t');
        is($rc2, 0, "faasd -t takes $file") or diag($o2 . $e2);
    }

    # a directory of the name is not the file
    unlink glob("$d/src/*");
    mkdir "$d/src/api.js";
    ($frc, $fout, $ferr) = $t->command(30, "$FaasTest::BUILD/bin/faasd", '-t',
                                       '-m', "$d/f.yml", '-s',
                                       $t->dir . '/sock-t');
    like($fout . $ferr, $want, 'a directory named src/api.js is not a file');
    rmdir "$d/src/api.js";

    # no handler key: index.handler, at the function's place
    $t->write_file('functions/nofile/f.yml', "service: nofile\n"
        . "functions:\n"
        . "  nofile:\n"
        . "    initializer: boot.init\n");
    ($frc, $fout, $ferr) = $t->command(30, "$FaasTest::BUILD/bin/faasd", '-t',
                                       '-m', "$d/f.yml", '-s',
                                       $t->dir . '/sock-t');
    like($fout . $ferr, qr{f\.yml:3:3: functions\.nofile\.handler: "index\.handler" needs index\.js},
         'the default handler is looked for, at the function');
    $t->write_file('functions/nofile/index.js', "exports.handler = 1;\n");
    ($frc, $fout, $ferr) = $t->command(30, "$FaasTest::BUILD/bin/faasd", '-t',
                                       '-m', "$d/f.yml", '-s',
                                       $t->dir . '/sock-t');
    like($fout . $ferr, qr{f\.yml:4:5: functions\.nofile\.initializer: "boot\.init" needs boot\.js},
         'and the initializer');

    # out of the way of the faasd that runs with functions/*/f.yml
    system('rm', '-rf', $d);
}

$t->done;
