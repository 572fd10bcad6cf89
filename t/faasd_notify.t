#!/usr/bin/perl

# faasd as a systemd Type=notify service: READY=1 once every worker is
# ready or has failed once, RELOADING=1 and READY=1 around a SIGHUP,
# STOPPING=1 at SIGTERM, on a socket path or an abstract name, and
# NOTIFY_SOCKET kept from the workers.

use strict;
use warnings;

use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use Test::More;
use FaasTest;

my $t = FaasTest->new;

# the initializer takes a while, so that READY=1 sent too early shows
$t->function('slow', 'f.yml' => <<'EOF', 'index.js' => <<'EOF');
service: notify
functions:
  slow:
    handler: index.handler
    initializer: index.init
EOF
exports.init = () => new Promise((resolve) => setTimeout(resolve, 400));
exports.handler = async (ctx) => { ctx.body = 'slow'; };
console.log('NOTIFY_SOCKET=' + (process.env.NOTIFY_SOCKET || 'unset'));
EOF

$t->function('broken', 'f.yml' => <<'EOF', 'index.js' => <<'EOF');
service: notify
functions:
  broken:
    handler: index.missing
EOF
exports.handler = async (ctx) => { ctx.body = 'never'; };
EOF

# the next datagram, or undef after $timeout s
sub receive {
    my ($sock, $timeout) = @_;
    return undef unless IO::Select->new($sock)->can_read($timeout);
    my $msg;
    defined $sock->recv($msg, 4096) or return undef;
    return $msg;
}

sub start {
    my ($name) = @_;
    my $bind = $name =~ /^@/ ? "\0" . substr($name, 1) : $name;
    my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $bind)
        or die "notify socket $name: $!";
    local $ENV{NOTIFY_SOCKET} = $name;
    $t->spawn('faasd', "$FaasTest::BUILD/bin/faasd", $t->faasd_args);
    return $sock;
}

for my $name ($t->dir . '/notify.sock', "\@ngx-faas-test-notify-$$") {
    my $kind = $name =~ /^@/ ? 'abstract name' : 'socket path';
    unlink $t->faasd_log;
    my $sock = start($name);

    my $msg = receive($sock, 15) // '';
    like($msg, qr/^READY=1$/m, "$kind: READY=1 at start");
    ok(-S $t->sockdir . '/slow-0.sock',
       "$kind: READY=1 only once the slow worker is ready");
    like($t->read_file($t->faasd_log),
         qr/function broken slot 0: worker pid \d+ failed to initialise/,
         "$kind: and once the broken one has failed");
    like($msg, qr/^STATUS=2 functions, 1 workers ready$/m,
         "$kind: STATUS says what runs");

    $t->signal('faasd', 'HUP');
    $msg = receive($sock, 5) // '';
    like($msg, qr/^RELOADING=1$/m, "$kind: RELOADING=1 at SIGHUP");
    like($msg, qr/^MONOTONIC_USEC=\d+$/m, "$kind: with MONOTONIC_USEC");
    $msg = receive($sock, 15) // '';
    like($msg, qr/^READY=1$/m, "$kind: READY=1 after the reload");
    like($t->read_file($t->faasd_log), qr/slot 0: pid \d+ replaces pid/,
         "$kind: once the replacement is ready");

    $t->signal('faasd', 'TERM');
    $msg = receive($sock, 5) // '';
    like($msg, qr/^STOPPING=1$/m, "$kind: STOPPING=1 at SIGTERM");
    is($t->stop_process('faasd', 'TERM', 15), 0, "$kind: faasd exits 0");
    unlink $name unless $name =~ /^@/;
}

like($t->read_file($t->faasd_log), qr/\[slow#0 pid \d+\] NOTIFY_SOCKET=unset/,
     'workers do not inherit NOTIFY_SOCKET');
unlike($t->read_file($t->faasd_log), qr/cannot notify/, 'no notify error');

{
    local $ENV{NOTIFY_SOCKET} = 'relative/notify.sock';
    my ($rc, $out, $err) = $t->command(15, "$FaasTest::BUILD/bin/faasd",
                                       $t->faasd_args);
    is($rc, 1, 'a relative NOTIFY_SOCKET stops faasd');
    like($err, qr/^faasd: NOTIFY_SOCKET "relative\/notify\.sock": not an/,
         'and says why');
}

$t->done;
