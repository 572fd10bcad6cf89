#!/usr/bin/perl

# The nginx glue's calls go one way: no file of ngx_faas_module/ calls
# into a file that calls it back, each file declares what it offers in a
# header of its own, and the call table of docs/architecture.md is the
# code's.  Read from the sources; nothing runs.

use strict;
use warnings;

use File::Basename qw(basename dirname);
use Test::More;

my $top = dirname(__FILE__) . '/..';
my $glue = "$top/ngx_faas_module";

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or die "$path: $!";
    local $/;
    return <$fh>;
}

# the source with comments and strings blanked, so that neither names a
# function it does not call
sub code_of {
    my ($text) = @_;
    $text =~ s{/\*.*?\*/}{ }gs;
    $text =~ s{"(?:\\.|[^"\\])*"}{""}g;
    return $text;
}

my (%code, %defined_in);

for my $path (sort glob("$glue/*.c")) {
    my $file = basename($path, '.c');
    $file =~ s/^ngx_http_faas_//;
    $code{$file} = code_of(slurp($path));

    # nginx style: the type on its own line, the name at the line's start
    while ($code{$file} =~ /^(ngx_http_faas_\w+)\(/mg) {
        my $name = $1;
        next if $code{$file} =~ /^static\b[^;{]*\b\Q$name\E\s*\(/m;
        $defined_in{$name} = $file;
    }
}

ok(keys %code >= 10, scalar(keys %code) . ' glue files read');

my %calls;

for my $file (keys %code) {
    for my $name (keys %defined_in) {
        my $callee = $defined_in{$name};
        next if $callee eq $file;
        $calls{$file}{$callee} = 1 if $code{$file} =~ /\b\Q$name\E\b/;
    }
}

# no file reaches itself through the others
sub reaches {
    my ($from, $to, $seen) = @_;
    for my $next (keys %{$calls{$from} // {}}) {
        return 1 if $next eq $to;
        next if $seen->{$next}++;
        return 1 if reaches($next, $to, $seen);
    }
    return 0;
}

my @cycles = grep { reaches($_, $_, {}) } sort keys %code;
is("@cycles", '', 'no glue file calls into a file that calls it back');

# a header of its own for every file that offers something
for my $file (sort keys %code) {
    next unless grep { $defined_in{$_} eq $file } keys %defined_in;
    next if $file eq 'module';
    ok(-f "$glue/ngx_http_faas_$file.h", "ngx_http_faas_$file.h declares"
       . " what ngx_http_faas_$file.c offers");
}

# docs/architecture.md: | `file` | `callee`, `callee` ... |
my %documented;
for (split /\n/, slurp("$top/docs/architecture.md")) {
    next unless /^\|\s*((?:`\w+`(?:,\s*)?)+)\s*\|\s*(.*?)\s*\|\s*$/;
    my ($files, $callees) = ($1, $2);
    my @callees = $callees =~ /`(\w+)`/g;
    $documented{$_} = { map { $_ => 1 } @callees } for $files =~ /`(\w+)`/g;
}

for my $file (sort keys %code) {
    is(join(' ', sort keys %{$calls{$file} // {}}),
       join(' ', sort keys %{$documented{$file} // {}}),
       "docs/architecture.md: what $file calls into");
}

done_testing();
