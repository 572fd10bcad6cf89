#!/usr/bin/perl

# Tests for the release loop end to end: faasctl deploy, deploy --stage,
# release with weights, a sticky key and a rule, rollback and promote,
# against real Redis, faasd -R and nginx with two workers.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use FaasTest;

my $t = FaasTest->new;
my $url = $t->start_redis;
my $store = $t->dir . '/store';

sub code {
    return "exports.handler = async (ctx) => { ctx.body = { code: $_[0] }; };\n";
}

$t->function('shop', 'index.js' => code(1), 'f.yml' => <<'EOF');
service: gray
functions:
  shop:
    handler: index.handler
    concurrency: 16
    events:
      - http: { path: /shop, method: get }
EOF

$t->nginx_conf(<<"EOF", workers => 2);
    faas_redis $url;
    server {
        listen 127.0.0.1:%%PORT%%;
        add_header X-Version \$faas_version always;
        location / { faas_pass; }
    }
EOF

$t->start_faasd(redis => $url);
$t->start_nginx;

sub faasctl {
    my $cmd = join ' ', map { "'$_'" } "$FaasTest::BUILD/bin/faasctl",
        '--redis', $url, @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub code_of {
    my ($r) = @_;
    return eval { decode_json($r->{body})->{code} } // 0;
}

sub shop {
    my (@headers) = @_;
    return code_of($t->http(GET => '/shop', headers => \@headers));
}

# the first request after a change may still meet the previous table
sub settle {
    my ($want) = @_;
    return $t->wait_for(sub { $want->() }, 5);
}

my ($rc, $out) = faasctl('deploy', $t->dir . '/functions/shop',
                         '--store', $store);
is($rc, 0, 'deploy v1') or diag($out);
ok(settle(sub { shop() == 1 }), 'v1 serves');

$t->write_file('functions/shop/index.js', code(2));
($rc, $out) = faasctl('deploy', $t->dir . '/functions/shop', '--stage',
                      '--store', $store);
is($rc, 0, 'deploy --stage v2') or diag($out);
like($out, qr/shop v2 \(staged\)/, 'staged');
is_deeply([ grep { $_ != 1 } map { shop() } 1 .. 50 ], [],
          'a staged version takes no traffic');

($rc, $out) = faasctl('release', 'shop', '--weights', 'v1=80,v2=20',
                      '--sticky', 'cookie:uid',
                      '--rule', 'header:x-lane=beta -> v2');
is($rc, 0, 'release 80/20, sticky, one rule') or diag($out);
settle(sub { shop('X-Lane' => 'beta') == 2 });

# the rule: a pre-release lane
is_deeply([ grep { $_ != 2 } map { shop('X-Lane' => 'beta') } 1 .. 40 ], [],
          'the rule sends its lane to v2');

# the split, sticky by cookie
my (%on, $v2);
for my $uid (1 .. 1000) {
    my $c = shop('Cookie' => "uid=u$uid");
    $on{$uid} = $c;
    $v2++ if $c == 2;
}
my $share = 100 * ($v2 // 0) / 1000;
ok($share > 16 && $share < 24, "sticky split near 20% ($share%)");

my $moved = grep { shop('Cookie' => "uid=u$_") != $on{$_} } 1 .. 200;
is($moved, 0, 'the same key always gets the same version');

# growing the canary keeps every key it had
($rc, $out) = faasctl('release', 'shop', '--weights', 'v1=50,v2=50',
                      '--sticky', 'cookie:uid');
is($rc, 0, 'release 50/50') or diag($out);
sleep 0.3;
my $lost = grep { $on{$_} == 2 && shop('Cookie' => "uid=u$_") != 2 } 1 .. 1000;
is($lost, 0, 'keys on the canary at 20% stay on it at 50%');

# invalid policies change nothing
my $gen = $t->redis_cli('GET', 'faas:generation');
($rc, $out) = faasctl('release', 'shop', '--weights', 'v1=50,v9=50');
isnt($rc, 0, 'unknown version refused');
($rc, $out) = faasctl('release', 'shop', '--weights', 'v1=50,v2=40');
isnt($rc, 0, 'weights summing to 90 refused');
like($out, qr/100/, 'and the message says so');
is($t->redis_cli('GET', 'faas:generation'), $gen, 'nothing was written');

# rollback to 80/20, then back to no policy; promote
($rc, $out) = faasctl('rollback', 'shop');
is($rc, 0, 'rollback') or diag($out);
($rc, $out) = faasctl('rollback', 'shop');
is($rc, 0, 'rollback again: before the release') or diag($out);
my $start = time;
ok(settle(sub {
    !grep { shop('Cookie' => "uid=u$_") != 1 } grep { $on{$_} == 2 } 1 .. 50
}), 'rolled back: v1 only');
ok(time - $start < 1, 'rollback served within 1 s');

($rc, $out) = faasctl('promote', 'shop', 'v2');
is($rc, 0, 'promote v2') or diag($out);
ok(settle(sub { !grep { shop() != 2 } 1 .. 20 }), 'v2 serves everything');
my $r = $t->http(GET => '/shop');
is(FaasTest::hdr($r, 'X-Version'), 'v2', '$faas_version');

$t->done;
