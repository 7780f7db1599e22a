# SPDX-License-Identifier: MIT
# Perl: a forked watchdog kills its sibling worker after a delay; the worker
# ended and was reaped first (see tree_idiom.sh for the protocol).
use strict;
use warnings;
$| = 1;
my $p = fork() // die "fork: $!";
if ($p == 0) { select(undef, undef, undef, 0.3); exit 0; }
my $w = fork() // die "fork: $!";
if ($w == 0) {
	sleep 1;
	my $n = kill 'TERM', $p;
	print "kill_status=", ($n ? 0 : 1), "\n";
	exit 0;
}
waitpid($p, 0);
open(my $out, '>&=', 3) or die "fd 3: $!";
print $out "$p\n";
close $out;
open(my $in, '<&=', 4) or die "fd 4: $!";
my $ok = <$in>;
waitpid($w, 0);
