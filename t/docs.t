#!/usr/bin/perl

# Every ```nginx and ```yaml snippet of README.md and docs/*.md runs as
# shown.  An nginx snippet is one of:
#
#   * a whole nginx.conf (it has an http block): nginx -t as it is, but
#     for the module's path, which is the reader's own;
#   * a few main-level lines (load_module...): given an events block;
#   * the content of an http block: put in one;
#   * locations alone: put in a server, where the manifests of
#     /srv/functions are loaded;
#
# the http block also gets temporary paths and an access log of the
# test's own.  Each must pass `nginx -t`.  A yaml snippet with a
# top-level "functions" is an f.yml and must pass `faasd -t`.  Absolute
# paths (/run/ngx_faas, /srv/functions, /var/cache/...) move into the
# test's directory, and listen ports to a free one.  /srv/functions
# holds the functions the docs name: hello and users of examples/,
# recommend and pricing of t/fixtures/docs/.
#
# A snippet that is deliberately not whole (a piece of a larger one, a
# mistake shown as such) is marked by `<!-- snippet: partial -->` on the
# line before its fence, and skipped; any other yaml snippet fails.

use strict;
use warnings;

use Test::More;
use File::Basename qw(basename);
use File::Path qw(make_path);
use FaasTest;

my $TOP = $FaasTest::TOP;
my $t = FaasTest->new;
my $tmp = $t->dir;
my $module = "$FaasTest::BUILD/modules/ngx_http_faas_module.so";

-f $module or BAIL_OUT("no module at $module: make build first");

# /srv/functions of the docs
make_path("$tmp/srv/functions");
for my $src ("$TOP/examples/hello", "$TOP/examples/users",
             glob("$TOP/t/fixtures/docs/*"))
{
    my $name = basename($src);
    system('cp', '-r', $src, "$tmp/srv/functions/$name") == 0
        or BAIL_OUT("cp $src: $?");
}
system('chmod', '-R', 'a+rX', "$tmp/srv") == 0 or BAIL_OUT("chmod: $?");

# the fenced blocks of a markdown file: {lang, text, line, partial,
# section (the heading they are under)}
sub snippets {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my @lines = <$fh>;
    close $fh;

    my (@out, $cur);
    my ($prev, $section) = ('', '');
    for my $i (0 .. $#lines) {
        my $l = $lines[$i];
        if ($cur) {
            if ($l =~ /^```\s*$/) {
                push @out, $cur;
                undef $cur;
            } else {
                $cur->{text} .= $l;
            }
            next;
        }
        if ($l =~ /^```(\w*)\s*$/) {
            my $lang = $1;
            my $partial = $prev =~ /^<!--\s*snippet:\s*partial\s*-->/;
            $cur = { lang => $lang, text => '', line => $i + 1,
                     partial => $partial ? 1 : 0, section => $section };
        }
        $section = $1 if $l =~ /^##+\s+(.*?)\s*$/;
        $prev = $l if $l =~ /\S/;
    }
    return @out;
}

# the names of the top-level directives and blocks of an nginx snippet
sub top_level {
    my ($text) = @_;
    (my $s = $text) =~ s/#[^\n]*//g;
    $s =~ s/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/S/g;
    my ($depth, $start, @names) = (0, 1);
    while ($s =~ /(\{|\}|;|[^\s{};]+)/g) {
        my $tok = $1;
        if ($tok eq '{') { $depth++; $start = 1; next; }
        if ($tok eq '}') { $depth--; $start = 1; next; }
        if ($tok eq ';') { $start = 1; next; }
        push @names, $tok if $start && $depth == 0;
        $start = 0;
    }
    return @names;
}

my %MAIN = map { $_ => 1 } qw(load_module user worker_processes events
                              http pid env worker_rlimit_nofile);

# /run/..., /srv/..., /var/... of a snippet, in the test's directory
sub relocate {
    my ($text) = @_;
    $text =~ s{load_module\s+\S+;}{load_module $module;}g;
    $text =~ s{(?<=[\s"'])/(run|srv|var|etc)/}{$tmp/$1/}g;
    # nginx -t binds: port 80 is neither free nor a non-root user's
    $text =~ s{\blisten\s+[^;\s]+}{'listen 127.0.0.1:' . $t->port}ge;
    return $text;
}

my $http_paths = <<"EOF";
    client_body_temp_path  $tmp/nginx/tmp/body;
    proxy_temp_path        $tmp/nginx/tmp/proxy;
    fastcgi_temp_path      $tmp/nginx/tmp/fastcgi;
    uwsgi_temp_path        $tmp/nginx/tmp/uwsgi;
    scgi_temp_path         $tmp/nginx/tmp/scgi;
    access_log             $tmp/nginx/logs/access.log;
EOF

# the snippet as a whole configuration, or undef and why not
sub nginx_conf {
    my ($text) = @_;
    my @top = top_level($text);
    my $body = relocate($text);

    if (grep { $MAIN{$_} } @top) {
        # a whole nginx.conf shows its events block: nginx needs one; the
        # module's path is the reader's own
        $body = "load_module $module;\n$body"
            unless grep { $_ eq 'load_module' } @top;
        $body .= "\nevents {}\n"
            unless grep { $_ eq 'events' || $_ eq 'http' } @top;
        $body =~ s/^(\s*http\s*\{[^\n]*\n)/$1$http_paths/m;
        return $body;
    }

    # locations alone: a server's, where the docs' functions are loaded
    if (@top && !grep { $_ ne 'location' } @top) {
        $body = "faas_manifest $tmp/srv/functions/*/f.yml;\n"
                . "server {\n    listen 127.0.0.1:" . $t->port
                . ";\n$body\n}\n";
    }

    return "load_module $module;\nevents {}\nhttp {\n$http_paths\n$body\n}\n";
}

make_path("$tmp/nginx/logs", "$tmp/nginx/tmp", "$tmp/run", "$tmp/var/cache",
          "$tmp/var/lib");

my @files = ("$TOP/README.md", sort glob("$TOP/docs/*.md"));
my ($n, $checked, $partial) = (0, 0, 0);

for my $file (@files) {
    my $rel = $file =~ s{^\Q$TOP\E/}{}r;

    for my $s (snippets($file)) {
        next unless $s->{lang} eq 'nginx' || $s->{lang} eq 'yaml';
        my $where = "$rel:$s->{line} ($s->{lang})";

        if ($s->{partial}) {
            $partial++;
            next;
        }

        $n++;

        if ($s->{lang} eq 'nginx') {
            my $conf = $t->write_file("nginx/snippet-$n.conf",
                                      nginx_conf($s->{text}));
            my ($rc, $out, $err) = $t->command(30, $FaasTest::NGINX,
                '-p', "$tmp/nginx/", '-e', "$tmp/nginx/logs/error.log",
                '-c', $conf, '-g', "pid $tmp/nginx/nginx.pid;", '-t');
            is($rc, 0, "$where: nginx -t") or diag($err, "\n", $s->{text});
            $checked++;
            next;
        }

        # yaml: an f.yml, or a piece of one that says so
        if ($s->{text} !~ /^functions:/m) {
            fail("$where: not an f.yml (no top-level \"functions\") and"
                 . " not marked <!-- snippet: partial -->");
            diag($s->{text});
            next;
        }

        # the code beside it, as a user's directory has it: every
        # handler's and initializer's file, so that faasd -t checks it
        my $dir = "$tmp/fyml/$n";
        $t->write_file("$dir/f.yml", relocate($s->{text}));
        my %files = map { $_ => 1 } 'index',   # the default handler's
                    $s->{text} =~ /^\s*(?:handler|initializer):\s*['"]?([\w\/.-]+)\.\w+/mg;
        $t->write_file("$dir/$_.js",
                       "exports.handler = async (ctx) => {};\n")
            for keys %files;
        my ($rc, $out, $err) = $t->command(30, "$FaasTest::BUILD/bin/faasd",
            '-t', '-m', "$dir/f.yml", '-s', "$tmp/run/fyml-sock");
        is($rc, 0, "$where: faasd -t") or diag($err, "\n", $s->{text});
        like($err, qr/faasd: manifests ok/, "$where: faasd says ok");
        $checked++;
    }
}

ok($checked >= 12, "$checked snippets checked, $partial marked partial");

# README's "Deploying through Redis", run as written, as root: nginx's
# workers as www-data, faasd's sockets given to www-data, the table cache
# in a directory of www-data's.  Redis is the test's own, on a free port,
# and faasctl's store is in the test's directory.
sub readme_redis {
    my @s = grep { $_->{section} eq 'Deploying through Redis' }
            snippets("$TOP/README.md");
    my ($conf) = grep { $_->{lang} eq 'nginx' } @s;
    my ($sh) = grep { $_->{lang} eq 'sh' } @s;
    ok($conf && $sh, "README's Redis setup found") or return;

    $t->start_redis(tcp => 1);
    my $redis = 'redis://127.0.0.1:' . $t->port('redis');
    my $readme = sub {
        my $text = relocate($_[0]);
        $text =~ s{redis://127\.0\.0\.1:6379}{$redis}g;
        $text =~ s{(?<![\w/])build/bin/}{$FaasTest::BUILD/bin/}g;
        $text =~ s{(?<![\w/])examples/}{$TOP/examples/}g;
        return $text;
    };

    # faasctl's defaults, redis://127.0.0.1:6379 and /var/lib/ngx_faas/code,
    # moved as README says they may be
    local $ENV{FAAS_REDIS} = $redis;
    local $ENV{FAAS_STORE} = "$tmp/code";
    for my $line (split /\n/, $readme->($sh->{text})) {
        my ($cmd, $comment) = $line =~ /^(.*?)\s*(?:#\s*(.*))?$/;
        next unless $cmd =~ /\S/;
        if ($cmd =~ s/\s*&$//) {
            $t->start_process('faasd', 'sh', '-c', "exec $cmd");
            next;
        }
        my ($rc, $out, $err) = $t->command(60, 'sh', '-c', $cmd);
        is($rc, 0, "README: $cmd") or diag($err, $t->read_file('faasd.out'));
        if (($comment // '') =~ /^prints: (.*)/) {
            is($out, "$1\n", "README: it prints $1");
        }
    }

    $t->write_file('nginx/readme.conf', $readme->(nginx_conf($conf->{text})));
    $t->spawn('nginx', $FaasTest::NGINX, '-p', "$tmp/nginx/",
              '-e', "$tmp/nginx/logs/error.log", '-c', "$tmp/nginx/readme.conf",
              '-g', "daemon off; pid $tmp/nginx/nginx.pid;");
    $t->wait_port($t->port, 10, 'nginx');

    my $r = $t->http(GET => '/api/hello');
    is($r->{status}, 200, 'README: hello answers through nginx');
    is($r->{body}, '{"hello":"world"}', 'README: from the deployed code');

    my $cache = "$tmp/var/cache/ngx_faas/table.json";
    ok($t->wait_for(sub { -s $cache }, 10), 'README: the table is cached');
    is((stat $cache)[4], scalar getpwnam('www-data'),
       "README: by nginx's workers, as www-data");
    unlike($t->read_file($t->error_log), qr/Permission denied/,
           'README: no "Permission denied" in error.log');
}

SKIP: {
    skip "README's Redis setup is run as root", 1 unless $> == 0;
    skip 'no www-data user', 1 unless defined getpwnam('www-data');
    subtest "README's Redis setup, run" => \&readme_redis;
}

$t->done;
