#!/usr/bin/perl

# Tests for faasctl against a redis-server of the test's own: deploy
# (the keys, the two generations, the copied code, waiting for
# endpoints and its timeout), ls, routes, show, rm, gen, --json,
# prefixes, concurrent deploys, and the errors: bad manifests, route
# conflicts, unknown functions, bad URLs, Redis down, AUTH.  A failed
# command writes nothing: the generation stays where it was.

use strict;
use warnings;

use Cwd qw(abs_path);
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use FaasTest;

delete @ENV{qw(FAAS_REDIS FAAS_PREFIX FAAS_STORE)};

my $t = FaasTest->new;
my $url = $t->start_redis;
my $F = "$FaasTest::BUILD/bin/faasctl";
my $store = $t->dir . '/store';
my $json = JSON::PP->new;

# runs faasctl: (exit status, stdout, stderr); --redis first unless given
sub ctl {
    my @args = @_;
    unshift @args, '--redis', $url unless grep { /^--redis/ } @args;
    return $t->command(20, $F, @args);
}

sub rcli { $t->redis_cli(@_) }

sub rget {
    my ($key, $prefix) = @_;
    return rcli('GET', ($prefix // 'faas') . ":$key");
}

sub table {
    my ($prefix) = @_;
    $prefix //= 'faas';
    my $g = rget('generation', $prefix);
    return $json->decode(rget("table:$g", $prefix));
}

my $HELLO = <<'EOF';
service: demo
provider:
  name: ngx_faas
  runtime: nodejs20
functions:
  hello:
    handler: index.handler
    instances: 2
    timeout: 3
    environment:
      GREETING: secret-value
    events:
      - http:
          path: /api/hello
          method: get
      - http:
          path: /api/hello/:name
          method: [get, post]
EOF

my $JS = "exports.handler = async (ctx) => { ctx.body = 'hi'; };\n";

my $hello = $t->function('hello', 'f.yml' => $HELLO, 'index.js' => $JS,
                         'lib/util.js' => "module.exports = 1;\n",
                         'bin/run' => "#!/bin/sh\n",
                         '.git/HEAD' => "ref: refs/heads/main\n");
chmod 0700, "$hello/bin/run";
symlink '../index.js', "$hello/lib/link.js" or die "symlink: $!";

my ($rc, $out, $err);

###############################################################################
# an empty Redis, the first deploy

($rc, $out) = ctl('gen');
is("$rc $out", "0 0\n", 'empty Redis: generation 0');

($rc, $out) = ctl('ls');
is($rc, 0, 'ls on an empty Redis');

($rc, $out, $err) = ctl('deploy', $hello, '--store', $store, '--no-wait');
is($rc, 0, 'deploy') or diag($err);
is($out, "hello v1\n", 'deploy prints function and version');

my $realstore = abs_path($store);

is(rget('generation'), 2, 'a deploy makes two generations');
my $tab = table();
is($tab->{generation}, 2, 'table: its generation');
my $h = $tab->{functions}{hello};
is($h->{active}, 'v1', 'table: v1 active');
is_deeply([sort keys %{$h->{versions}}], ['v1'], 'table: versions');
is($h->{versions}{v1}{dir}, "$realstore/hello/v1", 'table: code directory');
is($h->{versions}{v1}{handler}, 'index.handler', 'table: handler');
is($h->{versions}{v1}{instances}, 2, 'table: instances');
is($h->{versions}{v1}{timeout_ms}, 3000, 'table: timeout');
is_deeply([map { $_->{path} } @{$h->{routes}}],
          ['/api/hello', '/api/hello/:name'], 'table: routes');

my $gen1 = $json->decode(rget('table:1'));
is_deeply($gen1->{functions}{hello}{routes} || [], [],
          'generation 1: the new function has no routes yet');
my $ttl = rcli('TTL', 'faas:table:1');
ok($ttl > 3500 && $ttl <= 3600, 'superseded table expires in an hour');
is(rcli('TTL', 'faas:table:2'), -1, 'table in force kept');

my $rec = $json->decode(rget('version:hello:v1'));
is($rec->{handler}, 'index.handler', 'version record');
is(scalar @{$rec->{routes}}, 2, 'version record: its routes');
is(rcli('ZRANGE', 'faas:versions:hello', 0, -1), 'v1',
   'versions history');
is(rget('seq:hello'), 1, 'version counter');

my $code = "$realstore/hello/v1";
is($t->read_file("$code/index.js"), $JS, 'code copied');
is((stat "$code/index.js")[2] & 07777, 0644, 'file world-readable');
is((stat "$code/bin/run")[2] & 07777, 0755, 'executable kept executable');
is((stat "$code/lib")[2] & 07777, 0755, 'directory 0755');
is(readlink("$code/lib/link.js"), '../index.js', 'inner link kept relative');
ok(!-e "$code/.git", '.git not copied');
ok(!glob("$realstore/hello/.tmp-*"), 'no temporary directory left');

###############################################################################
# ls, routes, show, --json

($rc, $out) = ctl('ls');
like($out, qr/^FUNCTION\s+ACTIVE\s+ROUTES\s+VERSIONS\nhello\s+v1\s+2\s+v1\n\z/,
     'ls');

($rc, $out) = ctl('--json', 'ls');
is_deeply($json->decode($out), { generation => 2, functions => [
    { function => 'hello', active => 'v1', routes => 2,
      versions => ['v1'] } ] }, 'ls --json');

($rc, $out) = ctl('routes');
like($out, qr{^GET\s+/api/hello\ ->\ hello\n
                GET,POST\s+/api/hello/:name\ ->\ hello\n\z}x, 'routes');

($rc, $out) = ctl('routes', '--json');
is_deeply($json->decode($out)->{routes}[1],
          { path => '/api/hello/:name', methods => ['GET', 'POST'],
            function => 'hello', version => 'v1' }, 'routes --json');

($rc, $out) = ctl('show', 'hello');
is($rc, 0, 'show');
like($out, qr/^active\s+v1$/m, 'show: active version');
like($out, qr/^version\s+v1 \(active\)$/m, 'show: version');
like($out, qr/^\s+handler\s+index\.handler$/m, 'show: handler');
like($out, qr/^\s+env\s+GREETING$/m, 'show: environment names');
unlike($out, qr/secret-value/, 'show: environment values hidden');
like($out, qr/^history\s+v1\s/m, 'show: history');

rcli('ZADD', 'faas:endpoints:hello:v1',
              int(time * 1000) + 60000, 'unix:/x/hello@v1-0.sock',
              int(time * 1000) - 1000, 'unix:/x/hello@v1-1.sock');

($rc, $out) = ctl('--json', 'show', 'hello');
my $s = $json->decode($out);
is($s->{active}, 'v1', 'show --json: active');
is($s->{versions}[0]{handler}, 'index.handler', 'show --json: version');
is_deeply([map { $_->{endpoint} } @{$s->{versions}[0]{endpoints}}],
          ['unix:/x/hello@v1-0.sock'], 'show --json: live endpoints only');
is_deeply([map { $_->{version} } @{$s->{history}}], ['v1'],
          'show --json: history');

###############################################################################
# a second deploy replaces v1

($rc, $out, $err) = ctl('deploy', $hello, '--store', $store, '--no-wait',
                        '--json');
is($rc, 0, 'second deploy') or diag($err);
is_deeply($json->decode($out), { generation => 4, deployed => [
    { function => 'hello', version => 'v2', routes => 2 } ] },
    'deploy --json');

$h = table()->{functions}{hello};
is($h->{active}, 'v2', 'v2 active');
is_deeply([keys %{$h->{versions}}], ['v2'], 'v1 dropped from versions');
$gen1 = $json->decode(rget('table:3'))->{functions}{hello};
is($gen1->{active}, 'v1', 'first generation: v1 still active');
is_deeply([sort keys %{$gen1->{versions}}], ['v1', 'v2'],
          'first generation: both versions warm');
is(rcli('ZRANGE', 'faas:versions:hello', 0, -1), "v1\nv2",
   'history keeps v1');

###############################################################################
# waiting for endpoints

# plays faasd: once generation G+1 is in force, records it, then
# registers N live endpoints of version V
sub fake_faasd {
    my ($g, $v, $n, $file) = @_;
    my $pid = fork() // die "fork: $!";
    return $pid if $pid;
    my $until = time + 10;
    while (time < $until && rget('generation') != $g + 1) {
        sleep 0.02;
    }
    open my $fh, '>', $file or POSIX::_exit(1);
    print $fh rget('table:' . ($g + 1));
    close $fh;
    sleep 0.2;
    my $exp = int(time * 1000) + 10000;
    rcli('ZADD', "faas:endpoints:hello:$v",
                  map { ($exp, "unix:/x/hello\@$v-$_.sock") } 0 .. $n - 1);
    POSIX::_exit(0);
}

my $pid = fake_faasd(4, 'v3', 2, $t->dir . '/seen.json');
my $t0 = time;
($rc, $out, $err) = ctl('deploy', $hello, '--store', $store, '--wait', 5);
my $took = time - $t0;
waitpid($pid, 0);
is($rc, 0, 'deploy waits for the endpoints') or diag($err);
is($out, "hello v3\n", 'deploy with wait: v3');
ok($took >= 0.2 && $took < 4, 'deploy returned once the endpoints came')
    or diag("took $took s");
my $seen = $json->decode($t->read_file('seen.json'))->{functions}{hello};
is($seen->{active}, 'v2', 'while waiting: v2 active');
is_deeply([sort keys %{$seen->{versions}}], ['v2', 'v3'],
          'while waiting: v3 warming up');
is(table()->{functions}{hello}{active}, 'v3', 'then v3 active');

# endpoints that expired do not count; the wait ends, the table goes back
rcli('ZADD', 'faas:endpoints:hello:v4',
              int(time * 1000) - 1, 'unix:/x/a', int(time * 1000) - 1,
              'unix:/x/b');
my $before = table();
($rc, $out, $err) = ctl('deploy', $hello, '--store', $store, '--wait', 1);
is($rc, 1, 'wait timeout fails');
is($err, "faasctl: version v4 of hello did not become ready in 1 s "
    . "(is faasd -R running?)\n", 'wait timeout: the message');
is(rget('generation'), 8, 'wait timeout: a generation rolls back');
my $after = table();
delete $_->{generation} for $before, $after;
is_deeply($after, $before, 'wait timeout: the table is the old one again');

# INT while waiting: the same
{
    my $g0 = rget('generation');
    my $errf = $t->dir . '/int.err';
    my $p = fork() // die "fork: $!";
    if ($p == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errf;
        exec $F, '--redis', $url, 'deploy', $hello, '--store', $store,
            '--wait', 10 or POSIX::_exit(127);
    }
    $t->wait_for(sub { rget('generation') == $g0 + 1 }, 5);
    kill 'INT', $p;
    waitpid($p, 0);
    is($? >> 8, 1, 'INT while waiting fails');
    like($t->read_file($errf), qr/^faasctl: interrupted while version v5 of /,
         'INT while waiting: said');
    is(rget('generation'), $g0 + 2, 'INT while waiting: rolled back');
    is(table()->{functions}{hello}{active}, 'v3', 'INT: v3 still active');
}

###############################################################################
# several functions, prefixes, rm

my $multi = $t->function('multi', 'f.yml' => <<'EOF', 'index.js' => $JS);
service: multi
functions:
  users:
    events:
      - http: { path: /api/users/:id, method: get }
  orders:
    events:
      - http: { path: /api/orders/*, method: [get, post] }
EOF

# a new function whose workers never come: it leaves the table whole
($rc, $out, $err) = ctl('deploy', $multi, '--store', $store, '--wait',
                        '0.3');
is($rc, 1, 'new functions not ready');
ok(!exists table()->{functions}{users}, 'new function rolled back');

($rc, $out, $err) = ctl('deploy', $multi, '--store', $store, '--no-wait');
is($rc, 0, 'deploy of two functions') or diag($err);
is($out, "users v2\norders v2\n", 'both versions printed');

($rc, $out) = ctl('routes');
is(scalar(() = $out =~ /\n/g), 4, 'routes of three functions');
like($out, qr{^GET,POST\s+/api/orders/\* -> orders$}m, 'wildcard route');

($rc, $out, $err) = ctl('--prefix', 'stage', 'deploy', $multi, '--store',
                        "$store-stage", '--no-wait');
is("$rc $out", "0 users v1\norders v1\n", 'deploy under another prefix')
    or diag($err);
is(rget('generation', 'stage'), 2, 'prefix: its own generation');
is(rget('generation'), 14, 'prefix: the default one untouched');
($rc, $out) = ctl('--prefix', 'stage', 'ls');
unlike($out, qr/hello/, 'prefix: ls shows its functions only');

($rc, $out) = ctl('--prefix', 'stage', 'rm', 'users');
is("$rc $out", "0 removed users (generation 3)\n", 'rm');
ok(!exists table('stage')->{functions}{users}, 'rm: function gone');
ok(exists table()->{functions}{users}, 'rm: other prefix untouched');

###############################################################################
# concurrent deploys: each transaction that loses starts again

my @dirs = map {
    $t->function("c$_", 'f.yml' => "service: c\nfunctions:\n  c$_:\n"
        . "    events:\n      - http: { path: /c/$_, method: get }\n",
        'index.js' => $JS)
} 1 .. 4;
my @pids = map {
    my $d = $_;
    my $p = fork() // die "fork: $!";
    if ($p == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$d.err";
        exec $F, '--redis', $url, 'deploy', $d, '--store', $store,
            '--no-wait' or POSIX::_exit(127);
    }
    $p;
} @dirs;
my $ok = 0;
for (@pids) {
    waitpid($_, 0);
    $ok++ if $? == 0;
}
is($ok, 4, 'concurrent deploys all succeed')
    or diag(join '', map { $t->read_file("$_.err") } @dirs);
is(scalar(grep { /^c\d$/ } keys %{table()->{functions}}), 4,
   'concurrent deploys: no change lost');
is(rget('generation'), 22, 'concurrent deploys: two generations each');

###############################################################################
# errors: nothing written

my $g = rget('generation');

my $bad = $t->function('bad', 'f.yml' => "service: x\nfunctions:\n  a:\n"
    . "    handler: index.handler\n    timeout: abc\n", 'index.js' => $JS);
($rc, $out, $err) = ctl('deploy', $bad, '--store', $store);
is($rc, 1, 'bad manifest');
is($err, "faasctl: $bad/f.yml:5:14: functions.a.timeout: expected a number "
    . "of seconds, got \"abc\"\n", 'bad manifest: file:line:column');

$t->write_file('functions/bad/f.yml', "service: x\nfunctions:\n  a:\n"
    . "    events:\n      - http: { path: /x, method: get }\n"
    . "      - http: { path: /x, method: [get, post] }\n");
($rc, $out, $err) = ctl('deploy', $bad, '--store', $store);
like($err, qr{^faasctl: \Q$bad\E/f\.yml:6:\d+: .*/x}, 'conflict in manifest');

my $other = $t->function('other', 'f.yml' => "service: x\nfunctions:\n"
    . "  other:\n    events:\n"
    . "      - http: { path: /api/hello, method: get }\n",
    'index.js' => $JS);
($rc, $out, $err) = ctl('deploy', $other, '--store', $store, '--no-wait');
is($rc, 1, 'route conflict with a deployed function');
like($err, qr{^faasctl: .*"GET /api/hello" conflicts with .*"hello"\n\z},
     'route conflict: the router\'s message');
is(rget('seq:other'), '', 'route conflict: no version given');
ok(!-e "$realstore/other", 'route conflict: no code copied');

symlink '/etc/passwd', $t->dir . '/functions/other/passwd';
$t->write_file('functions/other/f.yml', "service: x\nfunctions:\n  other:\n"
    . "    events:\n      - http: { path: /api/other, method: get }\n");
($rc, $out, $err) = ctl('deploy', $other, '--store', $store, '--no-wait');
is($rc, 1, 'link outside the directory');
like($err, qr{^faasctl:\ \Q$other\E/passwd:
               \ symbolic\ link\ to\ "/etc/passwd",\ outside}x,
     'link outside: named');
ok(!glob("$realstore/other/*") && !glob("$realstore/other/.tmp-*"),
   'link outside: nothing left in the store');

($rc, $out, $err) = ctl('rm', 'nope');
is("$rc $err",
   "1 faasctl: no function \"nope\" in the table (generation $g)\n",
   'rm of an unknown function');
($rc, $out, $err) = ctl('show', 'nope');
is($rc, 1, 'show of an unknown function');
($rc, $out, $err) = ctl('show', 'a:b');
like($err, qr/invalid function name/, 'show: name checked');

is(rget('generation'), $g, 'errors: generation unchanged');

($rc, $out, $err) = ctl('--redis', 'http://x', 'gen');
is($rc, 1, 'bad URL');
like($err, qr/^faasctl: .*redis:\/\//, 'bad URL: what is expected');

($rc, $out, $err) = ctl('frobnicate');
is($rc, 2, 'unknown command');
like($err, qr/^faasctl: unknown command "frobnicate"\n\nusage:/,
     'unknown command: usage');
($rc, $out, $err) = ctl('--frob', 'ls');
is($rc, 2, 'unknown option');
($rc, $out, $err) = ctl('ls', '--no-wait');
is($rc, 2, 'deploy option elsewhere');
($rc, $out, $err) = ctl('deploy');
is($rc, 2, 'deploy without a directory');
($rc, $out) = ctl('--help');
like("$rc $out", qr/^0 usage: faasctl/, '--help');
($rc, $out) = ctl('help', 'deploy');
like($out, qr/--no-wait/, 'help deploy');

###############################################################################
# Redis down, AUTH

my $sock = $t->dir . '/redis/redis.sock';
$t->stop_redis;
($rc, $out, $err) = ctl('ls');
is($rc, 1, 'Redis down');
like($err, qr{^faasctl: cannot connect to unix://\Q$sock\E: },
     'Redis down: URL');

$url = $t->start_redis(args => ['--requirepass', 's3cret']);
($rc, $out, $err) = ctl('gen');
is($rc, 1, 'password required');
like($err, qr/NOAUTH/, 'password required: said');
($rc, $out, $err) = ctl('--redis', "unix://:hunter2\@$sock", 'gen');
is($rc, 1, 'wrong password');
like($err, qr{^faasctl: unix://:\*\*\*@\Q$sock\E: AUTH refused},
     'wrong password: said');
unlike($err, qr/hunter2/, 'wrong password: not printed');
($rc, $out, $err) = ctl('--redis', "unix://:s3cret\@$sock", 'gen');
is("$rc $out", "0 0\n", 'password');
($rc, $out, $err) = ctl('--redis', "unix://:s3cret\@$sock", 'deploy',
                        $hello, '--store', $store, '--no-wait');
# the store still holds v1..v5 of hello: their numbers are skipped
is("$rc $out", "0 hello v6\n", 'deploy with a password, numbers in use '
   . 'skipped') or diag($err);

$t->done;
