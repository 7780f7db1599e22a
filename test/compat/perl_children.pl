# SPDX-License-Identifier: MIT
# Perl's own process calls: fork, kill, waitpid, open '-|' (Perl forks for it
# itself, as it does for backticks and system: no glibc popen/system here).
# Run with and without libkt; every line must be the same.
use strict;
use warnings;
use POSIX ();
$| = 1;

my $pid = fork() // die "fork: $!";
if ($pid == 0) { sleep 30; POSIX::_exit(0) }
kill 'TERM', $pid;
waitpid($pid, 0);
print "fork, kill TERM: signal ", $? & 127, "\n";

$pid = fork() // die "fork: $!";
if ($pid == 0) { POSIX::_exit(5) }
waitpid($pid, 0);
print "fork, exit 5: status ", $? >> 8, "\n";

$pid = fork() // die "fork: $!";
if ($pid == 0) { sleep 30; POSIX::_exit(0) }
print "kill 0 of a live child: ", kill(0, $pid), "\n";
kill 'KILL', $pid;
print "waitpid: ", (waitpid($pid, 0) == $pid ? "pid" : "other"), ", signal ", $? & 127, "\n";
my $n = kill 0, $pid;
print "kill 0 after the reap: $n (", ($!{ESRCH} ? "ESRCH" : "errno $!"), ")\n";

# A child in a group of its own, killed as a group.
$pid = fork() // die "fork: $!";
if ($pid == 0) { setpgrp(0, 0); sleep 30; POSIX::_exit(0) }
1 until getpgrp($pid) == $pid;
kill 'TERM', -$pid;
waitpid($pid, 0);
print "kill TERM => -pgid: signal ", $? & 127, "\n";

my $fh;
$pid = open($fh, '-|', 'echo', 'from a piped child') // die "open: $!";
my $line = <$fh>;
close $fh;
print "open '-|' LIST: $line";
print "close: status $?\n";

$pid = open($fh, '-|') // die "open: $!";
if ($pid == 0) { print "from a forked writer\n"; POSIX::_exit(0) }
print "open '-|' (fork): ", scalar(<$fh>);
close $fh;

$pid = open($fh, '-|', 'sleep', '30') // die "open: $!";
kill 'TERM', $pid;
close $fh;
print "open '-|', kill TERM, close: signal ", $? & 127, "\n";

# waitpid(-1, WNOHANG) in a SIGCHLD handler, the event-loop way.
my %done;
local $SIG{CHLD} = sub {
	while ((my $k = waitpid(-1, POSIX::WNOHANG())) > 0) { $done{$k} = $? >> 8 }
};
my @kids;
for my $i (1 .. 3) {
	my $k = fork() // die "fork: $!";
	if ($k == 0) { POSIX::_exit($i) }
	push @kids, $k;
}
sleep 1 while grep { !exists $done{$_} } @kids;
print "SIGCHLD handler reaped: ", join(",", map { $done{$_} } @kids), "\n";
$SIG{CHLD} = 'DEFAULT';

print "backticks: ", `echo hello`;
system('/bin/sh', '-c', 'exit 3');
print "system: status ", $? >> 8, "\n";
exit 0;
