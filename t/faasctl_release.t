#!/usr/bin/perl

# Tests for faasctl's gray release commands against a redis-server of
# the test's own: deploy --stage, release (weights, sticky key, rules,
# versions warmed up from their records), promote, rollback, history,
# status, their --json, and the policies refused with nothing changed.
# No nginx and no faasd: endpoints are faked in P:endpoints:FN:V.

use strict;
use warnings;

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
my $json = JSON::PP->new->canonical;

# runs faasctl: (exit status, stdout, stderr)
sub ctl {
    return $t->command(20, $F, '--redis', $url, @_);
}

sub rcli { $t->redis_cli(@_) }

sub gen { rcli('GET', 'faas:generation') }

sub table {
    my ($g) = @_;
    $g //= gen();
    return $json->decode(rcli('GET', "faas:table:$g"));
}

sub entry { table(@_)->{functions}{hello} }

# the entry as the table holds it, canonical JSON, to compare exactly
sub entry_json { $json->encode(entry(@_)) }

sub history { [split /\n/, rcli('LRANGE', 'faas:history:hello', 0, -1)] }

sub notes {
    [map { $json->decode($_)->{note} } @{history()}];
}

sub live {
    my ($v, $n) = @_;
    my $exp = int(time * 1000) + 60000;
    rcli('ZADD', "faas:endpoints:hello:$v",
         map { ($exp, "unix:/x/hello\@$v-$_.sock") } 0 .. $n - 1);
}

my $MANIFEST = <<'EOF';
service: demo
functions:
  hello:
    handler: index.handler
    instances: 2
    events:
      - http: { path: /api/hello, method: get }
      - http: { path: /api/hello/:name, method: [get, post] }
EOF

my $JS = "exports.handler = async (ctx) => { ctx.body = 'hi'; };\n";
my $dir = $t->function('hello', 'f.yml' => $MANIFEST, 'index.js' => $JS);

my ($rc, $out, $err, $g, $e, $s);

###############################################################################
# deploy, deploy --stage

($rc, $out, $err) = ctl('deploy', $dir, '--store', $store, '--no-wait');
is("$rc $out", "0 hello v1\n", 'deploy v1') or diag($err);
is_deeply(notes(), ['deploy v1'], 'deploy: in the history');
is(rcli('LINDEX', 'faas:history:hello', 0) =~ /"entry":null/ ? 1 : 0, 1,
   'deploy of a new function: the entry before is null');

# v2 has one more route, seen only once it is promoted
$t->write_file('functions/hello/f.yml', $MANIFEST
    . "      - http: { path: /api/hello/v2/beta, method: get }\n");

($rc, $out, $err) = ctl('deploy', $dir, '--store', $store, '--stage',
                        '--no-wait');
is("$rc $out", "0 hello v2 (staged)\n", 'deploy --stage') or diag($err);
is(gen(), 3, 'deploy --stage: one generation');
$e = entry();
is($e->{active}, 'v1', 'staged: v1 still active');
is_deeply([sort keys %{$e->{versions}}], ['v1', 'v2'],
          'staged: v1 and v2 warm');
is(scalar @{$e->{routes}}, 2, 'staged: routes unchanged');
ok(!exists $e->{release}, 'staged: no policy');
is_deeply(notes(), ['deploy v2 --stage', 'deploy v1'], 'staged: history');
is_deeply($json->decode(history()->[0])->{entry}, entry(2),
          'staged: the history keeps the entry before');

my $e3 = entry_json();

###############################################################################
# release

my @RULES = ('--rule', 'header:X-Faas-Version=v2 -> v2',
             '--rule', 'cookie:beta~^(1|yes)$ -> v1=50,v2=50',
             '--rule', 'addr:10.1.2.3/8 -> v2',
             '--rule', 'query:canary -> v2');

($rc, $out, $err) = ctl('release', 'hello', '--weights', 'v1=90,v2=10',
                        '--sticky', 'cookie:uid', @RULES);
is($rc, 0, 'release') or diag($err);
is($out, "hello: release v1=90%,v2=10% sticky cookie:uid"
    . " rule 'header:X-Faas-Version=v2 -> v2'"
    . " rule 'cookie:beta~^(1|yes)\$ -> v1=50%,v2=50%'"
    . " rule 'addr:10.1.2.3/8 -> v2' rule 'query:canary -> v2'"
    . " (generation 4)\n", 'release: what was done');
is(gen(), 4, 'release of warm versions: one generation');

my $POLICY = {
    rules => [
        { match => { header => 'x-faas-version', equals => 'v2' },
          version => 'v2' },
        { match => { cookie => 'beta', regex => '^(1|yes)$' },
          split => { v2 => 5000, v1 => 5000 } },
        { match => { addr => '10.0.0.0/8' }, version => 'v2' },
        { match => { query => 'canary' }, version => 'v2' },
    ],
    split => { v1 => 9000, v2 => 1000 },
    sticky => { cookie => 'uid' },
};

$e = entry();
is_deeply($e->{release}, $POLICY, 'release: the policy in the table');
is($e->{active}, 'v1', 'release: active unchanged');
is(scalar @{$e->{routes}}, 2, 'release: routes unchanged');
like(rcli('GET', 'faas:table:4'),
     qr/"split":\{"v2":1000,"v1":9000\}/, 'release: newest version first');
is_deeply($json->decode(history()->[0])->{entry}, $json->decode($e3),
          'release: the history keeps the entry before');

my $e4 = entry_json();

($rc, $out, $err) = ctl('--json', 'release', 'hello', '--weights',
                        'v1=80,v2=20%', '--sticky=cookie:uid');
is($rc, 0, 'release --json') or diag($err);
is_deeply($json->decode($out), {
    function => 'hello', generation => 5, changed => JSON::PP::true,
    note => 'release v1=80%,v2=20% sticky cookie:uid',
    release => { split => { v2 => 2000, v1 => 8000 },
                 sticky => { cookie => 'uid' } },
    warmed => [] }, 'release --json: the policy written');
is_deeply(entry()->{release}, { split => { v1 => 8000, v2 => 2000 },
                                sticky => { cookie => 'uid' } },
          'release: the policy replaced whole');

my $e5 = entry_json();

($rc, $out) = ctl('release', 'hello', '--weights', 'v2=20,v1=80',
                  '--sticky', 'cookie:uid');
is("$rc $out", "0 hello: nothing to change (generation 5)\n",
   'the same policy again: nothing written');
is(gen(), 5, 'the same policy: same generation');

($rc, $out, $err) = ctl('release', 'hello', '--weights',
                        'v1=99.99,v2=0.01', '--json', '--no-wait');
is($rc, 0, 'weights of 0.01%') or diag($err);
is_deeply(entry()->{release}{split}, { v1 => 9999, v2 => 1 },
          'weights of 0.01%: in basis points');
my $e6 = entry_json();

###############################################################################
# refused: nothing changed

my $hlen = scalar @{history()};

sub refused {
    my ($name, $code, $re, @args) = @_;
    my $g0 = gen();
    my $t0 = rcli('GET', "faas:table:$g0");
    my ($rc, $out, $err) = ctl(@args);
    is($rc, $code, "$name: exit $code");
    like($err, $re, "$name: the message");
    is($out, '', "$name: nothing printed");
    is(gen(), $g0, "$name: generation unchanged");
    is(rcli('GET', "faas:table:$g0"), $t0, "$name: table unchanged");
    is(scalar @{history()}, $hlen, "$name: history unchanged");
}

refused('unknown version', 1,
        qr/^\Qfaasctl: the new table (faas:table:7): \E
            \Qfunctions.hello.release.split.v9: unknown version "v9"\E\n\z/x,
        'release', 'hello', '--weights', 'v1=90,v9=10');
refused('unknown version in a rule', 1, qr/rules\[0\]\.version: .*"v7"/,
        'release', 'hello', '--rule', 'header:x-faas-version=v7 -> v7');
refused('weights summing to 90', 1,
        qr/^\Qfaasctl: --weights "v1=80,v2=10": \E
            \Qthe weights sum to 90%, not 100%\E\n\z/x,
        'release', 'hello', '--weights', 'v1=80,v2=10');
refused('weights summing to 0', 1, qr/sum to 0%, not 100%/,
        'release', 'hello', '--weights', 'v1=0,v2=0');
refused('weights summing to 120', 1, qr/sum to 120%/,
        'release', 'hello', '--weights', 'v1=60,v2=60');
refused('rule weights summing to 99.5', 1,
        qr/^faasctl: --rule "v1=50,v2=49\.5": the weights sum to 99\.5%/,
        'release', 'hello', '--rule', 'header:x -> v1=50,v2=49.5');
refused('bad regex', 1,
        qr/rules\[0\]\.match\.regex: bad regex "\(": Unmatched/,
        'release', 'hello', '--weights', 'v1=100', '--rule',
        'header:x~( -> v2');
refused('back-reference', 1, qr/rules\[0\]\.match\.regex: /,
        'release', 'hello', '--rule', 'cookie:c~(a)\1 -> v2');
refused('bad CIDR', 1,
        qr/rules\[1\]\.match\.addr: bad CIDR "10\.0\.0\.0\/33"/,
        'release', 'hello', '--rule', 'query:a -> v2',
        '--rule', 'addr:10.0.0.0/33 -> v2');
refused('bad header name', 1, qr/match\.header: invalid header name/,
        'release', 'hello', '--rule', 'header:a b=1 -> v2');
refused('rule without an arrow', 2,
        qr/^faasctl: --rule "header:x=1 v2": expected SOURCE:NAME=VALUE/,
        'release', 'hello', '--rule', 'header:x=1 v2');
refused('rule with an unknown source', 2,
        qr/^faasctl: --rule "body:x -> v2": unknown source "body"/,
        'release', 'hello', '--rule', 'body:x -> v2');
refused('rule without a name', 2, qr/^faasctl: --rule "header:=1 -> v2"/,
        'release', 'hello', '--rule', 'header:=1 -> v2');
refused('rule without a target', 2, qr/^faasctl: --rule "query:a ->"/,
        'release', 'hello', '--rule', 'query:a ->');
refused('rule with a bad target', 2, qr/invalid version "v 2"/,
        'release', 'hello', '--rule', 'query:a -> v 2');
refused('bad sticky', 2,
        qr/^faasctl: --sticky "session": expected header:NAME/,
        'release', 'hello', '--weights', 'v1=100', '--sticky', 'session');
refused('sticky without a name', 2, qr/^faasctl: --sticky "cookie:"/,
        'release', 'hello', '--weights', 'v1=100', '--sticky', 'cookie:');
refused('three decimals', 2, qr/^faasctl: --weights "v1=99\.995,v2=0\.005"/,
        'release', 'hello', '--weights', 'v1=99.995,v2=0.005');
refused('more than 100', 2, qr/at most 100/,
        'release', 'hello', '--weights', 'v1=101');
refused('a version twice', 2, qr/version "v1" named twice/,
        'release', 'hello', '--weights', 'v1=50,v1=50');
refused('no policy', 2, qr/^faasctl: release: --weights or --rule needed/,
        'release', 'hello');
refused('unknown function', 1,
        qr/^faasctl: no function "nope" in the table \(generation 6\)\n\z/,
        'release', 'nope', '--weights', 'v1=100');
refused('release options elsewhere', 2, qr/--weights applies to release/,
        'ls', '--weights', 'v1=100');
refused('--stage elsewhere', 2, qr/--stage applies to deploy only/,
        'release', 'hello', '--stage', '--weights', 'v1=100');
refused('promote of an unknown version', 1,
        qr/^faasctl: hello has no version "v9" to promote \(no record\)\n/,
        'promote', 'hello', 'v9');
refused('promote without a version', 2, qr/FUNCTION VERSION needed/,
        'promote', 'hello');

###############################################################################
# status

live('v1', 2);
live('v2', 1);

($rc, $out, $err) = ctl('status', 'hello');
is($rc, 0, 'status') or diag($err);
is($out, <<'EOF', 'status: the text');
function    hello
generation  6
active      v1
versions    v1  2/2 endpoints  (active)
            v2  1/2 endpoints
rules       -
split       v2=0.01%,v1=99.99%
sticky      - (split per request)
EOF

# back to the policy with rules, for status and the history
($rc, $out, $err) = ctl('release', 'hello', '--weights', 'v1=90,v2=10',
                        '--sticky', 'cookie:uid', @RULES);
is($rc, 0, 'release again') or diag($err);
my $e7 = entry_json();

($rc, $out) = ctl('status', 'hello');
is($out, <<'EOF', 'status: rules in order, weights in %, sticky key');
function    hello
generation  7
active      v1
versions    v1  2/2 endpoints  (active)
            v2  1/2 endpoints
rules       1. header:x-faas-version=v2 -> v2
            2. cookie:beta~^(1|yes)$ -> v2=50%,v1=50%
            3. addr:10.0.0.0/8 -> v2
            4. query:canary -> v2
split       v2=10%,v1=90%
sticky      cookie:uid
EOF

($rc, $out) = ctl('status', 'hello', '--json');
is_deeply($json->decode($out), {
    function => 'hello', generation => 7, active => 'v1',
    versions => [
        { version => 'v1', active => JSON::PP::true, instances => 2,
          endpoints => 2 },
        { version => 'v2', active => JSON::PP::false, instances => 2,
          endpoints => 1 } ],
    release => $POLICY }, 'status --json');

###############################################################################
# promote

($rc, $out, $err) = ctl('promote', 'hello', 'v2');
is("$rc $out", "0 hello v2 (generation 8)\n", 'promote') or diag($err);
$e = entry();
is($e->{active}, 'v2', 'promote: v2 active');
is_deeply([keys %{$e->{versions}}], ['v2'], 'promote: v1 dropped');
ok(!exists $e->{release}, 'promote: no policy');
is_deeply([map { $_->{path} } @{$e->{routes}}],
          ['/api/hello', '/api/hello/:name', '/api/hello/v2/beta'],
          'promote: the routes of v2\'s record');

($rc, $out) = ctl('promote', 'hello', 'v2', '--json');
is_deeply($json->decode($out), { function => 'hello', generation => 8,
                                 changed => JSON::PP::false },
          'promote again: nothing to change');

($rc, $out) = ctl('status', 'hello');
like($out, qr/^release     none: v2 serves every request$/m,
     'status without a policy');

###############################################################################
# history

($rc, $out) = ctl('history', 'hello');
is($rc, 0, 'history');
my @lines = split /\n/, $out;
is(scalar @lines, 7, 'history: an entry per change');
like($lines[0], qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  promote v2$/,
     'history: newest first, with its time');
like($lines[1], qr/  release v1=90%,v2=10% sticky cookie:uid rule /,
     'history: release');
is_deeply([map { s/^\S+ \S+  //r } @lines[2 .. 6]], [
    'release v1=99.99%,v2=0.01%',
    'release v1=80%,v2=20% sticky cookie:uid',
    "release v1=90%,v2=10% sticky cookie:uid rule 'header:X-Faas-Version=v2"
        . " -> v2' rule 'cookie:beta~^(1|yes)\$ -> v1=50%,v2=50%' rule "
        . "'addr:10.1.2.3/8 -> v2' rule 'query:canary -> v2'",
    'deploy v2 --stage', 'deploy v1'], 'history: the notes');

($rc, $out) = ctl('--json', 'history', 'hello');
$s = $json->decode($out)->{history};
is_deeply([map { $_->{note} } @$s[0, 6]], ['promote v2', 'deploy v1'],
          'history --json: notes');
ok(abs($s->[0]{at} / 1000 - time) < 60, 'history --json: when');
is($json->encode($s->[0]{entry}), $e7, 'history --json: the entry');
is($s->[6]{entry}, undef, 'history --json: null before the first deploy');

###############################################################################
# rollback

($rc, $out, $err) = ctl('rollback', 'hello');
is("$rc $out", "0 hello: undid \"promote v2\" (generation 10)\n",
   'rollback') or diag($err);
is(entry_json(), $e7, 'rollback: the entry before promote, exactly');
is_deeply([sort keys %{entry(9)->{versions}}], ['v1', 'v2'],
          'rollback: v1 warmed up again first');
ok(!exists entry(9)->{release}, 'rollback: the policy once v1 is warm');

($rc, $out, $err) = ctl('rollback', 'hello', '--json');
is($rc, 0, 'rollback again') or diag($err);
$s = $json->decode($out);
is($s->{undone}, 'release v1=90%,v2=10% sticky cookie:uid rule '
   . "'header:X-Faas-Version=v2 -> v2' rule 'cookie:beta~^(1|yes)\$ -> "
   . "v1=50%,v2=50%' rule 'addr:10.1.2.3/8 -> v2' rule "
   . "'query:canary -> v2'", 'rollback --json: what was undone');
is($s->{generation}, 11, 'rollback --json: generation');
is(entry_json(), $e6, 'rollback twice: the entry two changes back');
is($json->encode($s->{entry}), $e6, 'rollback --json: the entry');

ctl('rollback', 'hello') for 1 .. 2;
is(entry_json(), $e4, 'rollback four times');
is_deeply(notes(), ['release v1=90%,v2=10% sticky cookie:uid rule '
    . "'header:X-Faas-Version=v2 -> v2' rule 'cookie:beta~^(1|yes)\$ -> "
    . "v1=50%,v2=50%' rule 'addr:10.1.2.3/8 -> v2' rule "
    . "'query:canary -> v2'", 'deploy v2 --stage', 'deploy v1'],
    'rollback pops the history');
ctl('rollback', 'hello');
is(entry_json(), $e3, 'rollback: before the first release');

###############################################################################
# versions warmed up from their records

($rc, $out, $err) = ctl('promote', 'hello', 'v1');
is($rc, 0, 'promote v1') or diag($err);
is_deeply([keys %{entry()->{versions}}], ['v1'], 'v2 left the table');
my $ep = entry_json();
$g = gen();
$hlen = scalar @{history()};

rcli('DEL', 'faas:endpoints:hello:v2');
($rc, $out, $err) = ctl('release', 'hello', '--weights', 'v1=50,v2=50',
                        '--wait', '0.3');
is($rc, 1, 'release: v2 not ready');
is($err, "faasctl: version v2 of hello did not become ready in 0.3 s "
    . "(is faasd -R running?)\n", 'release: not ready, said');
is(gen(), $g + 2, 'not ready: warmed up, then back');
is_deeply([sort keys %{entry($g + 1)->{versions}}], ['v1', 'v2'],
          'not ready: v2 was warming up');
ok(!exists entry($g + 1)->{release}, 'not ready: with no policy yet');
is(entry_json(), $ep, 'not ready: the entry as it was');
is(scalar @{history()}, $hlen, 'not ready: history unchanged');

live('v2', 2);
($rc, $out, $err) = ctl('release', 'hello', '--weights', 'v1=50,v2=50',
                        '--wait', '5', '--json');
is($rc, 0, 'release: v2 warmed up from its record') or diag($err);
$s = $json->decode($out);
is_deeply($s->{warmed}, ['v2'], 'release --json: warmed');
is($s->{generation}, $g + 4, 'release: two generations');
is_deeply([sort keys %{entry($g + 3)->{versions}}], ['v1', 'v2'],
          'first generation: v2 warm');
ok(!exists entry($g + 3)->{release}, 'first generation: no policy yet');
is_deeply(entry()->{release}, { split => { v1 => 5000, v2 => 5000 } },
          'second generation: the policy');
is_deeply($json->decode(history()->[0])->{entry}, $json->decode($ep),
          'history: the entry before the warm-up');

($rc, $out, $err) = ctl('rollback', 'hello', '--no-wait');
is(entry_json(), $ep, 'rollback of a release that warmed a version');

###############################################################################
# rm and rollback; a deploy --stage that fails; rollback to the end

my $before_rm = entry_json();
($rc, $out) = ctl('rm', 'hello');
is($rc, 0, 'rm');
is_deeply(notes()->[0], 'rm', 'rm: in the history');
($rc, $out, $err) = ctl('rollback', 'hello', '--no-wait');
is("$rc $out", "0 hello: undid \"rm\" (generation " . gen() . ")\n",
   'rollback of rm') or diag($err);
is(entry_json(), $before_rm, 'rollback of rm: the function back');
is_deeply([sort keys %{entry(gen() - 1)->{versions}}], ['v1'],
          'rollback of rm: its versions warm first');
is_deeply(entry(gen() - 1)->{routes} // [], [],
          'rollback of rm: with no routes until then');

$g = gen();
$hlen = scalar @{history()};
($rc, $out, $err) = ctl('deploy', $dir, '--store', $store, '--stage',
                        '--wait', '0.3');
is($rc, 1, 'deploy --stage: not ready');
is(gen(), $g + 2, 'deploy --stage not ready: rolled back');
is(entry_json(), $before_rm, 'deploy --stage not ready: entry unchanged');
is(scalar @{history()}, $hlen, 'deploy --stage not ready: history popped');

is_deeply(notes(), ['promote v1', 'deploy v2 --stage', 'deploy v1'],
          'what is left to undo');
ctl('rollback', 'hello', '--no-wait') for 1 .. 2;
is(entry_json(), $json->encode(entry(2)),
   'rollback to the first deploy');
($rc, $out) = ctl('rollback', 'hello');
like("$rc $out", qr/^0 hello: undid "deploy v1", removed \(generation \d+\)/,
     'rollback of the first deploy: the function goes');
ok(!exists table()->{functions}{hello}, 'the function is gone');
($rc, $out, $err) = ctl('rollback', 'hello');
is("$rc $err", "1 faasctl: nothing to roll back: no history of hello "
   . "(faas:history:hello is empty)\n", 'nothing to roll back');

###############################################################################
# deploy ends a gray release; the history is kept to 50 entries

ctl('deploy', $dir, '--store', $store, '--no-wait');
ctl('deploy', $dir, '--store', $store, '--no-wait', '--stage');
ctl('deploy', $dir, '--store', $store, '--no-wait', '--stage');
$e = entry();
my ($va, $vb, $vc) = sort { substr($a, 1) <=> substr($b, 1) }
                     keys %{$e->{versions}};
($rc, $out, $err) = ctl('release', 'hello', '--weights', "$va=50,$vb=50");
is($rc, 0, 'release of two of three versions') or diag($err);
($rc, $out, $err) = ctl('deploy', $dir, '--store', $store, '--no-wait');
my ($vd) = $out =~ /^hello (v\d+)$/;
$e = entry();
is($e->{active}, $vd, 'deploy during a release: the new version active');
ok(!exists $e->{release}, 'deploy during a release: the policy goes');
is_deeply([sort keys %{$e->{versions}}], [sort $vc, $vd],
          'deploy during a release: the versions it named go, staged stay');

($rc, $out) = ctl('--json', 'deploy', $dir, '--store', $store, '--stage',
                  '--no-wait');
is_deeply($json->decode($out)->{deployed}[0]{staged}, JSON::PP::true,
          'deploy --stage --json');

for my $i (1 .. 50) {
    ctl('release', 'hello', '--weights', "$vd=" . (50 + $i % 2) . ",$vc="
        . (50 - $i % 2));
    ctl('rollback', 'hello') if $i == 1;
}
is(rcli('LLEN', 'faas:history:hello'), 50, 'history: at most 50 entries');

$t->done;
