# SPDX-License-Identifier: MIT
# Perl: kill of a child it has already reaped, whose PID the reuse helper has
# given to a stranger.  perl perl_stale_kill.pl fork|open|sigchld
# Protocol: see test/helpers/reuse.c (fds 3 and 4).
use strict;
use warnings;
use POSIX ();

my $how = shift // 'fork';
my $pid;
if ($how eq 'fork') {
	$pid = fork() // die "fork: $!";
	POSIX::_exit(0) if $pid == 0;
	waitpid($pid, 0);
} elsif ($how eq 'open') {
	# close() on a piped open waits for the child.
	$pid = open(my $fh, '-|', 'true') // die "open: $!";
	close $fh;
} elsif ($how eq 'sigchld') {
	my $reaped = 0;
	local $SIG{CHLD} = sub { $reaped++ while waitpid(-1, POSIX::WNOHANG()) > 0 };
	$pid = fork() // die "fork: $!";
	POSIX::_exit(0) if $pid == 0;
	select(undef, undef, undef, 0.01) until $reaped;
} else {
	die "unknown mode $how\n";
}
open(my $ctl, '>&=', 3) or die "fd 3: $!";
open(my $reply, '<&=', 4) or die "fd 4: $!";
syswrite $ctl, "freed $pid\n";
my $ready = <$reply>;
my $n = kill 'TERM', $pid;
syswrite $ctl, "result pid=$pid kill_status=" . ($n == 1 ? 0 : 1) . "\n";
exit 0;
