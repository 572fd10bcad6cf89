#!/usr/bin/perl

# Tests for configuration errors: bad manifests and directives stop
# `nginx -t` (and `faasd -t`) with file:line:column and a clear message;
# a reload with a bad manifest keeps the running configuration serving.

use strict;
use warnings;

use Test::More;
use FaasTest;

my $t = FaasTest->new;
my $fdir = $t->dir . '/functions';

# the code the manifests name (faas_manifest_check_code)
$t->function($_, 'index.js' => "exports.handler = async () => {};\n")
    for qw(bad dup);

sub nginx_t {
    my ($manifest, $http) = @_;
    $t->write_file('functions/bad/f.yml', $manifest) if defined $manifest;
    $t->nginx_conf($http // <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
    my ($rc, $out) = $t->nginx_test;
    return ($rc, $out);
}

sub faasd_t {
    my $out = `$FaasTest::BUILD/bin/faasd -t -m '$fdir/bad/f.yml' -s @{[ $t->dir ]}/sock-t 2>&1`;
    return ($? >> 8, $out);
}

# every bad manifest: the same message from nginx -t and from faasd -t
my @bad = (
    [ "service: x\nfunctions:\n  a:\n    handler: index.handler\n    timeout: abc\n",
      qr{f\.yml:5:14: functions\.a\.timeout: .*"abc"} , 'timeout not a number' ],
    [ "service: x\nfunctions:\n  a:\n    events:\n      - http:\n          method: fetch\n",
      qr{f\.yml:6:19: .*unknown method "fetch"}i, 'unknown method' ],
    [ "service: x\nfunctions:\n  a:\n    handler: nodot\n",
      qr{f\.yml:4:14: .*handler}, 'handler without an export' ],
    [ "service: x\nfunctions:\n  bad/name:\n    handler: index.handler\n",
      qr{f\.yml:3:3: .*function name}, 'function name unfit for a socket' ],
    [ "service: [x\n",
      qr{f\.yml:\d+:\d+: .*}, 'YAML syntax error' ],
    [ "service: x\nfunctions:\n  a:\n    events:\n      - http:\n          path: nope\n",
      qr{f\.yml:6:17: .*path.*"/"}, 'path without a leading slash' ],
    [ "service: x\nfunctions:\n  a:\n    handler: index.handler\n  a:\n    handler: index.handler\n",
      qr{f\.yml:5:3: .*duplicate.*line 3}i, 'duplicate key' ],
    [ "service: x\nfunctions:\n  a:\n    events:\n      - http: { path: /x/*/y }\n",
      qr{f\.yml:5:\d+: .*/x/\*/y}, 'wildcard not at the end' ],
);

for my $b (@bad) {
    my ($yml, $re, $name) = @$b;
    my ($rc, $out) = nginx_t($yml);
    isnt($rc, 0, "nginx -t fails: $name");
    like($out, qr/\[emerg\].*$re/, "nginx -t says where: $name");
    ($rc, $out) = faasd_t();
    isnt($rc, 0, "faasd -t fails: $name");
    like($out, $re, "faasd -t says where: $name");
}

# faasd -S: the workers' scheduling policy
{
    my $args = "-t -m '$fdir/bad/f.yml' -s @{[ $t->dir ]}/sock-t";
    $t->write_file('functions/bad/f.yml',
                   "service: x\nfunctions:\n  a:\n    handler: index.handler\n");
    my $out = `$FaasTest::BUILD/bin/faasd -S normal $args 2>&1`;
    is($? >> 8, 0, 'faasd -S normal') or diag($out);
    $out = `$FaasTest::BUILD/bin/faasd -S fifo $args 2>&1`;
    is($? >> 8, 1, 'faasd -S fifo fails');
    like($out, qr/-S fifo: the workers' scheduling is "batch" or "normal"/,
         'faasd -S fifo says what it takes');
}

# two routes with the same shape and method, in two manifests
$t->write_file('functions/bad/f.yml', <<'EOF');
service: x
functions:
  one:
    events:
      - http: { path: /users/:id, method: get }
EOF
$t->write_file('functions/dup/f.yml', <<'EOF');
service: y
functions:
  two:
    events:
      - http: { path: /users/:uid, method: [get, post] }
EOF
my ($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    faas_manifest %%FUNCTIONS%%/dup/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
isnt($rc, 0, 'conflicting routes fail');
like($out, qr{dup/f\.yml:5:\d+: .*/users/:uid.*bad/f\.yml:5:\d+},
     'conflict names both places');

# the same function name twice
$t->write_file('functions/dup/f.yml', <<'EOF');
service: y
functions:
  one:
    events:
      - http: { path: /other }
EOF
($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/*/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
isnt($rc, 0, 'duplicate function fails');
like($out, qr{function "one" is already declared at .*f\.yml:3:3},
     'duplicate function names the first place');
unlink "$fdir/dup/f.yml";

# directives
($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/nothing-*/f.yml;
EOF
isnt($rc, 0, 'glob matching nothing fails');
like($out, qr{faas_manifest ".*nothing-\*/f\.yml" matches no file},
     'glob matching nothing: message');

($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/missing/f.yml;
EOF
isnt($rc, 0, 'missing manifest fails');
like($out, qr{missing/f\.yml.*No such file}, 'missing manifest: message');

$t->write_file('functions/bad/f.yml', <<'EOF');
service: x
functions:
  good:
    events:
      - http: { path: /good }
EOF

($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass nosuch; }
    }
EOF
isnt($rc, 0, 'unknown pinned function fails');
like($out, qr{faas_pass: unknown function "nosuch" in .*nginx\.conf:\d+},
     'unknown pinned function: message');

($rc, $out) = nginx_t(undef, <<'EOF');
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
isnt($rc, 0, 'faas_pass without manifests fails');
like($out, qr{"faas_pass" without a function name needs "faas_manifest"},
     'faas_pass without manifests: message');

($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; faas_pass; }
    }
EOF
like($out, qr{"faas_pass" directive is duplicate}, 'duplicate faas_pass');

($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; faas_read_timeout soon; }
    }
EOF
like($out, qr{"faas_read_timeout" directive invalid value}, 'bad time');

($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; faas_buffer_size 100; }
    }
EOF
like($out, qr{"faas_buffer_size" must be at least 1k}, 'tiny buffer');

# a good configuration passes, serves, and survives a bad reload
($rc, $out) = nginx_t(undef, <<'EOF');
    faas_manifest %%FUNCTIONS%%/bad/f.yml;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { faas_pass; }
    }
EOF
is($rc, 0, 'good configuration passes nginx -t') or diag($out);
unlike($out, qr/\[warn\].*faas_socket_dir/,
       'a socket directory nginx may enter: no warning');

# a socket directory the workers' user cannot enter: a warning, naming
# the directory at fault, the user and what to do; nginx -t still passes
{
    my $user = $> == 0 ? 'nobody' : scalar getpwuid($>);
    my $closed = $t->dir . '/closed';
    mkdir $closed;
    mkdir "$closed/sock";
    chmod 0755, "$closed/sock";
    chmod 0600, $closed;     # not even its owner, when not root, may enter

    my $conf = $t->read_file('nginx/nginx.conf');
    $t->write_file('nginx/nginx.conf', $conf
        =~ s{faas_socket_dir \S+;}{faas_socket_dir $closed/sock;}r);
    ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'a socket directory the workers cannot enter: nginx -t passes');
    like($out, qr{\[warn\].*faas_socket_dir "\Q$closed\E/sock": "\Q$closed\E" cannot be entered by user "\Q$user\E" \(mode 0600, owner \S+, group \S+\).*give that user search permission on it},
         'and warns, naming the directory, the user and the mode')
        or diag($out);

    chmod 0755, $closed;
    chmod 0600, "$closed/sock";
    ($rc, $out) = $t->nginx_test;
    like($out, qr{\[warn\].*"\Q$closed\E/sock" cannot be entered by user "\Q$user\E" \(mode 0600,.*run faasd with -g, a group of that user},
         'the socket directory itself: faasd -g is the way')
        or diag($out);

    # faasd makes it later: a notice, no warning
    $t->write_file('nginx/nginx.conf', $conf
        =~ s{faas_socket_dir \S+;}{faas_socket_dir $closed/none/sock;}r);
    ($rc, $out) = $t->nginx_test;
    is($rc, 0, 'a socket directory not made yet: nginx -t passes');
    like($out, qr{\[notice\].*faas_socket_dir "\Q$closed\E/none/sock" does not exist yet \("\Q$closed\E/none" is missing\)},
         'with a notice');
    unlike($out, qr/\[warn\]/, 'and no warning');

    $t->write_file('nginx/nginx.conf', $conf);
}

$t->function('bad', 'index.js' => "exports.handler = async (ctx) => { ctx.body = 'good'; };\n");
$t->run(wait => ['good-0']);
is($t->http(GET => '/good')->{status}, 200, 'serving');

$t->write_file('functions/bad/f.yml', "service: x\nfunctions: [\n");
$t->nginx_reload;
like($t->read_file($t->error_log), qr/\[emerg\].*bad\/f\.yml:\d+:\d+/,
     'bad reload logged with the place');
my $r = $t->http(GET => '/good');
is($r->{status}, 200, 'a failed reload keeps serving');
is($r->{body}, 'good', 'the old configuration');

$t->allow_log(qr/\[emerg\].*bad\/f\.yml/);
$t->done;
