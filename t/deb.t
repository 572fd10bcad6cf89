#!/usr/bin/perl

# The Debian packages (make deb, docs/install.md): built (or reused when
# their inputs did not change), extracted into the test directory, their
# layout and control fields checked, then run as installed: nginx loads
# the module through the packaged modules-available snippet, and faasd
# is started as faasd.service would start it (its ExecStart, with its
# environment file, capability bounding set, no new privileges and
# Type=notify readiness), with the packaged runtime as its default.
# As root, a private mount namespace lays the extracted /usr/lib and
# /usr/sbin over the real ones, so that the packaged paths are used as
# they are; nothing is installed on the machine.

use strict;
use warnings;

use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_DGRAM);
use Test::More;
use FaasTest;

my $t = FaasTest->new;
my $dir = $t->dir;
my $top = $FaasTest::TOP;
my $debs = "$FaasTest::BUILD/deb";

for my $tool (qw(dpkg-buildpackage dh dpkg-deb)) {
    plan skip_all => "$tool not found (scripts/setup installs it)"
        unless grep { -x "$_/$tool" } split /:/, $ENV{PATH};
}

# the build: about a minute, nothing when the inputs are unchanged
my ($rc, $out, $err) = $t->command(600, "$top/scripts/build-deb", $debs);
sub give_up {
    diag(@_);
    $t->done;
    exit;
}

is($rc, 0, 'the packages build') or give_up("build-deb: $out$err");

my %deb;
for my $pkg (qw(libnginx-mod-http-faas ngx-faas)) {
    my @f = glob("$debs/${pkg}_*.deb");
    is(scalar @f, 1, "one $pkg package") or give_up("no $pkg in $debs");
    $deb{$pkg} = $f[0];
}

sub field {
    my ($pkg, $name) = @_;
    my $v = `dpkg-deb -f '$deb{$pkg}' $name`;
    chomp $v;
    return $v;
}

sub control_file {
    my ($pkg, $name) = @_;
    my $cdir = "$dir/control/$pkg";
    mkdir "$dir/control";
    system('dpkg-deb', '-e', $deb{$pkg}, $cdir) unless -d $cdir;
    return $t->read_file("$cdir/$name");
}

my $root = "$dir/root";
for my $pkg (sort keys %deb) {
    is(system('dpkg-deb', '-x', $deb{$pkg}, $root), 0, "$pkg extracts");
}

# --- the module, as Debian's libnginx-mod-http-* are laid out

my $so = "$root/usr/lib/nginx/modules/ngx_http_faas_module.so";
ok(-f $so, 'the module is in nginx\'s module directory');

my $snippet = "$root/usr/share/nginx/modules-available/mod-http-faas.conf";
is($t->read_file($snippet), "load_module modules/ngx_http_faas_module.so;\n",
   'the modules-available snippet loads it');
is(readlink('/usr/share/nginx/modules') =~ s{^\.\./\.\./}{/usr/}r,
   '/usr/lib/nginx/modules',
   'which nginx\'s prefix resolves to /usr/lib/nginx/modules');

my $abivars = '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars';
my ($abi) = $t->read_file($abivars) =~ /^nginx:abi=(\S+)$/m;
like(field('libnginx-mod-http-faas', 'Depends'), qr/(^|, )\Q$abi\E(,|$)/,
     "the module depends on the nginx ABI it was built for ($abi)");
like(`dpkg-query -W -f '\${Provides}' nginx`, qr/\Q$abi\E/,
     'which the installed nginx provides');
like(control_file('libnginx-mod-http-faas', 'postinst'),
     qr{ln[ ]-sf[ ]/usr/share/nginx/modules-available/\$from\s+\\\s+
        /etc/nginx/modules-enabled/\$to}x,
     'postinst enables the module in /etc/nginx/modules-enabled');
like(control_file('libnginx-mod-http-faas', 'postinst'),
     qr/mod-http-faas\.conf:50-mod-http-faas\.conf/,
     'as 50-mod-http-faas.conf');

# --- faasd, faasctl, the runtime, the unit

for my $f (qw(usr/sbin/faasd usr/bin/faasctl)) {
    ok(-x "$root/$f", "$f is there");
}
my $runtime = '/usr/lib/ngx_faas/runtime/node/bin/faas-worker.js';
ok(-f "$root$runtime", "the runtime is in $runtime");
for my $f (qw(usr/share/man/man8/faasd.8.gz usr/share/man/man1/faasctl.1.gz
              usr/share/doc/ngx-faas/install.md)) {
    ok(-f "$root/$f", "$f is there");
}
like(`'$root/usr/sbin/faasd' -h 2>&1`, qr/\(default \Q$runtime\E\)/,
     'faasd\'s default runtime is the installed one');
open my $bin, '<', "$root/usr/sbin/faasd" or die;
my $bytes = do { local $/; <$bin> };
unlike($bytes, qr/\Q$top\E/, 'no path of the build tree in faasd');

like(field('ngx-faas', 'Depends'), qr/(^|, )nodejs\b/, 'ngx-faas needs node');
like(control_file('ngx-faas', 'conffiles'), qr{^/etc/default/ngx-faas$}m,
     '/etc/default/ngx-faas is a conffile');
like(control_file('ngx-faas', 'postinst'),
     qr/adduser --system .*\n?.* ngx-faas/, 'postinst adds the ngx-faas user');

my $unit_path = "$root/lib/systemd/system/faasd.service";
my $unit = $t->read_file($unit_path);
ok($unit, 'faasd.service is there');

# the unit as systemd reads it: continuation lines joined
my %u;
for (split /\n/, $unit =~ s/\\\n\s*/ /gr) {
    next if /^\s*(#|;|\[|$)/;
    my ($k, $v) = /^(\w+)=(.*)$/ or next;
    push @{$u{$k}}, $v;
}
sub unit1 { $u{$_[0]} ? $u{$_[0]}[-1] : '' }

is(unit1('Type'), 'notify', 'faasd.service is Type=notify');
is(unit1('ExecReload'), '/bin/kill -HUP $MAINPID', 'reloads with SIGHUP');
is(unit1('NoNewPrivileges'), 'yes', 'NoNewPrivileges');
like(unit1('ProtectSystem'), qr/^(yes|full|strict)$/, 'ProtectSystem');
is(unit1('RuntimeDirectory'), 'ngx_faas', 'the sockets in RuntimeDirectory');

# systemd-analyze verify, with the packaged faasd at its place
my $can_ns = $> == 0 && system('unshare -m true 2>/dev/null') == 0;
my @overlay = ('unshare', '-m', '--', 'sh', '-c',
    'for d in /usr/lib /usr/sbin; do '
    . 'mount -t overlay overlay -o "lowerdir=$0$d:$d" "$d" || exit 1; '
    . 'done; exec "$@"', $root);

SKIP: {
    skip 'systemd-analyze not found', 2 unless -x '/usr/bin/systemd-analyze';
    skip 'no mount namespace (not root)', 2 unless $can_ns;
    my ($rc, $out, $err) = $t->command(60, @overlay, 'systemd-analyze',
                                       'verify', $unit_path);
    is($rc, 0, 'systemd-analyze verify passes');
    is($out . $err, '', 'and has nothing to say');
}

# --- nginx with the packaged module, through its snippet

symlink("$root/usr/lib/nginx/modules", "$dir/nginx/modules") or die;
$t->function('hello', 'f.yml' => <<'EOF', 'index.js' => <<'EOF');
service: deb
functions:
  hello:
    handler: index.handler
    events:
      - http:
          path: /api/hello
          method: get
EOF
exports.handler = async (ctx) => {
  ctx.body = { hello: ctx.query.name || 'world', uid: process.getuid(),
               runtime: process.argv[1] };
};
EOF

my $sockdir = "$dir/run/ngx_faas";
my $user = $> == 0 ? 'user nobody nogroup;' : '';
$t->write_file('nginx/nginx.conf', <<"EOF");
include $snippet;
$user
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log logs/access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    faas_socket_dir $sockdir;
    faas_manifest $dir/functions/*/f.yml;
    server {
        listen 127.0.0.1:@{[ $t->port ]};
        location /api/ { faas_pass; }
    }
}
EOF
($rc, $out) = $t->nginx_test;
is($rc, 0, 'nginx -t loads the packaged module through its snippet')
    or diag($out);

# --- faasd as faasd.service starts it

# the environment: Environment=, then the packaged EnvironmentFile as this
# machine's administrator would edit it (-m the test's functions, and
# nobody as the workers' user: ngx-faas is made by postinst, not here)
my %env;
for (@{$u{Environment} || []}) {
    $env{$1} = $2 while /(\w+)=(\S+)/g;
}
my $default = $t->read_file("$root/etc/default/ngx-faas");
like($default, qr/^FAASD_OPTS=/m, '/etc/default/ngx-faas sets FAASD_OPTS');
is(unit1('EnvironmentFile'), '-/etc/default/ngx-faas',
   'which the unit reads');
my ($gname) = getgrgid($)) =~ /^(\S+)/;
my %admin = (
    FAASD_OPTS => "\"-m $dir/functions/*/f.yml\"",
    FAASD_USER => $> == 0 ? 'nobody' : scalar getpwuid($>),
    FAASD_GROUP => $> == 0 ? 'nogroup' : $gname,
);
$default =~ s/^#?(\w+)=.*$/exists $admin{$1} ? "$1=$admin{$1}" : $&/gme;
for (split /\n/, $default) {
    next if /^\s*(#|$)/;
    my ($k, $v) = /^(\w+)=(.*)$/ or next;
    $v =~ s/^"(.*)"$/$1/;
    $env{$k} = $v;
}

# ExecStart: $VAR is split into words, ${VAR} is one word
my @argv;
for my $w (split ' ', unit1('ExecStart')) {
    if ($w =~ /^\$(\w+)$/) {
        push @argv, split ' ', $env{$1} // '';
    } else {
        $w =~ s/\$\{(\w+)\}/$env{$1} \/\/ ''/ge;
        push @argv, $w;
    }
}
is($argv[0], '/usr/sbin/faasd', 'ExecStart runs /usr/sbin/faasd');
my ($s) = grep { $argv[$_] eq '-s' } 0 .. $#argv;
is($argv[$s + 1], '/run/' . unit1('RuntimeDirectory'),
   'its socket directory is the RuntimeDirectory');
ok(!grep({ $_ eq '-r' } @argv), 'and it gives no runtime');

# RuntimeDirectory= (root's, RuntimeDirectoryMode) at a place of the test
mkdir "$dir/run";
mkdir $sockdir, oct(unit1('RuntimeDirectoryMode') || '0755');
$argv[$s + 1] = $sockdir;

my @run = @argv;
if ($can_ns) {
    unshift @run, @overlay;
} else {
    diag('not root: faasd runs from the extracted tree, with -r');
    $run[0] = "$root$argv[0]";
    push @run, '-r', "$root$runtime";
}

# the unit's sandbox: its bounding set, no new privileges
if ($> == 0) {
    my $caps = join ',', map { '+' . lc(s/^CAP_//r) }
               split ' ', unit1('CapabilityBoundingSet');
    splice @run, $can_ns ? scalar(@overlay) : 0, 0,
        'setpriv', '--no-new-privs', "--bounding-set=-all,$caps", '--';
}

my $notify_path = "$dir/notify.sock";
my $notify = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $notify_path)
    or die "notify socket: $!";

sub notified {
    my ($timeout) = @_;
    return '' unless IO::Select->new($notify)->can_read($timeout);
    my $msg;
    defined $notify->recv($msg, 4096) or return '';
    return $msg;
}

{
    local $ENV{NOTIFY_SOCKET} = $notify_path;
    $t->spawn('faasd', @run);
}
like(notified(20), qr/^READY=1$/m, 'faasd tells systemd it is ready')
    or diag($t->read_file('faasd.out'));
ok(-S "$sockdir/hello-0.sock", 'with the worker ready');

SKIP: {
    skip 'not root: no bounding set to check', 2 unless $> == 0;
    my $status = $t->read_file('/proc/' . $t->pid('faasd') . '/status');
    like($status, qr/^NoNewPrivs:\s+1$/m, 'faasd runs with no new privileges');
    my ($bnd) = $status =~ /^CapBnd:\s+([0-9a-f]+)$/m;
    my $ncaps = () = sprintf('%b', hex($bnd // 0)) =~ /1/g;
    is($ncaps, scalar(split ' ', unit1('CapabilityBoundingSet')),
       'and the unit\'s capability bounding set');
}
my @st = stat($sockdir);
is($st[2] & 07777, 0750, 'the socket directory is 0750');

$t->start_nginx;
my $r = $t->http(GET => '/api/hello?name=deb');
is($r->{status}, 200, 'a function served by the packaged module and faasd');
like($r->{body}, qr/"hello":"deb"/, 'its answer');
my $want_runtime = $can_ns ? $runtime : "$root$runtime";
like($r->{body}, qr/"runtime":"\Q$want_runtime\E"/,
     'by a worker of the packaged runtime, faasd\'s default');
like($r->{body}, qr/"uid":@{[ $> == 0 ? scalar getpwnam('nobody') : $> ]}\b/,
     'running as FAASD_USER');

# ExecReload, with $MAINPID
my $reload = unit1('ExecReload') =~ s/\$MAINPID/$t->pid('faasd')/er;
is(system($reload), 0, 'ExecReload runs');
like(notified(5), qr/^RELOADING=1$/m, 'RELOADING=1');
like(notified(20), qr/^READY=1$/m, 'then READY=1 once the workers are new');
$r = $t->http(GET => '/api/hello');
like($r->{body}, qr/"hello":"world"/, 'still serving after the reload');

# KillMode=mixed: SIGTERM to faasd alone, which drains its workers
is(unit1('KillMode'), 'mixed', 'KillMode=mixed');
$t->signal('faasd', 'TERM');
like(notified(5), qr/^STOPPING=1$/m, 'STOPPING=1 at SIGTERM');
is($t->stop_process('faasd', 'TERM', unit1('TimeoutStopSec') || 90), 0,
   'faasd stops within TimeoutStopSec, exit status 0');
unlike($t->read_file('faasd.out'), qr/\[(emerg|error)\]/, 'no errors logged');

$t->done;
