package FaasTest;

# The integration test harness of ngx_faas: a temporary directory per test
# file, free loopback ports, real nginx with the built module, real faasd
# and Node workers.  Processes are started by the harness and stopped by
# PID when the test ends; error.log is checked for [alert], [emerg] and
# crashed nginx workers.
#
#     my $t = FaasTest->new;
#     $t->function('hello', 'f.yml' => $yml, 'index.js' => $js);
#     $t->nginx_conf($http_block_body);
#     $t->run;                                # faasd, then nginx
#     my $r = $t->http(GET => '/api/hello');  # {status, headers, body}

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::More;

our $TOP = abs_path(dirname(__FILE__) . '/../..');
our $BUILD = $ENV{NGX_FAAS_BUILD} || "$TOP/build";
our $NGINX = $ENV{NGINX_BIN} || '/usr/sbin/nginx';

my $ROOT = ($> == 0);

sub new {
    my ($class, %opts) = @_;

    my $dir = tempdir('ngx_faas-t-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{FAAS_TEST_KEEP});
    chmod 0711, $dir;

    my $self = bless {
        dir => $dir,
        pids => {},
        port => free_port(),
        allow => [],
        %opts,
    }, $class;

    make_path("$dir/functions", "$dir/nginx/logs", "$dir/nginx/tmp");
    chmod 0755, "$dir/functions";

    return $self;
}

sub dir { $_[0]{dir} }

# the main port, or another free one by name (%%PORT_name%% in configs)
sub port {
    my ($self, $name) = @_;
    return $self->{port} unless defined $name;
    return $self->{ports}{$name} //= free_port();
}

sub sockdir { "$_[0]{dir}/sock" }
sub error_log { "$_[0]{dir}/nginx/logs/error.log" }
sub faasd_log { "$_[0]{dir}/faasd.log" }

# a free loopback port: bound by the kernel, then released for the server
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    make_path(dirname($path));
    open my $fh, '>', $path or die "$path: $!";
    print $fh $content;
    close $fh;
    chmod 0644, $path;
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '<', $path or return '';
    local $/;
    my $content = <$fh>;
    close $fh;
    return $content;
}

# functions/NAME/ with the given files; returns the directory
sub function {
    my ($self, $name, %files) = @_;
    my $d = "$self->{dir}/functions/$name";
    make_path($d);
    chmod 0755, $d;
    for my $f (sort keys %files) {
        $self->write_file("functions/$name/$f", $files{$f});
    }
    return $d;
}

# the contents of t/fixtures/NAME
sub fixture {
    my ($self, $name) = @_;
    return $self->read_file("$TOP/t/fixtures/$name");
}

# Text allowed in error.log at the end despite the default checks.
sub allow_log {
    my ($self, $re) = @_;
    push @{$self->{allow}}, $re;
}

# The body of nginx.conf's http block; the harness adds the rest.
# %%PORT%%, %%SOCKDIR%%, %%FUNCTIONS%% and %%DIR%% are expanded.
sub nginx_conf {
    my ($self, $http, %opts) = @_;

    my $user = $ROOT ? "user nobody nogroup;" : '';
    my $workers = $opts{workers} || 1;
    my $conf = <<"EOF";
load_module $BUILD/modules/ngx_http_faas_module.so;
$user
worker_processes $workers;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log logs/access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    faas_socket_dir %%SOCKDIR%%;

$http
}
EOF
    $self->write_file('nginx/nginx.conf', $self->expand($conf));
}

sub expand {
    my ($self, $text) = @_;
    my %v = (PORT => $self->{port}, SOCKDIR => $self->sockdir,
             FUNCTIONS => "$self->{dir}/functions", DIR => $self->{dir},
             BUILD => $BUILD);
    $text =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;
    $text =~ s/%%(\w+)%%/exists $v{$1} ? $v{$1} : "%%$1%%"/ge;
    return $text;
}

# nginx -t on the written configuration: (exit status, output)
sub nginx_test {
    my ($self) = @_;
    my $out = `$NGINX -p $self->{dir}/nginx/ -c nginx.conf -t 2>&1`;
    return ($? >> 8, $out);
}

sub faasd_args {
    my ($self) = @_;
    my @user = $ROOT ? ('-u', 'nobody', '-g', 'nogroup') : ();
    return ('-m', "$self->{dir}/functions/*/f.yml", '-s', $self->sockdir,
            @user, '-l', $self->faasd_log);
}

# runs a command to its end, bounded in time: (exit status, stdout,
# stderr); (-1, '', 'killed: ...') when it took longer than $timeout s
sub command {
    my ($self, $timeout, @cmd) = @_;
    my ($out, $err) = map { "$self->{dir}/command.$_" } qw(out err);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec @cmd or POSIX::_exit(127);
    }
    my $until = time + $timeout;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $until) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            return (-1, '', "killed: took more than $timeout s");
        }
        sleep 0.01;
    }
    return ($? >> 8, $self->read_file($out), $self->read_file($err));
}

sub spawn {
    my ($self, $name, @cmd) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{dir}/$name.out";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{pids}{$name} = $pid;
    return $pid;
}

sub pid { $_[0]{pids}{$_[1]} }

# A process of the test's own (a backend, a fake service): started like
# the others, its output in NAME.out, stopped by PID when the test ends
# (or earlier with stop_process).  Returns its pid.
sub start_process {
    my ($self, $name, @cmd) = @_;
    croak "process $name already started" if $self->{pids}{$name};
    return $self->spawn($name, @cmd);
}

# waits until 127.0.0.1:PORT accepts connections; croaks after $timeout s
# (10 by default) with what the process NAME printed, when given
sub wait_port {
    my ($self, $port, $timeout, $name) = @_;
    $self->wait_for(sub {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        return $s ? 1 : 0;
    }, $timeout || 10) and return 1;
    croak "nothing listens on 127.0.0.1:$port"
        . (defined $name ? ":\n" . $self->read_file("$name.out") : '');
}

# faasd with every manifest under functions/; waits for the sockets named
# (function-slot) or, by default, for slot 0 of each function.  With
# redis => URL, faasd runs what the Redis table holds instead (args =>
# more options), and waits for nothing by default.
sub start_faasd {
    my ($self, %opts) = @_;
    my @args = $self->faasd_args;
    if ($opts{redis}) {
        @args = grep { $_ ne '-m' && !m{/functions/\*/f\.yml$} } @args;
        push @args, '-R', $opts{redis}, @{$opts{args} || []};
    }
    $self->spawn('faasd', "$BUILD/bin/faasd", @args);

    my @wait = @{$opts{wait} || $opts{redis} && [] || [
        map { m{functions/([^/]+)$} ? "$1-0" : () }
        glob("$self->{dir}/functions/*")
    ]};

    for my $w (@wait) {
        $self->wait_for(sub { -S $self->sockdir . "/$w.sock" },
                        $opts{timeout} || 15)
            or croak "faasd: $w.sock did not appear:\n"
                . $self->read_file('faasd.log') . $self->read_file('faasd.out');
    }
}

# a redis-server of the test's own, on a Unix socket in the test directory
# (and, with tcp => 1, on a free loopback port too); returns its URL
sub start_redis {
    my ($self, %opts) = @_;
    my $dir = "$self->{dir}/redis";
    make_path($dir);
    my $port = $opts{tcp} ? $self->port('redis') : 0;
    my @cmd = ('redis-server', '--port', $port, '--bind', '127.0.0.1',
               '--unixsocket', "$dir/redis.sock", '--unixsocketperm', '777',
               '--dir', $dir, '--save', '', '--appendonly', 'no',
               '--daemonize', 'no', '--logfile', "$dir/redis.log",
               @{$opts{args} || []});
    $self->spawn('redis', @cmd);
    $self->wait_for(sub { -S "$dir/redis.sock" }, 10)
        or croak "redis-server did not start:\n"
            . $self->read_file("$dir/redis.log");
    return $self->redis_url;
}

sub redis_url {
    my ($self) = @_;
    return "unix://$self->{dir}/redis/redis.sock";
}

# redis-cli against the test's redis; returns its output, chomped
sub redis_cli {
    my ($self, @args) = @_;
    my $sock = "$self->{dir}/redis/redis.sock";
    open my $fh, '-|', 'redis-cli', '-s', $sock, @args
        or die "redis-cli: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    $out //= '';
    $out =~ s/\n\z//;
    return $out;
}

sub stop_redis {
    my ($self) = @_;
    $self->stop_process('redis', 'TERM');
    unlink "$self->{dir}/redis/redis.sock";
}

sub start_nginx {
    my ($self) = @_;
    $self->spawn('nginx', $NGINX, '-p', "$self->{dir}/nginx/", '-c',
                 'nginx.conf', '-g', 'daemon off;');
    $self->wait_for(sub {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}");
        return $s ? 1 : 0;
    }, 10) or croak "nginx did not start:\n" . $self->read_file('nginx.out')
        . $self->read_file($self->error_log);
}

sub run {
    my ($self, %opts) = @_;
    $self->start_faasd(%opts);
    $self->start_nginx;
    return $self;
}

sub wait_for {
    my ($self, $cond, $timeout) = @_;
    my $until = time + ($timeout || 10);
    while (time < $until) {
        return 1 if $cond->();
        sleep 0.05;
    }
    return $cond->();
}

sub signal {
    my ($self, $name, $sig) = @_;
    my $pid = $self->{pids}{$name} or croak "no process $name";
    kill $sig, $pid;
}

# signal the nginx master and wait until the reload has taken effect
sub nginx_reload {
    my ($self) = @_;
    my $log = $self->error_log;
    my $before = () = $self->read_file($log) =~ /reconfiguring/g;
    $self->signal('nginx', 'HUP');
    $self->wait_for(sub {
        my $n = () = $self->read_file($log) =~ /reconfiguring/g;
        $n > $before;
    }, 10);
    sleep 0.3;
}

sub stop_process {
    my ($self, $name, $sig, $timeout) = @_;
    my $pid = delete $self->{pids}{$name} or return;
    kill $sig || 'TERM', $pid;
    my $until = time + ($timeout || 10);
    while (time < $until) {
        return $? if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return -1;
}

sub stop {
    my ($self) = @_;
    return if $self->{stopped}++;
    $self->stop_process('nginx', 'QUIT');
    $self->stop_process('faasd', 'TERM', 15);
    for my $name (keys %{$self->{pids}}) {
        $self->stop_process($name, 'TERM');
    }
}

# pids of the Node workers faasd reported ready, by "function#slot"
sub workers {
    my ($self) = @_;
    my %w;
    for (split /\n/, $self->read_file('faasd.log')) {
        $w{"$1#$2"} = $3 if /function (\S+) slot (\d+) ready \(pid (\d+)/;
    }
    return \%w;
}

# The checks every test file ends with: nothing alarming in the logs.
sub check_logs {
    my ($self) = @_;
    my $log = $self->read_file($self->error_log);
    my @bad = grep { /\[(alert|emerg)\]|exited on signal|AddressSanitizer/ }
              split /\n/, $log;
    for my $re (@{$self->{allow}}) {
        @bad = grep { !/$re/ } @bad;
    }
    ok(!@bad, 'no alerts or crashes in error.log')
        or diag(join "\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
}

sub done {
    my ($self) = @_;
    $self->stop;
    $self->check_logs;
    if (!Test::More->builder->is_passing) {
        diag("--- error.log tail\n" . tail($self->read_file($self->error_log)));
        diag("--- faasd.log tail\n" . tail($self->read_file('faasd.log')));
    }
    done_testing();
}

sub tail {
    my @l = split /\n/, $_[0] // '';
    return join "\n", @l[($#l > 30 ? $#l - 30 : 0) .. $#l];
}

sub DESTROY {
    my ($self) = @_;
    local $?;
    $self->stop;
}

# A minimal HTTP/1.1 client over one loopback connection: returns
# { status, headers => { lc name => [values] }, body }.  Options:
# headers (array of pairs), body, timeout (s), keep (reuse $self's socket).
sub http {
    my ($self, $method, $path, %o) = @_;

    my $port = $o{port} // $self->{port};
    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                     Timeout => 5)
        or return { status => 0, error => "connect: $!" };

    my @h = @{$o{headers} || []};
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n";
    while (my ($k, $v) = splice @h, 0, 2) {
        $req .= "$k: $v\r\n";
    }
    if (defined $o{body}) {
        $req .= "Content-Length: " . length($o{body}) . "\r\n";
    }
    $req .= "\r\n";
    $req .= $o{body} if defined $o{body};

    my $timeout = $o{timeout} || 10;
    my $raw = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm $timeout;
        my $off = 0;
        while ($off < length $req) {
            my $n = syswrite($sock, $req, 65536, $off);
            last unless defined $n;
            $off += $n;
        }
        while (1) {
            my $n = sysread($sock, my $buf, 65536);
            last unless $n;
            $raw .= $buf;
        }
        alarm 0;
    };
    alarm 0;
    close $sock;

    return { status => 0, error => $@ || 'no answer', raw => $raw }
        if $raw !~ /\r\n\r\n/;

    return parse_response($raw, $method);
}

sub parse_response {
    my ($raw, $method) = @_;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my @lines = split /\r\n/, $head;
    my ($status) = (shift @lines) =~ m{^HTTP/1\.[01] (\d{3})};
    my %headers;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        push @{$headers{lc $k}}, $v;
    }
    if (($headers{'transfer-encoding'}[0] // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }
    return { status => $status + 0, headers => \%headers, body => $body,
             raw => $raw };
}

# header value (first) of a response
sub hdr {
    my ($r, $name) = @_;
    my $v = $r->{headers}{lc $name};
    return $v ? $v->[0] : undef;
}

1;
