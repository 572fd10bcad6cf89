#!/usr/bin/perl

# `make run`: scripts/run-demo on free ports, in a directory of the
# test's own.  The curl and faasctl lines it prints are run as printed:
# routing, the aggregated page (complete on its first request), a gray
# release of hello v1 and v2 whose split shows both versions, a rule and
# a promote.  Then SIGINT, and no process the demo started may be left.
# The same for FAAS_DEMO=manifest, without Redis.

use strict;
use warnings;

use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use FaasTest;

my $json = JSON::PP->new;

# every descendant of PID, as "pid:starttime" so that a reused pid is
# not taken for a process left behind
sub descendants {
    my ($root) = @_;
    my (%children, %start);
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        close $fh;
        next unless defined $line
            && $line =~ /^(\d+) \(.*\) \S+ (\d+)(?: \S+){17} (\d+)/;
        push @{$children{$2}}, $1;
        $start{$1} = $3;
    }
    my @out;
    my @todo = ($root);
    while (defined(my $p = shift @todo)) {
        for my $c (@{$children{$p} || []}) {
            push @out, "$c:$start{$c}";
            push @todo, $c;
        }
    }
    return @out;
}

sub alive {
    my ($id) = @_;
    my ($pid, $start) = split /:/, $id;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $line = <$fh>;
    close $fh;
    return 0 unless defined $line
        && $line =~ /^\d+ \(.*\) (\S+)(?: \S+){19} (\d+)/;
    return $1 ne 'Z' && $2 == $start;
}

# processes whose command line names the demo's directory
sub naming {
    my ($dir) = @_;
    my @found;
    for my $cmdline (glob '/proc/[0-9]*/cmdline') {
        open my $fh, '<', $cmdline or next;
        my $c = do { local $/; <$fh> } // '';
        close $fh;
        $c =~ tr/\0/ /;
        push @found, $c if index($c, $dir) >= 0;
    }
    return @found;
}

# a printed `curl -i` line, run: {status, headers (lc name => value), body}
sub curl_i {
    my ($t, $line) = @_;
    my ($rc, $out, $err) = $t->command(20, 'sh', '-c', $line);
    is($rc, 0, "ran: $line") or diag($err);
    my ($head, $body) = split /\r\n\r\n/, $out, 2;
    my @lines = split /\r\n/, $head // '';
    my ($status) = (shift(@lines) // '') =~ m{^HTTP/1\.[01] (\d{3})};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } @lines;
    return { status => $status // 0, headers => \%h, body => $body // '' };
}

sub decode {
    my ($text) = @_;
    my $v = eval { $json->decode($text) };
    return $v // {};
}

# starts the demo; returns the lines it printed for the user to run
sub start_demo {
    my ($t, %env) = @_;
    local @ENV{keys %env} = values %env;
    local $ENV{FAAS_PORT} = $t->port;
    local $ENV{FAAS_DEMO_DIR} = $t->dir . '/demo';
    local $ENV{NGX_FAAS_BUILD} = $FaasTest::BUILD;
    # a shell started with SIGINT ignored (prove in the background) could
    # not trap it: the demo gets it as a terminal would give it
    local $SIG{INT} = 'DEFAULT';
    $t->start_process('demo', "$FaasTest::TOP/scripts/run-demo");

    # "Logs:" ends what it prints once everything is up
    my $ready = $t->wait_for(sub {
        $t->read_file('demo.out') =~ /^(Logs: |run-demo: )/m
    }, 120);
    my $out = $t->read_file('demo.out');
    ok($ready && $out =~ /\(Ctrl-C stops it\)/ && $out =~ /^Logs: /m,
       'the demo says it is ready') or diag($out);
    return grep { s/^  (?=curl |export |for |\S*faasctl )// }
           split /\n/, $out;
}

# SIGINT to the script alone, as the terminal's Ctrl-C reaches it
sub stop_demo {
    my ($t) = @_;
    my $pid = $t->pid('demo');
    my @started = descendants($pid);
    ok(@started >= 4, scalar(@started) . ' processes started by the demo');

    my $status = $t->stop_process('demo', 'INT', 40);
    is($status, 0, 'the demo exits 0 on SIGINT');
    like($t->read_file('demo.out'), qr/demo stopped/, 'and says so');

    my @left = grep { alive($_) } @started;
    is(scalar(@left), 0, 'no process the demo started is left')
        or diag(join ' ', @left);
    my @named = naming($t->dir . '/demo');
    is(scalar(@named), 0, 'no process names the demo directory')
        or diag(join "\n", @named);

    # a failed test must not leave them behind either
    kill 'KILL', map { (split /:/)[0] } @left;

    my @bad = grep { /\[(alert|emerg)\]|exited on signal/ }
              split /\n/, $t->read_file('demo/nginx/logs/error.log');
    ok(!@bad, 'no alerts or crashes in error.log') or diag(join "\n", @bad);
}

sub line {
    my ($lines, $re) = @_;
    my @l = grep { $_ =~ $re } @$lines;
    ok(@l == 1, "one printed line matches $re") or diag(join "\n", @$lines);
    return $l[0] // 'false';
}

subtest 'make run: manifests and Redis' => sub {
    my $t = FaasTest->new;
    my @lines = start_demo($t);

    # the first request of all: the page's three calls answered
    my $r = curl_i($t, line(\@lines, qr{/api/page/42}));
    is($r->{status}, 200, 'page: 200');
    is($r->{headers}{'x-faas-completed'}, 'true', 'page: X-Faas-Completed');
    my $page = decode($r->{body});
    is($page->{greeting}{hello}, 'ada', 'page: hello, from Redis, called');
    is($page->{user}{id}, '42', 'page: users, from its manifest, called');
    ok(exists $page->{profile}{name}, 'page: profile, after user, called')
        or diag($r->{body});
    ok(!exists $page->{errors}, 'page: no errors');

    $r = curl_i($t, line(\@lines, qr{/api/hello\?name=faas}));
    is($r->{status}, 200, 'hello: 200');
    is($r->{body}, '{"hello":"faas"}', 'hello: v1 answers');
    is($r->{headers}{'x-faas-version'}, 'v1', 'hello: X-Faas-Version v1');

    $r = curl_i($t, line(\@lines, qr{-X POST .*/api/users/42}));
    is($r->{status}, 201, 'users: POST 201');
    is(decode($r->{body})->{body}{name}, 'Ada', 'users: the body stored');

    $r = curl_i($t, line(\@lines, qr{curl -i \S+/api/users/42$}));
    is($r->{status}, 200, 'users: GET 200');
    is(decode($r->{body})->{id}, '42', 'users: GET answers the user');

    $r = curl_i($t, line(\@lines, qr{/nope$}));
    is($r->{status}, 404, 'no route: 404');
    like($r->{body}, qr/"error":"no route"/, 'no route: JSON');

    $r = curl_i($t, line(\@lines, qr{-X DELETE}));
    is($r->{status}, 405, 'wrong method: 405');
    is($r->{headers}{allow}, 'GET, HEAD', 'wrong method: Allow');

    # the gray release, each line with the printed export before it
    my $export = line(\@lines, qr/^export FAAS_REDIS=/);
    my ($rc, $out, $err) = $t->command(30, 'sh', '-c',
        "$export; " . line(\@lines, qr/faasctl routes$/));
    is($rc, 0, 'faasctl routes') or diag($err);
    like($out, qr{GET\s+/api/hello -> hello}, 'routes: hello from Redis');

    ($rc, $out, $err) = $t->command(30, 'sh', '-c',
        "$export; " . line(\@lines, qr/faasctl release hello/));
    is($rc, 0, 'faasctl release') or diag($err);
    like($out, qr/^hello: release v1=50%,v2=50%/, 'release: the split');

    ($rc, $out, $err) = $t->command(30, 'sh', '-c',
        line(\@lines, qr/^for i in/));
    is($rc, 0, 'the curl loop ran') or diag($err);
    my %seen;
    for (split /\n/, $out) {
        my ($body, $v) = /^(\{.*\})  <- (v\d)$/ or next;
        my $greeting = exists decode($body)->{greeting} ? 'v2' : 'v1';
        $seen{$v}++ if $greeting eq $v;
    }
    ok($seen{v1} && $seen{v2}, 'the split shows both versions, each its own')
        or diag($out);
    is(($seen{v1} // 0) + ($seen{v2} // 0), 8, 'eight answers');

    ($rc, $out) = $t->command(20, 'sh', '-c',
        line(\@lines, qr/X-Faas-Version: v2/));
    like($out, qr/"greeting":"Hello, world!"/, 'the rule: v2 on request');

    ($rc, $out, $err) = $t->command(30, 'sh', '-c',
        "$export; " . line(\@lines, qr/faasctl promote hello v2/));
    is($rc, 0, 'faasctl promote') or diag($err);
    like($out, qr/^hello v2/, 'promote: v2');

    $r = curl_i($t, line(\@lines, qr{/api/hello\?name=faas}));
    is($r->{headers}{'x-faas-version'}, 'v2', 'promoted: v2 answers');

    stop_demo($t);
};

subtest 'FAAS_DEMO=manifest' => sub {
    my $t = FaasTest->new;
    my @lines = start_demo($t, FAAS_DEMO => 'manifest');

    ok(!grep(/faasctl/, @lines), 'no faasctl lines');

    my $r = curl_i($t, line(\@lines, qr{/api/page/42}));
    is($r->{headers}{'x-faas-completed'}, 'true', 'page: X-Faas-Completed');
    is(decode($r->{body})->{greeting}{hello}, 'ada', 'page: hello called');

    $r = curl_i($t, line(\@lines, qr{/api/hello\?name=faas}));
    is($r->{body}, '{"hello":"faas"}', 'hello from its manifest');
    ok(!exists $r->{headers}{'x-faas-version'}, 'without a version');

    stop_demo($t);
};

done_testing();
